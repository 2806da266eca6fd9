// How long the product's worker (worker/main.ts, as `npm start` runs it) takes from process start to its
// 'worker polling' line: a cold start first (a fresh XDG_CACHE_HOME, so no cached workflow bundle), then
// warm restarts, as npm start's supervisor does them. Its own servers on free ports in a temp dir.
//   npx tsx bench/worker-start.ts [--runs 4] [--busy 2]   (--busy: that many CPU-bound processes alongside)
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrate } from '../db/migrate.js';
import { startPostgres } from '../scripts/services/postgres.js';
import { freePort, startTogether } from '../scripts/services/process.js';
import { entryArgs } from '../scripts/services/entry-points.js';
import { startRedis } from '../scripts/services/redis.js';
import { startTemporal } from '../scripts/services/temporal.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '4' }, busy: { type: 'string', default: '0' } } });
const runs = Number(values.runs);
const dir = await mkdtemp(join(tmpdir(), 'callwright-worker-start-'));
await chmod(dir, 0o755); // PostgreSQL runs as an unprivileged user under root
const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
const servers = await startTogether([
  startPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, durable: false }),
  startRedis({ dataDir: join(dir, 'redis'), port: redisPort }),
  startTemporal({ port: temporalPort }),
] as const);
const busy: ChildProcess[] = Array.from({ length: Number(values.busy) }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
try {
  const [postgres, redis, temporal] = servers;
  await migrate(postgres.url);
  const env = {
    ...process.env,
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `worker-start-${process.pid}`,
    RETENTION: 'off',
    XDG_CACHE_HOME: join(dir, 'cache'),
  };
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const ms = await timeToPolling({ ...env, WORKER_METRICS_PORT: String(await freePort()) });
    times.push(ms);
    console.log(`${run === 0 ? 'cold' : 'warm'} start ${run + 1}: ${(ms / 1000).toFixed(2)} s to 'worker polling'`);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  if (warm.length) console.log(`warm median: ${(warm[Math.floor(warm.length / 2)]! / 1000).toFixed(2)} s`);
} finally {
  for (const child of busy) child.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dir, { recursive: true, force: true });
}

/** Spawns the worker, resolves with the ms until it logs 'worker polling', then stops it (SIGTERM) and waits. */
async function timeToPolling(env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, entryArgs('worker'), { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ms = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('worker polling') && resolve(performance.now() - started));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before polling`)));
  });
  child.kill('SIGTERM');
  await exited;
  return ms;
}
