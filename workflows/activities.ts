// Activity proxies grouped by timeout class, with one retry policy each.
import { proxyActivities } from '@temporalio/workflow';
import type { CallActivities } from '../activities/index.js';

/** The record must land: retried until PostgreSQL and Redis accept it (every write is idempotent). */
export const store = proxyActivities<CallActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** The responder answers a waiting user: a few quick attempts, then the update fails. */
export const responder = proxyActivities<CallActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: ['ResponderRejected'] },
});
