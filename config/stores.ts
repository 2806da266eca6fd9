// The PostgreSQL pool and Redis client of a long-running process. A restart or failover of either must
// cost retried work, not the process: `pg.Pool` emits 'error' when the server ends an idle connection, and
// an unhandled 'error' event would exit Node. Each outage is logged once, and its end once.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';

export interface ProcessStores {
  pool: pg.Pool;
  redis: Redis;
}

export function openStores(urls: { databaseUrl: string; redisUrl: string }, logger: Logger, poolSize = 10): ProcessStores {
  const pool = new pg.Pool({ connectionString: urls.databaseUrl, max: poolSize });
  // Idle clients only: a query's own error reaches its caller. The pool drops the broken client itself.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres connection lost; the pool reconnects on next use'));
  // Commands fail fast while Redis is down (callers fall back to PostgreSQL); ioredis reconnects by itself.
  const redis = new Redis(urls.redisUrl, { maxRetriesPerRequest: 2 });
  let down = false;
  redis.on('error', (err) => {
    if (down) return;
    down = true;
    logger.warn({ err: err.message }, 'redis unavailable; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('redis reconnected');
  });
  return { pool, redis };
}
