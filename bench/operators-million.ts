// Operator queries at a million calls, on a private PostgreSQL the benchmark starts and removes:
//   npx tsx bench/operators-million.ts [calls=1000000]
// Seeds calls over 30 days (a fifth of them in the last 7), then times GET /v1/stats' query and the
// first and a deep page of GET /v1/calls with filters.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { listCalls } from '../store/call-list.js';
import { callStats } from '../store/call-stats.js';
import { migrate } from '../db/migrate.js';
import { startPostgres } from '../scripts/services/postgres.js';
import { freePort } from '../scripts/services/process.js';
import { EVERY_ACCOUNT } from '../store/scope.js';

const calls = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), 'callwright-bench-'));
const server = await startPostgres({ dataDir: dir, port: await freePort(), durable: false });
const pool = new pg.Pool({ connectionString: server.url });
pool.on('error', () => undefined); // the server stops under idle clients at the end

async function time<T>(label: string, fn: () => Promise<T>, runs = 5): Promise<T> {
  let result!: T;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} median ${ms[Math.floor(runs / 2)].toFixed(1)} ms  min ${ms[0].toFixed(1)} ms  (${runs} runs)`);
  return result;
}

try {
  await migrate(server.url);
  const seeded = performance.now();
  // Statuses as a busy contact centre has them: most ended, a few live; durations 30 s to 20 min.
  await pool.query(
    `INSERT INTO calls (call_id, workflow_id, channel, direction, from_number, status, disposition, started_at, answered_at,
                        ended_at, turn_count, drop_count, resume_count)
     SELECT 'b-' || i, 'call-b-' || i, CASE WHEN i % 3 = 0 THEN 'chat' ELSE 'voice' END, 'inbound',
            '+1555' || lpad((i % 200000)::text, 7, '0'),
            CASE WHEN i % 1000 = 0 THEN 'active' WHEN i % 1000 = 1 THEN 'dropped' WHEN i % 1000 = 2 THEN 'ringing' ELSE 'ended' END,
            CASE WHEN i % 1000 < 3 THEN NULL WHEN i % 10 = 0 THEN 'abandoned' WHEN i % 17 = 0 THEN 'no_answer' ELSE 'completed' END,
            started, started, CASE WHEN i % 1000 < 3 THEN NULL ELSE started + ((30 + i % 1170) || ' seconds')::interval END,
            i % 40, (i % 10 = 0 OR i % 7 = 0)::int, (i % 7 = 0)::int
     FROM (SELECT i, now() - ((i::float8 / $1) * interval '30 days') AS started FROM generate_series(1, $1) AS i) s`,
    [calls],
  );
  await pool.query('VACUUM ANALYZE calls'); // the steady state autovacuum keeps: index-only scans need the visibility map
  console.log(`seeded ${calls} calls in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const stats = await time('GET /v1/stats (7 days)', () => callStats(pool, EVERY_ACCOUNT, 7));
  console.log(
    `  active ${stats.active}, dropped now ${stats.droppedNow}, p95 ${stats.p95DurationSeconds} s, days ${stats.callsPerDay.length}`,
  );
  await time('GET /v1/calls?limit=50', () => listCalls(pool, { scope: EVERY_ACCOUNT, limit: 50 }));
  await time('GET /v1/calls?status=dropped&limit=50', () => listCalls(pool, { scope: EVERY_ACCOUNT, status: 'dropped', limit: 50 }));
  await time('GET /v1/calls?from=<number>&limit=50', () => listCalls(pool, { scope: EVERY_ACCOUNT, from: '+15550004242', limit: 50 }));
  const first = await listCalls(pool, { scope: EVERY_ACCOUNT, channel: 'chat', limit: 200 });
  await time('GET /v1/calls?channel=chat, page 2 (cursor)', () =>
    listCalls(pool, { scope: EVERY_ACCOUNT, channel: 'chat', limit: 200, after: first.next! }),
  );
} finally {
  await pool.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
