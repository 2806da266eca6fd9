// PostgreSQL or Redis down: reads and webhooks answer 503 unavailable (retry later), never 500.
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { signFeedBody } from '../api/webhooks/signed-feed.js';
import { freePort } from '../scripts/services/process.js';
import { ADMIN_KEY, auth, createHarness, WEBHOOK_SECRET, type Harness } from './support/harness.js';

let h: Harness;
let app: ReturnType<typeof createApp>;
let pool: pg.Pool;
let redis: Redis;

beforeAll(async () => {
  h = await createHarness({ noWorker: true });
  const closed = await freePort(); // nothing listens there
  pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${closed}/x`, connectionTimeoutMillis: 500 });
  redis = new Redis(`redis://127.0.0.1:${closed}`, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => undefined);
  app = createApp({
    gateway: h.gateway,
    stores: { pool, redis },
    auth,
    webhooks: { twilioAuthToken: 't', secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
    rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
    checks: {},
  });
});
afterAll(async () => {
  redis.disconnect();
  await Promise.allSettled([pool.end(), h?.close()]);
});

it('answers 503 unavailable when the stores are down', async () => {
  const headers = { authorization: `Bearer ${ADMIN_KEY}` };
  for (const path of ['/v1/calls/some-call', '/v1/calls/some-call/turns', '/v1/calls', '/v1/stats']) {
    const res = await app.request(path, { headers });
    expect(res.status, path).toBe(503);
    expect((await res.json()).error.code).toBe('unavailable');
  }
  const body = JSON.stringify({ eventId: 'e1', type: 'call.turn', callId: 'some-call', data: { role: 'user', text: 'hi' } });
  const res = await app.request('/v1/webhooks/events', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) } });
  expect(res.status).toBe(503);
});
