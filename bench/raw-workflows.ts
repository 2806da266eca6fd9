// The raw Temporal baselines' workflows: nothing but the message itself, so they measure the server's floor.
import { condition, defineQuery, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

export const bumpSignal = defineSignal('bump');
export const noopUpdate = defineUpdate<number>('noop');
export const countQuery = defineQuery<number>('count');

/** Counts signals, answers no-op updates and queries; completes after `expected` signals (never when 0). */
export async function rawWorkflow(expected = 0): Promise<number> {
  let count = 0;
  setHandler(bumpSignal, () => void count++);
  setHandler(noopUpdate, () => count);
  setHandler(countQuery, () => count);
  await condition(() => expected > 0 && count >= expected);
  return count;
}
