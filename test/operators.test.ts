// Operator views: the call list (filters, keyset paging) and the statistics, exact against seeded rows in a
// private database and end to end through the API; then the liveness and readiness probes.
import { randomInt, randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp } from '../api/app.js';
import type { ApiDeps } from '../api/deps.js';
import { CallViewSchema, StatsSchema } from '../api/schemas.js';
import { migrate } from '../db/migrate.js';
import { expectEverywhere } from './support/assertions.js';
import {
  ADMIN_KEY,
  auth,
  createHarness,
  eventually,
  newCallId,
  PUBLIC_BASE_URL,
  TWILIO_TOKEN,
  WEBHOOK_SECRET,
  type Harness,
} from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

/** The harness's dependencies, for building an app with one of them replaced. */
const depsOf = (x: Harness): ApiDeps => ({
  gateway: x.gateway,
  stores: { pool: x.pool, redis: x.redis },
  auth,
  webhooks: { twilioAuthToken: TWILIO_TOKEN, publicBaseUrl: PUBLIC_BASE_URL, secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
  rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
  checks: {
    temporal: () => (x.client.connection as Connection).healthService.check({}),
    postgres: () => x.pool.query('SELECT 1'),
    redis: () => x.redis.ping(),
  },
});

const DAY = 86_400_000;
const HOUR = 3_600_000;

describe('seeded: exact answers', () => {
  const dbName = `ops_${randomUUID().replaceAll('-', '')}`;
  let admin: pg.Client;
  let pool: pg.Pool;
  let app: ReturnType<typeof createApp>;
  const today = Math.floor(Date.now() / DAY) * DAY;
  const at = (days: number, hours: number, extra = '') =>
    new Date(today - days * DAY + hours * HOUR).toISOString().replace('.000Z', `${extra || '.000'}Z`);
  const [A, B, C] = ['+15550100001', '+15550100002', '+15550100003'];

  type Seed = {
    id: string;
    channel: 'voice' | 'chat';
    from: string;
    status: string;
    disposition?: string;
    startedAt: string;
    seconds?: number;
    turns?: number;
    drops?: number;
    resumes?: number;
  };
  const tie = at(2, 1, '.123456');
  const seeds: Seed[] = [
    { id: 'c01', channel: 'chat', from: A, status: 'active', startedAt: at(0, 1), turns: 4 },
    { id: 'c02', channel: 'voice', from: B, status: 'ringing', startedAt: at(0, 2) },
    { id: 'c03', channel: 'chat', from: A, status: 'dropped', startedAt: at(1, 3), turns: 2, drops: 1 },
    { id: 'c04', channel: 'voice', from: B, status: 'ended', disposition: 'completed', startedAt: at(1, 4), seconds: 60, turns: 6 },
    { id: 'c05', channel: 'chat', from: C, status: 'ended', disposition: 'abandoned', startedAt: tie, seconds: 600, turns: 2, drops: 1 },
    {
      id: 'c06',
      channel: 'voice',
      from: C,
      status: 'ended',
      disposition: 'completed',
      startedAt: tie,
      seconds: 120,
      turns: 10,
      drops: 2,
      resumes: 2,
    },
    { id: 'c07', channel: 'chat', from: B, status: 'ended', disposition: 'timeout', startedAt: at(6, 5), seconds: 1800, turns: 1 },
    { id: 'c08', channel: 'voice', from: C, status: 'ended', disposition: 'no_answer', startedAt: at(8, 0), seconds: 30 },
    { id: 'c09', channel: 'chat', from: C, status: 'active', startedAt: at(10, 0), turns: 3 },
    {
      id: 'c10',
      channel: 'voice',
      from: A,
      status: 'ended',
      disposition: 'completed',
      startedAt: at(3, 0),
      seconds: 300,
      turns: 4,
      drops: 1,
      resumes: 1,
    },
  ];
  const newestFirst = ['c02', 'c01', 'c04', 'c03', 'c06', 'c05', 'c10', 'c07', 'c08', 'c09'];

  const get = async (path: string) => {
    const res = await app.request(`/v1${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    return { status: res.status, body: await res.json() };
  };
  const ids = (body: { calls: { callId: string }[] }) => body.calls.map((c) => c.callId);
  async function pages(query: string, limit: number): Promise<string[][]> {
    const out: string[][] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/calls?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      out.push(ids(res.body));
      cursor = res.body.nextCursor;
    } while (cursor && out.length < 20);
    return out;
  }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject('databaseUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(inject('databaseUrl'));
    url.pathname = `/${dbName}`;
    await migrate(url.toString());
    pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    // DROP DATABASE ... WITH (FORCE) below ends any connection still open: that is not a failure of the test.
    pool.on('error', () => undefined);
    app = createApp({ ...depsOf(h), stores: { pool, redis: h.redis } });
  });
  afterAll(async () => {
    await pool?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
  });

  it('stats of an empty database: zeros, nulls and seven empty days', async () => {
    const res = await get('/stats');
    expect(res.status).toBe(200);
    expect(StatsSchema.parse(res.body)).toBeTruthy();
    expect(res.body).toMatchObject({
      active: 0,
      ringing: 0,
      droppedNow: 0,
      resumeRate: null,
      abandonRate: null,
      avgDurationSeconds: null,
      p95DurationSeconds: null,
      avgTurnsPerCall: null,
    });
    expect(res.body.callsPerDay).toHaveLength(7);
    expect(res.body.callsPerDay.every((d: { total: number }) => d.total === 0)).toBe(true);
    expect((await get('/calls')).body).toEqual({ calls: [], nextCursor: null });
  });

  describe('with rows', () => {
    beforeAll(async () => {
      for (const s of seeds) {
        const ended = s.seconds === undefined ? null : new Date(Date.parse(s.startedAt) + s.seconds * 1000).toISOString();
        await pool.query(
          `INSERT INTO calls (call_id, workflow_id, channel, direction, from_number, status, disposition, started_at, ended_at, turn_count, drop_count, resume_count)
           VALUES ($1, $2, $3, 'inbound', $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            s.id,
            `call-${s.id}`,
            s.channel,
            s.from,
            s.status,
            s.disposition ?? null,
            s.startedAt,
            ended,
            s.turns ?? 0,
            s.drops ?? 0,
            s.resumes ?? 0,
          ],
        );
      }
    });

    it('lists newest first; every page size walks every call once, across a tie in started_at', async () => {
      const all = await get('/calls');
      expect(ids(all.body)).toEqual(newestFirst);
      expect(all.body.nextCursor).toBeNull();
      for (const call of all.body.calls) CallViewSchema.parse(call);
      expect(all.body.calls[0]).toMatchObject({
        callId: 'c02',
        status: 'ringing',
        channel: 'voice',
        from: B,
        startedAt: seeds[1]!.startedAt,
        endedAt: null,
      });
      for (const limit of [1, 3, 5, 9, 10]) {
        const walked = await pages('', limit);
        expect(walked.flat(), `limit ${limit}`).toEqual(newestFirst);
        expect(walked.every((p) => p.length <= limit)).toBe(true);
        expect(walked).toHaveLength(Math.ceil(newestFirst.length / limit));
      }
      // c06 and c05 share a microsecond timestamp: the cursor keeps the microseconds and breaks the tie by call_id.
      expect((await pages('', 5))[0]).toEqual(['c02', 'c01', 'c04', 'c03', 'c06']);
    });

    it('filters by status, channel, caller and time, alone and together, and pages within them', async () => {
      const expectIds = async (query: string, expected: string[]) => expect((await pages(query, 2)).flat(), query).toEqual(expected);
      await expectIds('status=ended', ['c04', 'c06', 'c05', 'c10', 'c07', 'c08']);
      await expectIds('channel=chat', ['c01', 'c03', 'c05', 'c07', 'c09']);
      await expectIds(`from=${encodeURIComponent(A)}`, ['c01', 'c03', 'c10']);
      await expectIds(`since=${encodeURIComponent(at(2, 0))}&until=${encodeURIComponent(at(0, 0))}`, ['c04', 'c03', 'c06', 'c05']);
      await expectIds(`since=${encodeURIComponent(tie)}`, ['c02', 'c01', 'c04', 'c03', 'c06', 'c05']);
      await expectIds(`until=${encodeURIComponent(tie)}`, ['c10', 'c07', 'c08', 'c09']);
      await expectIds('status=ended&channel=voice', ['c04', 'c06', 'c10', 'c08']);
      await expectIds(`status=active&from=${encodeURIComponent(C)}`, ['c09']);
      await expectIds('status=dropped&channel=voice', []);
    });

    it('stats: live counts now; rates, durations and turns over the window', async () => {
      const res = await get('/stats');
      expect(res.status).toBe(200);
      StatsSchema.parse(res.body);
      const day = (d: number) => new Date(today - d * DAY).toISOString().slice(0, 10);
      const { platform, ...stats } = res.body;
      // The platform key also sees each account: these calls are all the default account's.
      expect(platform.accounts).toEqual([
        { accountId: 'default', name: 'Default', status: 'active', active: 2, ringing: 1, droppedNow: 1, calls: 8 },
      ]);
      expect(platform.accountsByStatus).toEqual({ active: 1, suspended: 0 });
      expect(stats).toEqual({
        active: 2, // c01, and c09 though it started before the window
        ringing: 1,
        droppedNow: 1,
        resumeRate: 0.75, // 3 resumes / (5 drops - 1 still waiting)
        abandonRate: 0.2, // 1 abandoned / 5 ended
        avgDurationSeconds: 576, // (60 + 600 + 120 + 1800 + 300) / 5
        p95DurationSeconds: 1560, // 600 + 0.8 * (1800 - 600)
        avgTurnsPerCall: 3.625, // 29 / 8
        callsPerDay: [
          { day: day(6), voice: 0, chat: 1, total: 1 },
          { day: day(5), voice: 0, chat: 0, total: 0 },
          { day: day(4), voice: 0, chat: 0, total: 0 },
          { day: day(3), voice: 1, chat: 0, total: 1 },
          { day: day(2), voice: 1, chat: 1, total: 2 },
          { day: day(1), voice: 1, chat: 1, total: 2 },
          { day: day(0), voice: 1, chat: 1, total: 2 },
        ],
        byChannel: {
          voice: { calls: 4, active: 0, droppedNow: 0, avgDurationSeconds: 160 },
          chat: { calls: 4, active: 2, droppedNow: 1, avgDurationSeconds: 1200 },
        },
        window: { since: new Date(today - 6 * DAY).toISOString(), until: new Date(today + DAY).toISOString(), days: 7 },
      });
    });

    it('stats over a shorter window', async () => {
      const res = await get('/stats?days=2');
      expect(res.body).toMatchObject({
        active: 2,
        ringing: 1,
        droppedNow: 1,
        resumeRate: null, // the only drop in the window is still waiting
        abandonRate: 0,
        avgDurationSeconds: 60,
        p95DurationSeconds: 60,
        avgTurnsPerCall: 3,
        window: { days: 2 },
      });
      expect(res.body.callsPerDay.map((d: { total: number }) => d.total)).toEqual([2, 2]);
    });

    it('the list and stats queries use the indexes', async () => {
      await pool.query('ANALYZE calls');
      const plan = async (sql: string, params: unknown[]) => {
        await pool.query('SET enable_seqscan = off');
        try {
          return JSON.stringify((await pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, params)).rows);
        } finally {
          await pool.query('SET enable_seqscan = on');
        }
      };
      const keyset = `(started_at, call_id) < ($2::timestamptz, $3)`;
      expect(
        await plan(`SELECT * FROM calls WHERE status = $1 AND ${keyset} ORDER BY started_at DESC, call_id DESC LIMIT 51`, [
          'ended',
          tie,
          'c06',
        ]),
      ).toContain('calls_status_keyset_idx');
      expect(
        await plan(`SELECT * FROM calls WHERE from_number = $1 AND ${keyset} ORDER BY started_at DESC, call_id DESC LIMIT 51`, [
          A,
          tie,
          'c06',
        ]),
      ).toContain('calls_from_keyset_idx');
      expect(
        await plan(`SELECT * FROM calls WHERE $1::text IS NOT NULL AND ${keyset} ORDER BY started_at DESC, call_id DESC LIMIT 51`, [
          'x',
          tie,
          'c06',
        ]),
      ).toContain('calls_started_idx');
    });
  });
});

