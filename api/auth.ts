// Who is calling: the platform key, an account's API key, or a chat client's JWT naming its account and caller number.
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { jwtVerify, SignJWT } from 'jose';
import type { KeyRole } from '../store/accounts.js';
import { DEFAULT_ACCOUNT, EVERY_ACCOUNT, type Scope } from '../store/scope.js';
import type { Grants } from './grants.js';
import { ApiError } from './errors.js';

export type Principal =
  /** ADMIN_API_KEY: manages accounts and reaches every one. */
  | { kind: 'platform' }
  | { kind: 'key'; accountId: string; role: KeyRole; keyId: string }
  | { kind: 'caller'; accountId: string; number: string };
export type AuthEnv = { Variables: { principal: Principal; formToken?: string } };

export interface AuthSettings {
  adminKey: string;
  jwtSecret: string;
  tokenTtlSeconds: number;
}

const ISSUER = 'callwright';
/** API keys begin so; anything else presented is a chat token. */
export const KEY_PREFIX = 'cwk_';

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sets `principal` from the bearer credential; every route behind it needs one. */
export function authenticate(settings: AuthSettings, grants: Grants): MiddlewareHandler<AuthEnv> {
  const key = new TextEncoder().encode(settings.jwtSecret);
  return async function authenticate(c, next) {
    const header = c.req.header('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? c.get('formToken');
    if (!token) throw new ApiError('unauthorized', 'missing bearer token');
    if (safeEqual(token, settings.adminKey)) {
      c.set('principal', { kind: 'platform' });
    } else if (token.startsWith(KEY_PREFIX)) {
      const grant = await grants.key(token);
      if (!grant || grant.revoked) throw new ApiError('unauthorized', 'invalid or revoked key');
      if (grant.accountStatus !== 'active') throw new ApiError('account_suspended', `account ${grant.accountId} is suspended`);
      c.set('principal', { kind: 'key', accountId: grant.accountId, role: grant.role, keyId: grant.keyId });
    } else {
      let principal: Principal;
      try {
        // Only HS256 is accepted: `alg: none` and algorithm swaps fail verification.
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER });
        if (!payload.sub) throw new Error('no subject');
        // Tokens minted before accounts name none: they are the default account's.
        const accountId = typeof payload.acc === 'string' ? payload.acc : DEFAULT_ACCOUNT;
        principal = { kind: 'caller', accountId, number: payload.sub };
      } catch {
        throw new ApiError('unauthorized', 'invalid or expired token');
      }
      const status = await grants.accountStatus(principal.accountId);
      if (status === null) throw new ApiError('unauthorized', 'invalid or expired token');
      if (status !== 'active') throw new ApiError('account_suspended', `account ${principal.accountId} is suspended`);
      c.set('principal', principal);
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

/** Viewer keys read and never write: every method but GET and HEAD is refused to them. */
export const viewersRead: MiddlewareHandler<AuthEnv> = async function viewersRead(c, next) {
  const p = c.get('principal');
  if (p.kind === 'key' && p.role === 'viewer' && c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    throw new ApiError('forbidden', 'a viewer key only reads');
  }
  await next();
};

/** Operators' routes: keys (the platform's or an account's), never chat clients. */
export const requireOperator: MiddlewareHandler<AuthEnv> = async function requireOperator(c, next) {
  if (c.get('principal').kind === 'caller') throw new ApiError('forbidden', 'operator access only');
  await next();
};

export const requirePlatform: MiddlewareHandler<AuthEnv> = async function requirePlatform(c, next) {
  if (c.get('principal').kind !== 'platform') throw new ApiError('forbidden', 'the platform key only');
  await next();
};

/** Whose rows the principal reaches. */
export const scopeOf = (p: Principal): Scope => (p.kind === 'platform' ? EVERY_ACCOUNT : { accountId: p.accountId });

/**
 * The account a principal acts in: its own; for the platform key, the one it names (`?accountId=` or the
 * body's `accountId`), else `default`. Naming another account than one's own reads as a missing one.
 */
export function actingAccount(p: Principal, named?: string): string {
  if (p.kind === 'platform') return named ?? DEFAULT_ACCOUNT;
  if (named !== undefined && named !== p.accountId) throw new ApiError('not_found', `no account ${named}`);
  return p.accountId;
}

/** Callers reach only their own calls; keys reach their account's (the scope has already been applied). */
export function assertOwner(principal: Principal, from: string): void {
  if (principal.kind === 'caller' && principal.number !== from) throw new ApiError('forbidden', 'this call belongs to another caller');
}

export async function mintToken(settings: AuthSettings, subject: string, accountId: string, now = Date.now()) {
  const exp = Math.floor(now / 1000) + settings.tokenTtlSeconds;
  const token = await new SignJWT({ acc: accountId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(settings.jwtSecret));
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}
