import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../config/env.js';
import { migrate } from '../db/migrate.js';
import { startPostgres } from './services/postgres.js';
import { spawnPrefixed, startTogether, waitUntil, type Stoppable } from './services/process.js';
import { entryArgs } from './services/entry-points.js';
import { portProblems, startPorts } from './services/ports.js';
import { startRedis } from './services/redis.js';
import { supervise } from './services/supervise.js';
import { EMBEDDED_SQLITE_PRAGMAS, startTemporal } from './services/temporal.js';

// Runs the whole stack on this machine: Temporal, PostgreSQL and Redis (unless the environment points at
// existing ones), then the worker and the API, restarted when they crash. State persists in the data dir.
const root = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const config = loadConfigOrExit(env);
const dataDir = resolve(env.CALLWRIGHT_DATA_DIR ?? join(root, '.data'));
const embedded = { temporal: !env.TEMPORAL_ADDRESS, postgres: !env.DATABASE_URL, redis: !env.REDIS_URL };
// The children's stdout is a pipe to this process: they log (and color) as this process's own stdout wants.
const childEnv = {
  ...env,
  LOG_FORMAT: config.LOG_FORMAT,
  ...(process.stdout.isTTY && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined ? { FORCE_COLOR: '1' } : {}),
};
/** Who the printed chat link talks as. */
const DEMO_CALLER = '+15550100100';

const running: Stoppable[] = [];
let stopping = false;

async function shutdown(code: number, reason?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (reason) console.error(reason);
  for (const item of running.reverse()) await item.stop().catch((err: Error) => console.error(err.message));
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// Before anything starts, so that a taken port leaves nothing half-started.
const taken = await portProblems(startPorts(config, embedded));
if (taken.length) {
  console.error(taken.join('\n'));
  process.exit(1);
}

try {
  const none = Promise.resolve(undefined);
  const [temporal, postgres, redis] = await startTogether([
    !embedded.temporal
      ? none
      : startTemporal({
          dataDir: join(dataDir, 'temporal'),
          port: config.TEMPORAL_PORT,
          uiPort: config.TEMPORAL_UI_PORT,
          namespace: env.TEMPORAL_NAMESPACE,
          sqlitePragmas: EMBEDDED_SQLITE_PRAGMAS,
          echo: true,
        }),
    !embedded.postgres ? none : startPostgres({ dataDir: join(dataDir, 'postgres'), port: config.POSTGRES_PORT, echo: true }),
    !embedded.redis ? none : startRedis({ dataDir: join(dataDir, 'redis'), port: config.REDIS_PORT, appendOnly: true, echo: true }),
  ] as const);
  const local = [temporal, postgres, redis].filter((server) => server !== undefined);
  running.push(...local);

  const urls = {
    DATABASE_URL: env.DATABASE_URL || postgres!.url,
    REDIS_URL: env.REDIS_URL || redis!.url,
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || temporal!.address,
  };
  await migrate(urls.DATABASE_URL);

  const children = (['worker', 'api'] as const).map((name) =>
    supervise(() => spawnPrefixed(name, process.execPath, entryArgs(name), { cwd: root, env: { ...childEnv, ...urls }, echo: true }), {
      onGiveUp: (reason) => void shutdown(1, `${reason}; stopping everything`),
    }),
  );
  running.push({ stop: () => Promise.all(children.map((child) => child.stop())).then(() => undefined) });

  const api = `http://localhost:${config.PORT}`;
  await waitUntil('the API to answer /healthz', async () => ((await fetch(`${api}/healthz`)).ok ? true : undefined), {
    proc: children[1]!.current(),
    timeoutMs: 120_000,
    intervalMs: 250,
  }).catch((err: Error) => console.error(`warning: ${err.message.split('\n')[0]}`));
  if (!stopping) {
    printBox([
      ['API', api],
      ['API docs', `${api}/docs`],
      ['Temporal UI', temporal?.uiUrl ?? '(external Temporal server)'],
      ['Temporal', urls.TEMPORAL_ADDRESS],
      ['PostgreSQL', redact(urls.DATABASE_URL)],
      ['Redis', redact(urls.REDIS_URL)],
      ...(local.length ? [['Data dir', dataDir] as [string, string]] : []),
    ]);
    // Outside the box: a token is longer than any line in it.
    await chatLink(api).then(
      (link) => console.log(`Chat as ${DEMO_CALLER} (the link works for an hour): ${link}`),
      (err: Error) => console.error(`warning: no chat link: ${err.message}`),
    );
  }
} catch (err) {
  await shutdown(1, `start failed: ${(err as Error).message}`);
}

/** A /chat link for the demo caller, its token minted by the API with the operators' key, as an operator would. */
async function chatLink(api: string): Promise<string> {
  const res = await fetch(`${api}/v1/auth/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: DEMO_CALLER }),
  });
  if (!res.ok) throw new Error(`POST /v1/auth/tokens answered ${res.status}`);
  const { token } = (await res.json()) as { token: string };
  return `${api}/chat#token=${token}`;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function printBox(rows: [string, string][]): void {
  const lines = ['Callwright is running (Ctrl+C stops everything)', '', ...rows.map(([k, v]) => `${k.padEnd(12)} ${v}`)];
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '─'.repeat(width + 2);
  console.log([`┌${rule}┐`, ...lines.map((line) => `│ ${line.padEnd(width)} │`), `└${rule}┘`].join('\n'));
}