describe('through the API', () => {
  it('GET /v1/calls is the list, GET /v1/calls/{id} the view, POST /v1/calls the start', async () => {
    const from = `+1666${randomInt(1_000_000, 9_999_999)}`;
    const [ringing, active, ended] = [newCallId(), newCallId(), newCallId()];
    expect((await h.request('POST', '/calls', { callId: ringing, channel: 'voice', from })).status).toBe(201);
    expect((await h.request('POST', '/calls', { callId: active, channel: 'chat', from })).status).toBe(201);
    expect((await h.request('POST', '/calls', { callId: ended, channel: 'chat', from })).status).toBe(201);
    await h.request('POST', `/calls/${active}/messages`, { text: 'hello' });
    await h.request('POST', `/calls/${ended}/end`, {});
    await expectEverywhere(h, ended, { status: 'ended' });
    await expectEverywhere(h, active, { turnCount: 2 });

    const list = await eventually(async () => {
      const res = await h.request('GET', `/calls?from=${encodeURIComponent(from)}`);
      expect(res.status).toBe(200);
      expect(res.body.calls.map((c: { callId: string; status: string }) => [c.callId, c.status]).sort()).toEqual(
        [
          [ringing, 'ringing'],
          [active, 'active'],
          [ended, 'ended'],
        ].sort(),
      );
      return res.body;
    });
    expect(list.nextCursor).toBeNull();
    expect(list.calls.find((c: { callId: string }) => c.callId === active)).toMatchObject({ channel: 'chat', turnCount: 2, from });
    expect(
      (await h.request('GET', `/calls?from=${encodeURIComponent(from)}&status=ringing`)).body.calls.map(
        (c: { callId: string }) => c.callId,
      ),
    ).toEqual([ringing]);
    expect((await h.request('GET', `/calls?from=${encodeURIComponent(from)}&channel=chat&limit=1`)).body.nextCursor).not.toBeNull();
    expect((await h.request('GET', `/calls/${active}`)).body).toMatchObject({ callId: active, status: 'active' });
  });

  it('GET /v1/stats answers from the live database', async () => {
    const res = await h.request('GET', '/stats');
    expect(res.status).toBe(200);
    StatsSchema.parse(res.body);
    expect(res.body.active).toBeGreaterThanOrEqual(1);
    expect(res.body.callsPerDay.at(-1).day).toBe(new Date().toISOString().slice(0, 10));
  });
});

