// The worker process is SIGKILLed mid-conversation and started again: nothing lost or doubled.
import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectEverywhere, eventRows, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';
import { startWorkerProcess } from './support/worker-process-spawn.js';

const { TimeoutType } = temporal.api.enums.v1;
const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => Number(t!.seconds) * 1000 + Math.floor((t!.nanos ?? 0) / 1e6);
let h: Harness;
const children: ChildProcess[] = [];

const startWorker = () => startWorkerProcess(h.taskQueue, children);

beforeAll(async () => {
  h = await createHarness({ noWorker: true });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await h?.close();
});

it('continues after the worker is killed mid-conversation, with no turn lost or doubled', async () => {
  let worker = await startWorker();
  const id = newCallId();
  await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550008888' });
  const say = (text: string, messageId: string) => h.request('POST', `/calls/${id}/messages`, { text, messageId });
  expect((await say('my name is Ada', 'm1')).status).toBe(200);
  expect((await say('hello', 'm2')).status).toBe(200);

  // Kill the worker, then send while it is down: the update waits in Temporal for a worker.
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));
  const pending = say('what is my name?', 'm3');
  // A client retrying the same message while the worker is down must not double it.
  const retried = say('what is my name?', 'm3');
  worker = await startWorker();
  const [first, second] = await Promise.all([pending, retried]);
  expect(first.status).toBe(200);
  expect(first.body.reply.text).toBe('Your name is Ada.');
  expect(second.body.reply).toEqual(first.body.reply);
  expect((await say('thanks', 'm4')).status).toBe(200);

  // The killed worker's sticky task waited the default 1 s (worker/create-worker.ts) for it, not the SDK's 10 s, before the new one took it.
  const events = (await h.handle(id).fetchHistory()).events ?? [];
  const timedOut = events.find((e) => e.workflowTaskTimedOutEventAttributes?.timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START);
  expect(timedOut, 'a sticky schedule-to-start timeout').toBeDefined();
  const scheduled = events.find((e) => Number(e.eventId) === Number(timedOut!.workflowTaskTimedOutEventAttributes!.scheduledEventId));
  expect(scheduled, 'the timed-out task was scheduled').toBeDefined();
  expect(ms(timedOut!.eventTime) - ms(scheduled!.eventTime)).toBeLessThan(5_000);

  await expectEverywhere(h, id, { status: 'active', turnCount: 8 });
  expect((await turnRows(h, id)).map((t) => t.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  const keys = (await eventRows(h, id)).map((e) => e.key);
  expect(new Set(keys).size).toBe(keys.length);
});
