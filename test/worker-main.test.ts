// The real worker entry point: Prometheus metrics of its own and JSON logs tagged with the call.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../scripts/services/process.js';
import { entryArgs } from '../scripts/services/entry-points.js';
import { createHarness, eventually, newCallId, type Harness, workerEnv } from './support/harness.js';

let h: Harness;
let worker: ChildProcess;
let metricsUrl: string;
let stdout = '';

beforeAll(async () => {
  h = await createHarness({ noWorker: true });
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawn(process.execPath, entryArgs('worker'), {
    env: {
      ...workerEnv(h.taskQueue),
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  worker.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await eventually(() => expect(stdout).toContain('worker polling'), 60_000);
});
afterAll(async () => {
  worker?.kill('SIGTERM');
  await h?.close();
});

it('exports SDK metrics and activity outcomes, and logs JSON lines with callId and masked numbers', async () => {
  const id = newCallId();
  await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550009876' });
  expect((await h.request('POST', `/calls/${id}/messages`, { text: 'hello' })).status).toBe(200);

  const metrics = await eventually(async () => {
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/callwright_activity_outcomes\{[^}]*activity_type="recordEvents"[^}]*outcome="completed"[^}]*\} [1-9]/);
    return text;
  });
  expect(metrics).toMatch(/temporal_workflow_completed|temporal_activity_execution_latency|temporal_request/);

  // By default the worker's workflow threads capture no per-promise stacks (worker/stack-traces.cjs):
  // the stack trace query the Web UI sends is refused, and the call itself answers as before.
  const handle = h.client.workflow.getHandle(`call-${id}`);
  await expect(handle.query('__stack_trace')).rejects.toThrow(/stack traces are not enabled/);
  expect((await h.request('GET', `/calls/${id}`)).status).toBe(200);

  // Stop the worker: a graceful shutdown logs its last line and exits 0.
  const exited = new Promise<number | null>((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  expect(await exited).toBe(0);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.some((l) => l.msg === 'worker stopped')).toBe(true);
  expect(lines.find((l) => l.msg === 'worker polling')?.workflowStackTraces).toBe('off');
  const aboutCall = lines.filter((l) => l.workflowId === `call-${id}`);
  expect(aboutCall.length).toBeGreaterThan(0);
  expect(aboutCall.every((l) => l.callId === id)).toBe(true);
  expect(stdout).not.toContain('+15550009876');
});
