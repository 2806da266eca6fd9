// The worker's own metric beside the SDK's (observability/temporal-runtime.ts serves them): activity outcomes.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Counts every activity attempt by type and outcome: callwright_activity_outcomes{activity_type,outcome}. */
export const activityOutcomes: ActivityInterceptorsFactory = (ctx) => {
  const counter = ctx.metricMeter.createCounter('callwright_activity_outcomes', 'attempts', 'Activity attempts by outcome');
  return {
    inbound: {
      async execute(input, next) {
        try {
          const result = await next(input);
          counter.add(1, { activity_type: ctx.info.activityType, outcome: 'completed' });
          return result;
        } catch (err) {
          counter.add(1, { activity_type: ctx.info.activityType, outcome: 'failed' });
          throw err;
        }
      },
    },
  };
};
