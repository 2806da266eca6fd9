// The end-of-call report, sent once the call has ended: one regular activity, retried with backoff for up to
// a day. Delivered or not, its outcome becomes the call's `report` event: a report never fails the call.
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { reporter } from './activities.js';

export interface ReportOutcome {
  eventId: string;
  /** The receiver without credentials or query string: the call's owner may read its events. */
  url: string;
  delivered: boolean;
  /** The receiver's last HTTP status; null when it never answered. */
  status: number | null;
  /** Attempts made; null when the last failure carried no count (an attempt that timed out, a non-retryable error). */
  attempts: number | null;
  /** Why the last attempt failed, when the report was given up. */
  error?: string;
}

/** What the activity attaches to a failed attempt, for the record of a report given up. */
export interface AttemptFailure {
  status: number | null;
  attempt: number;
}

export async function deliverReport(callId: string, url: string): Promise<ReportOutcome> {
  const eventId = `report:${callId}`;
  const target = withoutSecrets(url);
  try {
    const sent = await reporter.sendReport.executeWithOptions({ summary: `report call.ended to ${hostOf(url)}` }, [
      { callId, eventId, url },
    ]);
    return { eventId, url: target, delivered: true, status: sent.status, attempts: sent.attempts };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const last = lastCause(err);
    const failed = last instanceof ApplicationFailure ? (last.details?.[0] as AttemptFailure | undefined) : undefined;
    return {
      eventId,
      url: target,
      delivered: false,
      status: failed?.status ?? null,
      attempts: failed?.attempt ?? null,
      error: last.message,
    };
  }
}

/** The innermost cause: once the day is over, a timeout whose cause is the last attempt's failure. */
function lastCause(err: unknown): Error {
  let last = err as Error;
  while (last.cause instanceof Error) last = last.cause;
  return last;
}

// The sandbox has no URL parser to rely on; these keep the scheme, host and path only.
const hostOf = (url: string) => /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url)?.[1] ?? url;
const withoutSecrets = (url: string) => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?([^?#]*).*$/is, '$1$2');
