// One error shape for every response: {"error": {"code", "message", "details"?}}.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  /** The account is suspended: its keys, its chat tokens and calls to its numbers are refused. */
  account_suspended: 403,
  not_found: 404,
  method_not_allowed: 405,
  call_ended: 409,
  invalid_state: 409,
  /** The phone number belongs to another account. */
  number_taken: 409,
  resume_window_expired: 410,
  payload_too_large: 413,
  rate_limited: 429,
  /** The account has as many open calls as its limit allows (details: limit, open). */
  concurrency_limit: 429,
  internal: 500,
  /** A dependency (PostgreSQL, Redis, or the call service) is down or overloaded. */
  unavailable: 503,
  /** The Temporal frontend cannot be reached. */
  temporal_unavailable: 503,
  /** The call's workflow did not answer within the API's deadline (no worker, or one overloaded). */
  timeout: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
    /** What went wrong underneath: logged, never sent. */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export function errorJson(c: Context, err: ApiError) {
  const body = { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
  return c.json(body, err.status, err.headers);
}

const FROM_HTTP: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  429: 'rate_limited',
};

const DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P03', '53300']);
/** A PostgreSQL or Redis that is down or overloaded: the client should retry, so 503 rather than 500. */
export function isDependencyDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string } | null;
  if (!e) return false;
  if (e.code && (DOWN_CODES.has(e.code) || e.code.startsWith('08'))) return true; // 08xxx: connection exceptions
  return /Connection is closed|Connection terminated|MaxRetriesPerRequest|timeout exceeded when trying to connect/i.test(
    `${e.name} ${e.message}`,
  );
}

/** The chain of causes as one line: `ServiceError: ... <- Error: 14 UNAVAILABLE: No connection established`. */
export function describeCause(cause: unknown): string | undefined {
  const parts: string[] = [];
  for (let e: any = cause; e && parts.length < 5; e = e.cause) parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return parts.length ? parts.join(' <- ').slice(0, 1000) : undefined;
}

/** The app's single onError: known errors keep their code; anything else is logged and hidden. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isDependencyDown(err)) return new ApiError('unavailable', 'a dependency is unavailable; retry later', undefined, undefined, err);
  if (err instanceof HTTPException) {
    const code = FROM_HTTP[err.status] ?? (err.status >= 500 ? 'unavailable' : 'invalid_request');
    return new ApiError(code, err.message || code.replace('_', ' '));
  }
  return new ApiError('internal', 'internal error');
}
