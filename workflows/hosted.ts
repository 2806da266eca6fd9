// What a hosted voice call says besides the responder's replies: greetings, re-prompts, transfer lines.
// Pure code, so the workflow decides every word and the providers' adapters only render it.
import type { AgentSnapshot, CallView, TransferSettings, VoiceMode } from './types.js';

/** After this many silent prompts in a row the call ends `timeout`. */
export const SILENT_PROMPTS = 3;
export const DEFAULT_TRANSFER_PHRASES = ['human', 'agent', 'person', 'representative', 'operator'];

/** How the provider's adapter renders the call: what the agent configured, fixed at the call's start. */
export interface HostedVoice {
  mode: VoiceMode;
  language: string;
  /** The key that asks for a person, when the agent transfers by DTMF. */
  transferDigit?: string;
  record: boolean;
}

export function hostedVoice(agent: AgentSnapshot | undefined): HostedVoice {
  return {
    mode: agent?.voice?.mode ?? 'gather',
    language: agent?.language ?? 'en-US',
    ...(agent?.transfer?.digit ? { transferDigit: agent.transfer.digit } : {}),
    record: agent?.record === true,
  };
}

const nameOf = (call: CallView) => (typeof call.context.name === 'string' ? call.context.name : undefined);

/** The first words of a call; a caller who redialed hears "Welcome back" and their name. */
export function greeting(call: CallView, agent: AgentSnapshot | undefined, resumed: boolean): string {
  const name = nameOf(call);
  if (resumed) {
    // A script in progress asks its open slot again; otherwise the conversation simply goes on.
    const asking = agent?.script?.slots.find((s) => s.name === call.context.state);
    return `Welcome back${name ? `, ${name}` : ''}. ${asking ? asking.ask : 'Where were we? How can I help?'}`;
  }
  if (agent?.firstMessage) return agent.firstMessage;
  return name ? `Hello ${name}! How can I help you today?` : 'Hello! How can I help you today?';
}

export function reprompt(silent: number): string {
  return silent >= SILENT_PROMPTS - 1
    ? 'Are you still there? Please say something, or I will end the call.'
    : "Sorry, I didn't catch that.";
}

export const SILENCE_GOODBYE = "I haven't heard anything, so I'll end the call here. Goodbye!";
export const TRANSFERRING = 'Connecting you to a person now. Please hold.';
export const TRANSFER_FAILED: Record<string, string> = {
  busy: 'Sorry, the line was busy and I could not connect you.',
  'no-answer': 'Sorry, nobody answered and I could not connect you.',
  failed: 'Sorry, I could not connect you.',
  canceled: 'Sorry, I could not connect you.',
};
export const AFTER_TRANSFER_FAILED = 'Is there anything I can help you with meanwhile?';

/** Whether the caller asks for a person: the transfer key, or one of the phrases as whole words. */
export function asksForPerson(transfer: TransferSettings | undefined, text: string, digits?: string): boolean {
  if (!transfer) return false;
  if (transfer.digit && digits?.includes(transfer.digit)) return true;
  const said = ` ${text.toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, ' ')} `;
  return (transfer.phrases ?? DEFAULT_TRANSFER_PHRASES).some((p) => said.includes(` ${p.toLowerCase().trim()} `));
}
