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
}

export interface ResponderOutput {
  text: string;
  context: Record<string, unknown>;
}

/** Produces the assistant's reply to one user turn. */
export type Responder = (input: ResponderInput) => Promise<ResponderOutput>;
