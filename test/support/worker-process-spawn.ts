// Starts test/support/worker-process.ts as a child process on a harness's task queue, so a test can
// SIGKILL it mid-load; one place for every test that runs workers out of process.
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { workerEnv } from './harness.js';

/** Resolves once the worker polls; `children` collects it so the test can kill it in afterAll. */
export function startWorkerProcess(taskQueue: string, children: ChildProcess[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    env: {
      ...workerEnv(taskQueue),
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('worker ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

/** SIGKILLs the worker and waits until it is gone. */
export async function killWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
