// No dead air: the worker is SIGKILLed during a <Gather> turn. Twilio hears a holding line within 5 s,
// follows its <Redirect> until the worker is back, and gets the real reply; the turn is recorded once.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { turnRows } from './support/assertions.js';
import { createHarness, type Harness } from './support/harness.js';
import { TwilioCall } from './support/twilio-voice.js';
import { killWorkerProcess, startWorkerProcess } from './support/worker-process-spawn.js';

let h: Harness;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness({ noWorker: true });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await h?.close();
});

it('answers a held turn with "One moment." within 5 s and the reply once the worker is back, recording it once', async () => {
  const worker = await startWorkerProcess(h.taskQueue, children);
  const call = new TwilioCall(h, '+15557770001');
  await call.dial();
  expect((await call.say('my name is Ada')).says[0]).toBe('Nice to meet you, Ada. How can I help you today?');

  await killWorkerProcess(worker);
  const started = Date.now();
  const held = await call.say('what is my name?');
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(held.says).toEqual(['One moment.']);
  expect(held.redirect).toMatch(/\/v1\/voice\/twilio\/gather\?.*turn=2.*wait=1/);

  await startWorkerProcess(h.taskQueue, children);
  // Twilio follows each Redirect with the call's usual parameters and no speech.
  let answer = held;
  for (let holds = 1; answer.says[0] === 'One moment.'; holds++) {
    expect(holds).toBeLessThan(8);
    answer = await call.post(answer.redirect!, {});
  }
  expect(answer.says).toEqual(['Your name is Ada.']);
  expect(answer.gather?.action).toMatch(/turn=3$/);

  const said = (await turnRows(h, call.sid)).filter((t) => t.role === 'user').map((t) => t.text);
  expect(said).toEqual(['my name is Ada', 'what is my name?']);
}, 60_000);
