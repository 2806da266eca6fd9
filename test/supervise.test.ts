// `npm start` supervises its children: a SIGKILLed worker is restarted with backoff and serves again; a
// child that keeps crashing makes the supervisor give up (so the stack stops and says why).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnPrefixed } from '../scripts/services/process.js';
import { entryArgs } from '../scripts/services/entry-points.js';
import { supervise, type Supervised } from '../scripts/services/supervise.js';
import { createHarness, eventually, newCallId, workerEnv, type Harness } from './support/harness.js';

let h: Harness;
let worker: Supervised | undefined;
beforeAll(async () => {
  h = await createHarness({ noWorker: true });
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

/** The pids polling the harness's task queue for workflow tasks (identities are `pid@host`). */
async function pollingPids(): Promise<number[]> {
  const { pollers } = await h.client.connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: h.taskQueue },
  });
  return (pollers ?? []).map((p) => Number(p.identity?.split('@')[0]));
}

describe('supervise', () => {
  it('restarts a SIGKILLed worker, which serves the calls again', async () => {
    const lines: string[] = [];
    const env = { ...workerEnv(h.taskQueue), WORKER_METRICS_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
    worker = supervise(() => spawnPrefixed('worker', process.execPath, entryArgs('worker'), { env }), {
      log: (line) => lines.push(line),
      onGiveUp: (reason) => lines.push(`gave up: ${reason}`),
    });
    const first = worker.current().child.pid!;
    await eventually(async () => expect(await pollingPids()).toContain(first), 120_000, 250);

    worker.current().child.kill('SIGKILL');
    await eventually(() => expect(worker!.restarts()).toBe(1), 30_000);
    expect(lines).toEqual(['worker exited (signal SIGKILL), restarting in 100 ms']);
    const second = worker.current().child.pid!;
    expect(second).not.toBe(first);
    await eventually(async () => expect(await pollingPids()).toContain(second), 120_000, 250);

    const id = newCallId();
    expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007301' })).status).toBe(201);
    const reply = await h.request('POST', `/calls/${id}/messages`, { text: 'hello' });
    expect(reply.status).toBe(200);
    expect(reply.body.reply.text).toBe('Hello! How can I help you today?');
  }, 300_000);

  it('gives up on a child that keeps crashing, saying how often', async () => {
    let reason = '';
    const crashing = supervise(() => spawnPrefixed('crasher', process.execPath, ['-e', 'process.exit(3)']), {
      log: () => undefined,
      onGiveUp: (r) => (reason = r),
      maxRestarts: 2,
      backoffMs: () => 10,
    });
    await eventually(() => expect(reason).toBe('crasher exited (code 3) 3 times within 60 s; giving up'));
    expect(crashing.restarts()).toBe(2);
    await crashing.stop();
  });
});
