// Maps what Temporal answers onto the API's error codes.
import { WorkflowUpdateFailedError } from '@temporalio/client';
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
  if (err instanceof WorkflowNotFoundError) return true;
  const message = String((err as Error)?.message ?? '');
  return /workflow execution already completed|not found/i.test(message);
}

export function fromTemporal(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const failure = rootApplicationFailure(err);
  const code = failure?.type ? BY_TYPE[failure.type] : undefined;
  if (code) return new ApiError(code, failure!.message);
  if (err instanceof WorkflowUpdateFailedError) return new ApiError('unavailable', 'the call could not complete the request; retry later');
  return new ApiError('unavailable', 'the call service is unavailable; retry later');
}
