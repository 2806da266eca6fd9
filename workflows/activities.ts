// Activity proxies grouped by timeout class, with one retry policy each.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CallActivities } from '../activities/index.js';
import { PROVIDER_REFUSED } from './types.js';

// The record must land: retried until PostgreSQL and Redis accept it (every write is idempotent), and
// the call's later events wait behind it. Backoff stays under the local retry threshold (1 minute), so
// retries stay in the worker instead of costing a server timer each.
const untilStored = { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' } as const;

/** Recording as a local activity: no task queue round trip and no activity events in history. */
export const recorder = proxyLocalActivities<CallActivities>({ startToCloseTimeout: '30 seconds', retry: untilStored });

/** The responder answers a waiting user: a few quick attempts, then the update fails. */
export const responder = proxyActivities<CallActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: ['ResponderRejected'] },
});

/**
 * Placing an outbound call: retried with backoff while the provider is unreachable or overloaded, for a
 * few minutes at most (a call placed much later than it was asked for is no longer wanted); a refusal
 * is final.
 */
export const dialer = proxyActivities<CallActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: [PROVIDER_REFUSED] },
});

/**
 * The end-of-call report: the receiver may be down for hours, so attempts back off to one every 10 minutes
 * and go on for a day; each waits at most 30 seconds for an answer.
 */
export const reporter = proxyActivities<CallActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
