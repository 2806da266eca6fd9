// Who is calling: operators with the admin key, chat clients with a JWT naming their caller number.
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { jwtVerify, SignJWT } from 'jose';
import { ApiError } from './errors.js';

export type Principal = { kind: 'admin' } | { kind: 'caller'; number: string };
export type AuthEnv = { Variables: { principal: Principal; formToken?: string } };

export interface AuthSettings {
  adminKey: string;
  jwtSecret: string;
  tokenTtlSeconds: number;
}

const ISSUER = 'callwright';

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sets `principal` from the bearer credential; every route behind it needs one. */
export function authenticate(settings: AuthSettings): MiddlewareHandler<AuthEnv> {
  const key = new TextEncoder().encode(settings.jwtSecret);
  return async function authenticate(c, next) {
    const header = c.req.header('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? c.get('formToken');
    if (!token) throw new ApiError('unauthorized', 'missing bearer token');
    if (safeEqual(token, settings.adminKey)) {
      c.set('principal', { kind: 'admin' });
    } else {
      try {
        // Only HS256 is accepted: `alg: none` and algorithm swaps fail verification.
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER });
        if (!payload.sub) throw new Error('no subject');
        c.set('principal', { kind: 'caller', number: payload.sub });
      } catch {
        throw new ApiError('unauthorized', 'invalid or expired token');
      }
    }
    await next();
  };
}

/**
 * RFC 6750's form-encoded body parameter: `access_token` in an application/x-www-form-urlencoded body,
 * for a client that cannot set headers (a closing page's `navigator.sendBeacon`). Mounted on the drop
 * route only, before authenticate; a token in the URL instead would end up in access logs.
 */
export const formBodyToken: MiddlewareHandler<AuthEnv> = async function formBodyToken(c, next) {
  if (!c.req.header('authorization') && /^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? '')) {
    const token = (await c.req.parseBody()).access_token;
    if (typeof token === 'string') c.set('formToken', token);
  }
  await next();
};

export const requireAdmin: MiddlewareHandler<AuthEnv> = async function requireAdmin(c, next) {
  if (c.get('principal').kind !== 'admin') throw new ApiError('forbidden', 'operator access only');
  await next();
};

/** Callers reach only their own calls; operators reach all. */
export function assertOwner(principal: Principal, from: string): void {
  if (principal.kind === 'caller' && principal.number !== from) throw new ApiError('forbidden', 'this call belongs to another caller');
}

export async function mintToken(settings: AuthSettings, subject: string, now = Date.now()) {
  const exp = Math.floor(now / 1000) + settings.tokenTtlSeconds;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(settings.jwtSecret));
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}
