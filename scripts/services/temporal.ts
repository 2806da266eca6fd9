import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { spawnPrefixed, stopProcess, waitUntil } from './process.js';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';
import { ensureTemporalCli } from './temporal-cli.js';

export interface StartTemporalOptions {
  /** Keeps workflows in `<dataDir>/temporal.db` across restarts; in memory when absent. */
  dataDir?: string;
  port: number;
  /** Serves the Web UI on this port; headless when absent. */
  uiPort?: number;
  namespace?: string;
  echo?: boolean;
  timeoutMs?: number;
  /** SQLite pragmas for the dev server's database, as `name=value` (e.g. `journal_mode=wal`). */
  sqlitePragmas?: string[];
}

export interface TemporalServer {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * What `npm start` gives its embedded Temporal: a write-ahead log, synced at checkpoints rather than at
 * every commit. `npm run bench` measured it at 2-3x the throughput of SQLite's defaults; it loses nothing
 * when a process dies (the log is in the OS's cache), only the last commits on a power loss or kernel crash.
 */
export const EMBEDDED_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/** Runs `temporal server start-dev` on 127.0.0.1 with Callwright's search attributes registered. */
export async function startTemporal(options: StartTemporalOptions): Promise<TemporalServer> {
  const { dataDir, port, uiPort, namespace = 'default', echo = false, timeoutMs = 60_000 } = options;
  const cli = await ensureTemporalCli();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  args.push(...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']));
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    args.push('--db-filename', join(dataDir, 'temporal.db'));
  }
  for (const pragma of options.sqlitePragmas ?? []) args.push('--sqlite-pragma', pragma);
  for (const { name, type } of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=${type}`);
  // Lets a worker take the activities it schedules in the same round trip (off by default on the server).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');

  const proc = spawnPrefixed('temporal', cli, args, { echo, quietStop: true });
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntil('Temporal to serve its namespace and search attributes', () => probe(address, namespace), {
      proc,
      timeoutMs,
      intervalMs: 200,
    });
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return {
    address,
    uiUrl: uiPort ? `http://localhost:${uiPort}` : undefined,
    stop: () => stopProcess(proc),
  };
}

async function probe(address: string, namespace: string): Promise<true | undefined> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return SEARCH_ATTRIBUTES.every(({ name }) => name in customAttributes) ? true : undefined;
  } finally {
    await connection.close();
  }
}
