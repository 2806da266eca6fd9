// Fixed-window request counters in Redis, per principal and per client IP. Runs after authenticate.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { AuthEnv, Principal } from './auth.js';
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

/** The first X-Forwarded-For hop (set by the proxy in front), else the socket's address. */
export function clientIp(c: Context): string {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded) return forwarded.slice(0, 64);
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}

const principalKey = (p: Principal) => (p.kind === 'admin' ? 'admin' : `caller:${p.number}`);

export function rateLimit(settings: RateLimitSettings, redis: Redis): MiddlewareHandler<AuthEnv> {
  const windowMs = settings.windowSeconds * 1000;
  return async function rateLimit(c, next) {
    const window = Math.floor(Date.now() / windowMs);
    const limits: [key: string, limit: number][] = [];
    if (settings.perCaller > 0) limits.push([`ratelimit:${principalKey(c.get('principal'))}:${window}`, settings.perCaller]);
    if (settings.perIp > 0) limits.push([`ratelimit:ip:${clientIp(c)}:${window}`, settings.perIp]);
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
