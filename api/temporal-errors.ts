// Maps what Temporal answers onto the API's error codes.
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { CallErrorType } from '../workflows/messages.js';
import { ApiError } from './errors.js';

const BY_TYPE: Record<string, ApiError['code']> = {
  [CallErrorType.ended]: 'call_ended',
  [CallErrorType.windowExpired]: 'resume_window_expired',
  [CallErrorType.invalidState]: 'invalid_state',
};

/** Finds the ApplicationFailure at the root of a wrapped failure. */
function rootApplicationFailure(err: unknown): ApplicationFailure | undefined {
  for (let e: any = err; e; e = e.cause) if (e instanceof ApplicationFailure && e.type) return e;
  return undefined;
}

export function isWorkflowGone(err: unknown): boolean {
  if (err instanceof WorkflowNotFoundError || grpcCode(err) === GRPC_NOT_FOUND) return true;
  // The Rust core's client puts the server's words in the message (grpc-js in `details`).
  for (let e: any = err; e; e = e.cause) {
    if ((e === err || isGrpcServiceError(e)) && /workflow execution already completed|not found/i.test(String(e.message ?? '')))
      return true;
  }
  return false;
}

// gRPC UNAVAILABLE: the Temporal frontend cannot be reached (or is restarting).
const GRPC_UNAVAILABLE = 14;
const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;

function grpcCode(err: unknown): number | undefined {
  for (let e: any = err; e; e = e.cause) if (isGrpcServiceError(e)) return e.code;
  return undefined;
}

/**
 * Whether an update that failed may simply be sent again (same update id, so it cannot apply twice):
 * not when the call answered (an application failure), timed out, or Temporal is unreachable; yes when
 * it was aborted underneath, e.g. by the run continuing as new while the update was admitted.
 */
export function mayRetryUpdate(err: unknown): boolean {
  if (rootApplicationFailure(err) || err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) return false;
  if (err instanceof WorkflowExecutionAlreadyStartedError || grpcCode(err) === GRPC_UNAVAILABLE) return false;
  if (err instanceof WorkflowNotFoundError) return false;
  return true;
}

/**
 * The API error for what Temporal answered. A 503 says why, so a client (and whoever reads the logs)
 * can tell a Temporal outage from a call that did not answer in time; `cause` keeps the original.
 */
export function fromTemporal(err: unknown, callId?: string): ApiError {
  if (err instanceof ApiError) return err;
  const failure = rootApplicationFailure(err);
  const code = failure?.type ? BY_TYPE[failure.type] : undefined;
  if (code) return new ApiError(code, failure!.message);
  const details = callId ? { callId } : undefined;
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) {
    return new ApiError(
      'timeout',
      `the call${callId ? ` ${callId}` : ''} did not answer in time; retry with the same id`,
      details,
      undefined,
      err,
    );
  }
  if (grpcCode(err) === GRPC_UNAVAILABLE) {
    return new ApiError('temporal_unavailable', 'Temporal is unreachable; retry later', details, undefined, err);
  }
  if (grpcCode(err) === GRPC_FAILED_PRECONDITION) {
    // e.g. the call's last workflow task failed with its worker: it recovers once a worker picks it up again.
    return new ApiError('unavailable', 'the call is recovering from a worker failure; retry with the same id', details, undefined, err);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    return new ApiError('unavailable', 'the call could not complete the request; retry later', details, undefined, err);
  }
  return new ApiError('unavailable', 'the call service is unavailable; retry later', details, undefined, err);
}
