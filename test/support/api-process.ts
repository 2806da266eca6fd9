// The real API entry point (api/main.ts) as a child process on this run's servers, reached over HTTP.
import { freePort, spawnPrefixed, stopProcess, waitUntil } from '../../scripts/services/process.js';
import { entryArgs } from '../../scripts/services/entry-points.js';
import { ADMIN_KEY, WEBHOOK_SECRET, workerEnv } from './harness.js';

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts api/main.ts on a free port for `taskQueue` and resolves once /healthz answers. */
export async function startApiProcess(taskQueue: string, env: NodeJS.ProcessEnv = {}): Promise<ApiProcess> {
  const port = await freePort();
  const proc = spawnPrefixed(`api:${port}`, process.execPath, entryArgs('api'), {
    env: {
      ...workerEnv(taskQueue),
      PORT: String(port),
      ADMIN_API_KEY: ADMIN_KEY,
      WEBHOOK_SECRET,
      // Load tests send more than a caller's budget from one address.
      RATE_LIMIT_PER_CALLER: '0',
      RATE_LIMIT_PER_IP: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    echo: process.env.CALLWRIGHT_SERVICE_LOGS === '1',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('the API to answer /healthz', async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), {
      proc,
      timeoutMs: 60_000,
      intervalMs: 100,
    });
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { url, pid: proc.child.pid!, stop: () => stopProcess(proc) };
}
