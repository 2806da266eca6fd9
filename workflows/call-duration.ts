// The call view's `durationSeconds`, defined once: the workflow sets it when a call ends, and readers of
// PostgreSQL rows and of views cached before the field existed derive it the same way. Pure: sandbox-safe.
import type { CallView } from './types.js';

/** Answered to ended, rounded to whole seconds; null while the call is open or when it was never answered. */
export function durationSeconds({ answeredAt, endedAt }: Pick<CallView, 'answeredAt' | 'endedAt'>): number | null {
  if (!answeredAt || !endedAt) return null;
  return Math.max(0, Math.round((Date.parse(endedAt) - Date.parse(answeredAt)) / 1000));
}

/** The view with its duration filled in from its own times. */
export function withDuration<T extends Pick<CallView, 'answeredAt' | 'endedAt'>>(view: T): T & Pick<CallView, 'durationSeconds'> {
  return { ...view, durationSeconds: durationSeconds(view) };
}
