// Fixed-window request counters in Redis, per caller and per client IP. Runs after authenticate; the
// operators' key is not limited (dashboards and scripts poll with it), callers and addresses are.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { AuthEnv } from './auth.js';
import { clientAddress, TRUST_NONE, type TrustProxy } from './client-ip.js';
import type { RateLimitSettings } from './deps.js';
import { ApiError } from './errors.js';

// Counts every key in one round trip; a key expires with its window.
const HIT = `
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return counts`;

/** The client's address: the socket's peer, or what trusted proxies say in X-Forwarded-For. */
export function clientIp(c: Context, trust: TrustProxy = TRUST_NONE): string {
  let socket: string | undefined;
  try {
    socket = getConnInfo(c).remote.address;
  } catch {
    socket = undefined; // app.request() in tests has no socket
  }
  return clientAddress(socket, c.req.header('x-forwarded-for'), trust);
}

export function rateLimit(settings: RateLimitSettings, redis: Redis): MiddlewareHandler<AuthEnv> {
  const windowMs = settings.windowSeconds * 1000;
  return async function rateLimit(c, next) {
    const principal = c.get('principal');
    // Keys are the operators' own tools; only chat clients (callers) are limited.
    if (principal.kind !== 'caller') return next();
    const window = Math.floor(Date.now() / windowMs);
    const limits: [key: string, limit: number][] = [];
    if (settings.perCaller > 0) limits.push([`ratelimit:caller:${principal.accountId}:${principal.number}:${window}`, settings.perCaller]);
    if (settings.perIp > 0) limits.push([`ratelimit:ip:${clientIp(c, settings.trustProxy)}:${window}`, settings.perIp]);
    if (limits.length === 0) return next();
    let counts: number[];
    try {
      counts = (await redis.eval(HIT, limits.length, ...limits.map(([key]) => key), windowMs)) as number[];
    } catch (err) {
      // Redis holds no record: while it is down, serve rather than refuse everyone.
      console.warn('rate limit skipped: redis unavailable', (err as Error).message);
      return next();
    }
    if (limits.some(([, limit], i) => counts[i]! > limit)) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - Date.now()) / 1000));
      throw new ApiError('rate_limited', `too many requests; retry in ${retryAfter}s`, undefined, { 'Retry-After': String(retryAfter) });
    }
    return next();
  };
}
