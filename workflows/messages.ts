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

/** ApplicationFailure types the workflow rejects with; the API maps them to HTTP errors. */
export const CallErrorType = {
  ended: 'call_ended',
  windowExpired: 'resume_window_expired',
  invalidState: 'invalid_state',
} as const;
export type CallErrorType = (typeof CallErrorType)[keyof typeof CallErrorType];

export const workflowIdFor = (callId: string): string => `call-${callId}`;
