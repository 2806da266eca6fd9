// Every signal, update and query of the call workflow, defined once for the workflow, API and tests.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { HostedVoice } from './hosted.js';
import type { CallEvent, CallView, MessageReply, TransferOutcome } from './types.js';

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

/** One request of a hosted voice call's provider (Twilio's voice URL and Gather actions, Vonage's NCCO events, a relay prompt). */
export type HostedInput =
  /** The call is answered (or redialed): answers its greeting. `provider` names the keys (`twilio:<leg>:...`). */
  | { kind: 'answer'; provider: string; leg: string }
  /** The caller said something (or pressed keys); `key` names the turn, so a retried request answers the same. */
  | {
      kind: 'speech';
      leg: string;
      key: string;
      text: string;
      digits?: string;
      /** A Redis channel a streaming model publishes its tokens on (ConversationRelay speaks them as they come). */
      stream?: string;
    }
  /** The caller said nothing for the `count`-th prompt in a row. */
  | { kind: 'silence'; leg: string; key: string; count: number }
  /** How the transfer's dial went. */
  | { kind: 'dial'; leg: string; key: string; attempt: number; outcome: TransferOutcome }
  /** A ConversationRelay session closed with `end` (Twilio's `<Connect action>`): what follows. */
  | { kind: 'connected'; leg: string; key: string }
  /** The caller cut the last reply short (ConversationRelay's `interrupt`): it is recorded as said up to there. */
  | { kind: 'interrupted'; leg: string; key: string; said: string };

export interface HostedAnswer {
  /** What the caller hears, in order. */
  say: string[];
  /** Listen for the next turn, hang up (the call has ended), or dial `transfer.to`. */
  next: 'listen' | 'hangup' | 'transfer';
  transfer?: { to: string; attempt: number };
}
export interface HostedReply extends HostedAnswer {
  call: CallView;
  voice: HostedVoice;
}
/** The request a hosted input answers: a repeat (a provider's retry) gets, or waits for, the same answer. */
export const hostedKey = (input: HostedInput): string => (input.kind === 'answer' ? `${input.provider}:${input.leg}:greet` : input.key);

/** A hosted voice call's turn: one update that records what was said and answers what the caller hears next. */
export const hostedTurnUpdate = defineUpdate<HostedReply, [HostedInput]>('hostedTurn');

/** An operator hands a live hosted call to a person (`POST /calls/{id}/transfer`). */
export interface TransferRequest {
  to: string;
  key: string;
}
export const transferCallUpdate = defineUpdate<CallView, [TransferRequest]>('transferCall');

/** ApplicationFailure types the workflow rejects with; the API maps them to HTTP errors. */
export const CallErrorType = {
  ended: 'call_ended',
  windowExpired: 'resume_window_expired',
  invalidState: 'invalid_state',
} as const;
export type CallErrorType = (typeof CallErrorType)[keyof typeof CallErrorType];

export const workflowIdFor = (callId: string): string => `call-${callId}`;
/** The call a workflow id names (the inverse of workflowIdFor). */
export const callIdOf = (workflowId: string): string => workflowId.replace(/^call-/, '');
