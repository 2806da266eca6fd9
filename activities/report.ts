// The end-of-call report: the call view and its whole transcript, read from PostgreSQL (the system of
// record) and POSTed to the receiver, signed like the event feed. Every attempt sends the same body (its
// `at` is the call's end), so only the signature's time differs and the receiver dedupes on `eventId`.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { signFeedBody } from '../common/feed-signature.js';
import type { AttemptFailure } from '../workflows/report.js';
import { selectCall, selectTurns } from '../store/calls-table.js';
import { EVERY_ACCOUNT } from '../store/scope.js';

export interface ReportInput {
  callId: string;
  eventId: string;
  url: string;
}

/** Long enough for a slow receiver, shorter than the activity's 30 seconds. */
const REQUEST_TIMEOUT_MS = 20_000;

export async function postReport(
  pool: pg.Pool,
  secret: string | undefined,
  { callId, eventId, url }: ReportInput,
): Promise<{ status: number; attempts: number }> {
  if (!secret) throw ApplicationFailure.nonRetryable('the worker has no WEBHOOK_SECRET to sign the report with', 'ReportUnsigned');
  const call = await selectCall(pool, EVERY_ACCOUNT, callId);
  if (!call) throw ApplicationFailure.nonRetryable(`call ${callId} is not in PostgreSQL`, 'ReportCallMissing');
  const transcript = await selectTurns(pool, callId, 0, call.turnCount);
  const body = JSON.stringify({ eventId, type: 'call.ended', at: call.endedAt, call, transcript });

  const { info, cancellationSignal } = Context.current();
  const failed = (message: string, status: number | null) =>
    ApplicationFailure.retryable(message, 'ReportNotDelivered', { status, attempt: info.attempt } satisfies AttemptFailure);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'user-agent': 'Callwright', 'x-signature': signFeedBody(secret, body) },
      // A redirect is not followed: a POST must not turn into a GET elsewhere; the receiver fixes its URL.
      redirect: 'manual',
      signal: AbortSignal.any([cancellationSignal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw failed(`the receiver could not be reached: ${cause?.code ?? cause?.message ?? (err as Error).message}`, null);
  }
  await res.body?.cancel();
  if (!res.ok) throw failed(`the receiver answered ${res.status}`, res.status);
  return { status: res.status, attempts: info.attempt };
}
