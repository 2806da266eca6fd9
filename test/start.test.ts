// `npm start` (scripts/start.ts) as a person runs it: readable log lines at a terminal and JSON through a
// pipe, and a port already taken stops it before anything starts, naming the port and the variable.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/env.js';
import { portProblems, startPorts } from '../scripts/services/ports.js';
import { findOnPath, freePort } from '../scripts/services/process.js';
import { eventually, workerEnv } from './support/harness.js';

const START = [process.execPath, '--import', 'tsx', 'scripts/start.ts'];
const dataDir = mkdtempSync(join(tmpdir(), 'callwright-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  /** Everything it printed, stdout and stderr, without colors. */
  output(): string;
  exited: Promise<number | null>;
  /** Ctrl+C: SIGINT to start.ts itself, which stops its children; resolves with its exit code. */
  stop(): Promise<number | null>;
}
const running: Started[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** start.ts on the run's servers (so only the worker and the API start), on private ports and task queue. */
async function startEnv(overrides: Record<string, string | undefined> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...workerEnv(`start-${randomUUID()}`),
    CALLWRIGHT_DATA_DIR: join(dataDir, randomUUID()),
    PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    ...overrides,
  };
  for (const name of ['LOG_FORMAT', 'FORCE_COLOR', 'NO_COLOR']) if (!(name in overrides)) delete env[name];
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete env[name];
  return env;
}

/** Runs start.ts; under a pseudo-terminal (util-linux `script`) with `tty`, else with its stdout a pipe. */
function start(env: NodeJS.ProcessEnv, tty = false): Started {
  const command = tty ? ['script', '-qfec', `exec ${START.map((a) => JSON.stringify(a)).join(' ')}`, '/dev/null'] : START;
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Under `script`, start.ts is script's child (exec replaced the shell).
  const target = (): number | undefined =>
    tty ? Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined : child.pid;
  const started: Started = {
    child,
    output: () => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, ''),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const pid = (() => {
          try {
            return target();
          } catch {
            return undefined; // gone already
          }
        })();
        if (pid) process.kill(pid, 'SIGINT');
      }
      return exited;
    },
  };
  running.push(started);
  return started;
}

/** The API's log line for the GET /healthz start.ts sends once the API is up, without its `[api] ` prefix. */
async function healthzLine(started: Started): Promise<string> {
  return eventually(
    () => {
      if (started.child.exitCode !== null) throw new Error(`start.ts exited (${started.child.exitCode}):\n${started.output()}`);
      const line = started
        .output()
        .split('\n')
        .find((l) => l.startsWith('[api] ') && l.includes('/healthz'));
      expect(line, started.output()).toBeDefined();
      return line!.slice('[api] '.length);
    },
    120_000,
    100,
  );
}

describe('npm start logs', () => {
  it('prints readable lines with LOG_FORMAT=pretty, though its stdout is a pipe', async () => {
    const started = start(await startEnv({ LOG_FORMAT: 'pretty' }));
    const line = await healthzLine(started);
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api INFO +request .*route=\/healthz .*status=200/);
    // The worker's bundle is one line, webpack's report none.
    await eventually(() => expect(started.output()).toMatch(/\[worker\] .* worker INFO +worker polling/), 120_000, 100);
    expect(started.output()).toMatch(/\[worker\] .* worker INFO +workflow bundle (built: [\d.]+ MB in [\d.]+ s|reused from cache)/);
    expect(started.output()).not.toContain('asset workflow-bundle');
    expect(await started.stop()).toBe(0);
  }, 180_000);

  it('prints JSON without a terminal and without LOG_FORMAT', async () => {
    const started = start(await startEnv());
    const line = JSON.parse(await healthzLine(started)) as Record<string, unknown>;
    expect(line).toMatchObject({ service: 'api', level: 30, msg: 'request', route: '/healthz', status: '200' });
    expect(await started.stop()).toBe(0);
  }, 180_000);

  it.skipIf(process.platform !== 'linux' || !findOnPath('script'))(
    'prints readable lines at a terminal',
    async () => {
      const started = start(await startEnv(), true);
      expect(await healthzLine(started)).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api INFO +request .*route=\/healthz/);
      expect(await started.stop()).toBe(0);
    },
    180_000,
  );
});

describe('npm start with a port taken', () => {
  const held: Server[] = [];
  afterEach(async () => {
    await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  const hold = (port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      const server = createServer().once('error', reject);
      held.push(server);
      server.listen(port, host, resolve);
    });
  /** Embedded servers too (on free ports), so a start that went ahead would leave a data dir behind. */
  const embeddedEnv = async () =>
    startEnv({
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      TEMPORAL_ADDRESS: undefined,
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      POSTGRES_PORT: String(await freePort()),
      REDIS_PORT: String(await freePort()),
    });

  it("exits before starting anything, naming the API's port and PORT", async () => {
    const env = await embeddedEnv();
    await hold(Number(env.PORT), '127.0.0.1');
    const started = start(env);
    expect(await started.exited).not.toBe(0);
    expect(started.output()).toContain(`port ${env.PORT} (API) is in use: set PORT to serve the API elsewhere`);
    expect(started.output()).not.toMatch(/\[(temporal|postgres|redis|worker|api)\]/);
    expect(existsSync(env.CALLWRIGHT_DATA_DIR!)).toBe(false);
  });

  it('lists every taken port at once: Temporal gRPC with TEMPORAL_PORT or TEMPORAL_ADDRESS, and the worker metrics', async () => {
    const env = await embeddedEnv();
    await hold(Number(env.TEMPORAL_PORT), '127.0.0.1');
    await hold(Number(env.WORKER_METRICS_PORT), '0.0.0.0');
    const started = start(env);
    expect(await started.exited).not.toBe(0);
    expect(started.output()).toContain(
      `port ${env.TEMPORAL_PORT} (Temporal gRPC) is in use: set TEMPORAL_PORT to run the embedded Temporal elsewhere, ` +
        `or TEMPORAL_ADDRESS=localhost:${env.TEMPORAL_PORT} to use the server already there`,
    );
    expect(started.output()).toContain(`port ${env.WORKER_METRICS_PORT} (worker metrics) is in use: set WORKER_METRICS_PORT`);
    expect(existsSync(env.CALLWRIGHT_DATA_DIR!)).toBe(false);
  });

  it("checks no embedded server's port when its URL is given, and refuses one port set for two servers", async () => {
    const [port, twice] = [await freePort(), await freePort()];
    await hold(port, '127.0.0.1');
    const config = loadConfig({ POSTGRES_PORT: String(port), REDIS_PORT: String(twice), PORT: String(twice), WORKER_METRICS_PORT: '0' });
    const external = { temporal: false, postgres: false, redis: false };
    expect(await portProblems(startPorts(config, external))).toEqual([]);
    expect(await portProblems(startPorts(config, { ...external, postgres: true, redis: true }))).toEqual([
      `port ${port} (PostgreSQL) is in use: set POSTGRES_PORT to run the embedded PostgreSQL elsewhere, ` +
        'or DATABASE_URL to use a server of yours',
      `port ${twice} is set for both Redis (REDIS_PORT) and API (PORT): move one`,
    ]);
  });
});
