// worker/stack-traces.cjs: the worker's preload turns the SDK's per-promise stack capture off in its
// workflow threads unless WORKFLOW_STACK_TRACES=on. The thread below installs the SDK's own handlers the
// way its workflow thread does; worker-main.test.ts checks the real worker refuses the stack query.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const thread = `
const { Worker } = require('node:worker_threads');
const marker = globalThis[Symbol.for('callwright.workflowStackTraces')];
const code = "const { globalHandlers } = require('@temporalio/worker/lib/workflow/vm-shared.js');" +
  "globalHandlers.install(); require('node:worker_threads').parentPort.postMessage(globalHandlers.promiseHookInstalled)";
new Worker(code, { eval: true }).once('message', (hook) => { console.log(JSON.stringify({ marker, hook })); process.exit(0); });
`;

function run(env: Record<string, string>): { marker: string; hook: boolean } {
  const out = spawnSync(process.execPath, ['--require', './worker/stack-traces.cjs', '-e', thread], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(out.stderr).toBe('');
  return JSON.parse(out.stdout);
}

it('skips the promise hook in worker threads by default, and says so to the main thread', () => {
  expect(run({ WORKFLOW_STACK_TRACES: '' })).toEqual({ marker: 'off', hook: false });
  expect(run({ WORKFLOW_STACK_TRACES: 'off' })).toEqual({ marker: 'off', hook: false });
});

it('leaves the SDK to capture stacks with WORKFLOW_STACK_TRACES=on', () => {
  expect(run({ WORKFLOW_STACK_TRACES: 'on' })).toEqual({ marker: 'on', hook: true });
});