describe('health and readiness', () => {
  const probe = async (app: { request: (path: string) => Response | Promise<Response> }, path: string) => {
    const res = await app.request(path);
    return { status: res.status, body: await res.json() };
  };

  it('/healthz and /readyz need no credentials; ready when Temporal, PostgreSQL and Redis answer', async () => {
    expect(await probe(h.app, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await probe(h.app, '/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', checks: { temporal: 'ok', postgres: 'ok', redis: 'ok' } },
    });
  });

  it('503 unavailable naming what is down: a failing check, one that throws at once, one that never answers', async () => {
    const deps = depsOf(h);
    const app = createApp({
      ...deps,
      checks: {
        ...deps.checks,
        redis: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6380')),
        postgres: () => {
          throw new Error('pool is closed');
        },
        temporal: () => new Promise(() => {}),
      },
    });
    const started = Date.now();
    const res = await probe(app, '/readyz');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({
      code: 'unavailable',
      message: 'not ready: temporal, postgres, redis down',
      details: {
        checks: {
          temporal: 'down: no answer within 2000ms',
          postgres: 'down: pool is closed',
          redis: 'down: connect ECONNREFUSED 127.0.0.1:6380',
        },
      },
    });
    // The checks run together: one 2-second timeout, not three.
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(3_500);
    expect((await probe(app, '/healthz')).status).toBe(200);
  });

  it('one dependency down is enough', async () => {
    const deps = depsOf(h);
    const res = await probe(
      createApp({ ...deps, checks: { ...deps.checks, postgres: () => Promise.reject(new Error('too many clients')) } }),
      '/readyz',
    );
    expect(res).toEqual({
      status: 503,
      body: {
        error: {
          code: 'unavailable',
          message: 'not ready: postgres down',
          details: { checks: { temporal: 'ok', postgres: 'down: too many clients', redis: 'ok' } },
        },
      },
    });
  });
});
