// The worker's Prometheus endpoint: the SDK's own metrics plus one counter of activity outcomes.
import { DefaultLogger, Runtime, type ActivityInterceptorsFactory, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';
import { callIdOf } from '../observability/logger.js';

const LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/** Routes the SDK's logs (workflow and activity logs included) into pino, tagged with callId. */
export function installRuntime(logger: Logger, metricsPort: number): void {
  Runtime.install({
    logger: new DefaultLogger(LEVELS[logger.level] ?? 'INFO', ({ level, message, meta }) => {
      const fields = { ...meta, callId: callIdOf(meta?.workflowId) };
      logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error')](fields, message);
    }),
    telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` } } },
  });
}

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
