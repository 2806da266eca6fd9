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

/** Sleeps `ms` and answers how late it woke (workflow time): the server's own timer lateness. */
export async function rawTimerWorkflow(ms: number): Promise<number> {
  const due = Date.now() + ms;
  await sleep(ms);
  return Date.now() - due;
}
