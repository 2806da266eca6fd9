// PostgreSQL, Redis or Temporal down, or a call that does not answer: 503 with a code that says which, never 500.
import { Redis } from 'ioredis';
import pg from 'pg';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CallGateway } from '../api/call-gateway.js';
import { createApp } from '../api/app.js';
import { signFeedBody } from '../common/feed-signature.js';
import { freePort } from '../scripts/services/process.js';
import { ADMIN_KEY, auth, createHarness, newCallId, WEBHOOK_SECRET, type Harness } from './support/harness.js';

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
  const res = await app.request('/v1/webhooks/events', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) },
  });
  expect(res.status).toBe(503);
});

it('Redis down alone: reads and the event feed are answered from PostgreSQL', async () => {
  const id = newCallId();
  await h.gateway.signalWithStart(
    {
      callId: id,
      channel: 'voice',
      direction: 'inbound',
      from: '+15550001211',
      to: null,
      provider: null,
      answered: true,
      metadata: {},
      key: `start:${id}`,
    },
    { type: 'answered', key: 'a' },
  );
  await h.pool.query(
    `INSERT INTO calls (call_id, workflow_id, channel, direction, from_number, status, started_at, version) VALUES ($1, $2, 'voice', 'inbound', '+15550001211', 'active', now(), 1)`,
    [id, `call-${id}`],
  );
  const cacheless = createApp({
    gateway: h.gateway,
    stores: { pool: h.pool, redis },
    auth,
    webhooks: { twilioAuthToken: 't', secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
    rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
    checks: {},
  });
  const view = await cacheless.request(`/v1/calls/${id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(view.status).toBe(200);
  expect((await view.json()).status).toBe('active');
  const body = JSON.stringify({ eventId: `${id}-t1`, type: 'call.turn', callId: id, data: { role: 'user', text: 'hi' } });
  const res = await cacheless.request('/v1/webhooks/events', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) },
  });
  expect(res.status).toBe(202);
  await h.handle(id).terminate('test over');
});

describe('503s that say why', () => {
  const appWith = (gateway: CallGateway) =>
    createApp({
      gateway,
      stores: { pool: h.pool, redis: h.redis },
      auth,
      webhooks: { twilioAuthToken: 't', secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
      rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
      checks: {},
    });
  const post = (app: ReturnType<typeof createApp>, path: string, body: object) =>
    app.request(`/v1${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    });
  const counted = async (app: ReturnType<typeof createApp>, code: string) =>
    Number(
      new RegExp(`callwright_http_unavailable_total\\{code="${code}"\\} (\\d+)`).exec(await (await app.request('/metrics')).text())?.[1] ??
        0,
    );

  it('Temporal gone: 503 temporal_unavailable naming the call, counted in /metrics', async () => {
    // The API's own kind of connection, through a proxy that then drops every connection and refuses new ones.
    const target = inject('temporalAddress').split(':');
    const sockets = new Set<Socket>();
    const proxy = createServer((socket) => {
      const upstream = connect(Number(target[1]), target[0]);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const connection = await NativeConnection.connect({ address: `127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    proxy.close();
    for (const s of sockets) s.destroy();
    const app = appWith(new CallGateway(new Client({ connection }), { taskQueue: h.taskQueue, call: h.callConfig }, async () => false));
    const callId = newCallId();
    const res = await post(app, '/calls', { callId, channel: 'chat', from: '+15550001212' });
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({ code: 'temporal_unavailable', details: { callId } });
    expect(await counted(app, 'temporal_unavailable')).toBe(1);
    await connection.close();
  });

  it('a call that does not answer in time (no worker): 503 timeout naming the call', async () => {
    const app = appWith(
      new CallGateway(h.client, { taskQueue: h.taskQueue, call: h.callConfig, updateTimeoutMs: 1_500 }, async () => true),
    );
    const callId = newCallId();
    await h.client.workflow.start('callWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `call-${callId}`,
      args: [
        {
          start: {
            callId,
            channel: 'chat',
            direction: 'inbound',
            from: '+15550001213',
            to: null,
            provider: null,
            answered: true,
            metadata: {},
            key: `start:${callId}`,
          },
          config: h.callConfig,
        },
      ],
    });
    const res = await post(app, `/calls/${callId}/drop`, {});
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({ code: 'timeout', details: { callId } });
    expect(await counted(app, 'timeout')).toBe(1);
    await h.handle(callId).terminate('test over');
  });
});
