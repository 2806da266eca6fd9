// A private Callwright stack for the benchmark: its own servers on free ports in a temp dir, then the
// product's worker and API as child processes, so it never touches a running `npm start`.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Connection, type ConnectionLike } from '@temporalio/client';
import { migrate } from '../db/migrate.js';
import { startPostgres, type PostgresServer } from '../scripts/services/postgres.js';
import { freePort, spawnPrefixed, startTogether, stopProcess, waitUntil, type Proc } from '../scripts/services/process.js';
import { entryArgs } from '../scripts/services/entry-points.js';
import { startRedis, type RedisServer } from '../scripts/services/redis.js';
import { startTemporal, type TemporalServer } from '../scripts/services/temporal.js';
import { childrenByName } from './cpu.js';

const root = fileURLToPath(new URL('..', import.meta.url));

// Explicit secrets, so the bench neither depends on the development defaults nor on the caller's environment.
export const secrets = {
  ADMIN_API_KEY: 'bench-admin-key-0123456789',
  JWT_SECRET: 'bench-jwt-secret-0123456789',
  WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
  TWILIO_AUTH_TOKEN: 'bench-twilio-auth-token',
};

export interface BenchStack {
  apiUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  /** The product worker's task queue. */
  taskQueue: string;
  /** Process group ids by role, for CPU accounting. */
  groups: Record<string, number>;
  /** Rejects if the first worker or API exits while the bench runs. */
  crashed: Promise<never>;
  /** Handles for fault injection (bench/chaos.ts); the bench itself uses none. */
  control: StackControl;
  stop(): Promise<void>;
}

export type ServerName = 'postgres' | 'redis' | 'temporal';
export type ProductRole = 'worker' | 'api';

export interface StackControl {
  redisUrl: string;
  /** The worker and the API started with the stack. */
  first: Record<ProductRole, Proc>;
  /** Starts one more product process with the stack's environment: an API on the stack's port, a worker with its own metrics port. */
  spawn(role: ProductRole): Promise<Proc>;
  /** Stops a server the way `npm start` does (PostgreSQL's fast shutdown, SIGTERM for the others). */
  stopServer(name: ServerName): Promise<void>;
  /** Starts a stopped server again on its port and data directory. */
  startServer(name: ServerName): Promise<void>;
}

export interface StackOptions {
  sqlitePragmas?: string[];
  /** V8 CPU profiles of the worker and the API go here (a `.cpuprofile` per process and thread). */
  cpuProfileDir?: string;
  log?: (line: string) => void;
  /** Receives the worker's and the API's output lines instead of this process's stdout and stderr. */
  productLog?: (name: string, line: string) => void;
}

export async function startBenchStack(options: StackOptions = {}): Promise<BenchStack> {
  const log = options.log ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'callwright-bench-'));
  // PostgreSQL runs as an unprivileged user under root and must be able to enter this directory.
  await chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const fn of stops.reverse()) await fn().catch((err: Error) => console.error(`bench teardown: ${err.message}`));
  };

  try {
    log(`starting Temporal, PostgreSQL and Redis in ${dir}`);
    const ports = { temporal: await freePort(), postgres: await freePort(), redis: await freePort() };
    const starts = {
      temporal: () => startTemporal({ dataDir: join(dir, 'temporal'), port: ports.temporal, sqlitePragmas: options.sqlitePragmas }),
      postgres: () => startPostgres({ dataDir: join(dir, 'postgres'), port: ports.postgres }),
      redis: () => startRedis({ dataDir: join(dir, 'redis'), port: ports.redis, appendOnly: true }),
    };
    const [temporal, postgres, redis] = await startTogether([starts.temporal(), starts.postgres(), starts.redis()] as const);
    // The servers running now: fault injection replaces them.
    const running: Record<ServerName, TemporalServer | PostgresServer | RedisServer | undefined> = { temporal, postgres, redis };
    stops.push(
      ...(['temporal', 'postgres', 'redis'] as const).map((name) => async () => {
        const server = running[name];
        running[name] = undefined;
        await server?.stop();
      }),
    );
    const servers = childrenByName();
    await migrate(postgres.url);

    const taskQueue = `bench-${randomUUID()}`;
    const apiPort = await freePort();
    const env = {
      ...process.env,
      ...secrets,
      NODE_ENV: 'development',
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      PORT: String(apiPort),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_CALLER: '0',
      RATE_LIMIT_PER_IP: '0',
      // The bench measures the scripted responder; a model endpoint would measure the model.
      RESPONDER_URL: '',
    };
    const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProfileDir)}`] : [];
    const live = new Set<Proc>();
    const spawnProduct = async (name: ProductRole): Promise<Proc> => {
      // Each worker its own metrics port: two may run side by side.
      const own = name === 'worker' ? { WORKER_METRICS_PORT: String(await freePort()) } : {};
      const child = spawnPrefixed(name, process.execPath, [...profile, ...entryArgs(name)], {
        cwd: root,
        env: { ...env, ...own },
        echo: !options.productLog,
        quietStop: true,
      });
      if (options.productLog) {
        const sink = options.productLog;
        for (const stream of [child.child.stdout!, child.child.stderr!]) {
          createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => sink(`${name} ${child.child.pid}`, line));
        }
      }
      live.add(child);
      void child.exited.then(() => live.delete(child));
      return child;
    };
    const children: Proc[] = [await spawnProduct('worker'), await spawnProduct('api')];
    stops.push(() => Promise.all([...live].map((child) => stopProcess(child))).then(() => undefined));
    const crashed = Promise.race(
      children.map((child) =>
        child.exited.then((code) => {
          throw new Error(stopped ? 'stopped' : `${child.name} exited (${code}):\n${child.output()}`);
        }),
      ),
    );
    crashed.catch(() => undefined);

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    log('waiting for the worker to poll and the API to answer');
    const connection = await Connection.connect({ address: temporal.address });
    try {
      await waitUntil('the product worker to poll its task queue', () => hasPoller(connection, taskQueue), {
        proc: children[0],
        timeoutMs: 120_000,
        intervalMs: 250,
      });
    } finally {
      await connection.close();
    }
    await waitUntil('the API to answer /readyz', async () => ((await fetch(`${apiUrl}/readyz`)).ok ? true : undefined), {
      proc: children[1],
      timeoutMs: 60_000,
      intervalMs: 250,
    });

    const group = (name: string) => servers.get(name) ?? -1;
    return {
      apiUrl,
      databaseUrl: postgres.url,
      temporalAddress: temporal.address,
      taskQueue,
      groups: {
        temporal: group('temporal'),
        postgres: group('postgres'),
        redis: group('redis-server'),
        worker: children[0].child.pid ?? -1,
        api: children[1].child.pid ?? -1,
      },
      crashed,
      control: {
        redisUrl: redis.url,
        first: { worker: children[0], api: children[1] },
        spawn: spawnProduct,
        async stopServer(name) {
          const server = running[name];
          running[name] = undefined;
          await server?.stop();
        },
        async startServer(name) {
          if (running[name]) throw new Error(`${name} is already running`);
          running[name] = await starts[name]();
        },
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** True once a worker polls the task queue for workflow tasks. */
export async function hasPoller(connection: ConnectionLike, taskQueue: string): Promise<true | undefined> {
  const { pollers } = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue } });
  return pollers?.length ? true : undefined;
}
