import type { Turn } from '../../workflows/types.js';

export interface ResponderInput {
  callId: string;
  text: string;
  /** What the call has learned so far (the caller's name, for one). */
  context: Record<string, unknown>;
  /** The recent transcript, oldest first, ending with the user's turn. */
  history: Turn[];
  /** The call's agent: its prompt is the system message; model settings replace the configured ones. */
  agent?: { prompt?: string; model?: string; temperature?: number; maxTokens?: number };
  /** A Redis channel to publish the reply's tokens on as they come (a ConversationRelay prompt waits on it). */
  stream?: string;
}

export interface ResponderOutput {
  text: string;
  context: Record<string, unknown>;
  /** The reply ends the conversation (a phone call hangs up after it). */
  concluded?: boolean;
}

/** Receives a streaming model's tokens as they come, before the reply is whole. */
export type TokenSink = (token: string) => void;

/** Produces the assistant's reply to one user turn; a model that streams hands `tokens` its text as it comes. */
export type Responder = (input: ResponderInput, tokens?: TokenSink) => Promise<ResponderOutput>;
