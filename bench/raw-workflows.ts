// The raw Temporal baselines' workflows: nothing but the message itself, so they measure the server's floor.
import { condition, defineQuery, defineSignal, defineUpdate, proxyLocalActivities, setHandler, sleep } from '@temporalio/workflow';
import type * as rawActivities from './raw-activities.js';

export const bumpSignal = defineSignal('bump');
export const noopUpdate = defineUpdate<number>('noop');
export const countQuery = defineQuery<number>('count');
/** An Update answered after one local activity: the floor of a turn that must be written before it is answered. */
export const writtenUpdate = defineUpdate<number>('written');

const { noop } = proxyLocalActivities<typeof rawActivities>({ startToCloseTimeout: '10 seconds' });

/** Counts signals, answers no-op updates and queries; completes after `expected` signals (never when 0). */
export async function rawWorkflow(expected = 0): Promise<number> {
  let count = 0;
  setHandler(bumpSignal, () => void count++);
  setHandler(noopUpdate, () => count);
  setHandler(writtenUpdate, async () => {
    await noop();
    return count;
  });
  setHandler(countQuery, () => count);
  await condition(() => expected > 0 && count >= expected);
  return count;
}

/**
 * Writes its signals the way a call writes its events: one no-op local activity for whatever arrived
 * while the last one ran. Completes once `expected` signals are written: the floor of voice turns persisted.
 */
export async function rawBatchWorkflow(expected: number): Promise<number> {
  let received = 0;
  let written = 0;
  setHandler(bumpSignal, () => void received++);
  while (written < expected) {
    await condition(() => received > written);
    const batch = received;
    await noop();
    written = batch;
  }
  return written;
}

/** Sleeps `ms` and answers how late it woke (workflow time): the server's own timer lateness. */
export async function rawTimerWorkflow(ms: number): Promise<number> {
  const due = Date.now() + ms;
  await sleep(ms);
  return Date.now() - due;
}
