// Every signal, update and query of the call workflow, defined once for the workflow, API and tests.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CallEvent, CallView, MessageReply } from './types.js';

/** Fire-and-forget events from telephony webhooks and pipelines; disallowed ones are recorded as ignored. */
export const callEventSignal = defineSignal<[CallEvent]>('callEvent');

/** The same events from API clients, who need the outcome: disallowed ones are rejected. */
export const callEventUpdate = defineUpdate<CallView, [CallEvent]>('callEvent');

export interface ChatMessage {
  text: string;
  /** Idempotency key: a repeated message gets the first reply again. */
  messageId: string;
  at?: string;
}
/** A chat turn: records the user turn, runs the responder, records and returns the reply. */
export const chatMessageUpdate = defineUpdate<MessageReply, [ChatMessage]>('chatMessage');

export const callViewQuery = defineQuery<CallView>('callView');

export interface OpenCall {
  /** Fresh per request: the call was created by the request whose id its workflow was started with. */
  requestId: string;
}
export interface OpenedCall {
  created: boolean;
  call: CallView;
}
/**
 * `POST /calls` as update-with-start: one round trip that starts the call (or finds it) and answers once
 * its start is recorded, so the row exists in PostgreSQL when the client hears back.
 */
export const openCallUpdate = defineUpdate<OpenedCall, [OpenCall]>('openCall');

/** ApplicationFailure types the workflow rejects with; the API maps them to HTTP errors. */
export const CallErrorType = {
  ended: 'call_ended',
  windowExpired: 'resume_window_expired',
  invalidState: 'invalid_state',
} as const;
export type CallErrorType = (typeof CallErrorType)[keyof typeof CallErrorType];

export const workflowIdFor = (callId: string): string => `call-${callId}`;
