// One ConversationRelay WebSocket: Twilio's messages become hosted updates of the call, answered with
// `text` tokens (a streaming model's as they come) and, when the conversation concludes or hands off, `end`.
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Stores } from '../../store/call-reader.js';
import type { HostedInput, HostedReply } from '../../workflows/messages.js';
import { RELAY_CLOSED } from '../../workflows/types.js';
import type { CallGateway } from '../call-gateway.js';
import { ApiError } from '../errors.js';
import { resolveLeg } from '../providers/leg-map.js';
import { MAX_HOLDS, type VoiceConversation } from './conversation.js';
import { tokenChannel, type RelayTokens } from './relay-tokens.js';
import { digitsOf, MAX_UTTERANCE, utterance } from './speech.js';

/** A socket that never says which call it carries is closed after this long. */
export const SETUP_TIMEOUT_MS = 10_000;
const HOLDING = 'One moment.';
const TOO_LONG = 'Sorry, that was too long. Could you say it more briefly?';
const TROUBLE = 'Sorry, we are having trouble. Please call back in a moment.';
/** Closed by the call: the same words as a policy violation (RFC 6455). */
const POLICY = 1008;

const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);
const Setup = z.object({ type: z.literal('setup'), sessionId: id, callSid: z.string().regex(/^[A-Za-z0-9]{2,64}$/) });
const Prompt = z.object({ type: z.literal('prompt'), voicePrompt: z.string().max(100_000), last: z.boolean().optional() });
const Dtmf = z.object({ type: z.literal('dtmf'), digit: z.string().max(100) });
const Interrupt = z.object({ type: z.literal('interrupt'), utteranceUntilInterrupt: z.string().max(100_000).default('') });
const Failure = z.object({ type: z.literal('error'), description: z.string().max(2000).optional() });
const Message = z.discriminatedUnion('type', [Setup, Prompt, Dtmf, Interrupt, Failure]);
type Message = z.infer<typeof Message>;
const KNOWN = new Set(['setup', 'prompt', 'dtmf', 'interrupt', 'error']);

export interface RelaySocket {
  send(message: string): void;
  close(code: number, reason: string): void;
}

export interface RelaySessionDeps {
  conversation: VoiceConversation;
  gateway: CallGateway;
  stores: Stores;
  tokens: RelayTokens;
  logger?: Logger;
  setupTimeoutMs?: number;
}

interface Leg {
  callId: string;
  sid: string;
  sessionId: string;
}

export class RelaySession {
  private leg?: Promise<Leg>;
  /** Messages are answered one at a time, in the order Twilio sent them. */
  private work: Promise<unknown> = Promise.resolve();
  private readonly counts = { prompt: 0, dtmf: 0, interrupt: 0 };
  /** The prompt being answered: an interrupt stops what is still to be said of it. */
  private speaking?: { interrupted: boolean };
  private ended = false;
  private closed = false;
  private readonly setupTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: RelaySocket,
    private readonly deps: RelaySessionDeps,
  ) {
    this.setupTimer = setTimeout(() => socket.close(POLICY, 'no setup'), deps.setupTimeoutMs ?? SETUP_TIMEOUT_MS);
  }

  receive(raw: string): void {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.deps.logger?.warn({ bytes: raw.length }, 'relay message is not JSON; ignored');
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !KNOWN.has(type)) return this.deps.logger?.info({ type }, 'relay message of unknown type; ignored');
    const parsed = Message.safeParse(json);
    if (!parsed.success) return this.deps.logger?.warn({ type, issues: parsed.error.issues.length }, 'relay message malformed; ignored');
    this.dispatch(parsed.data);
  }

  /** Twilio closed the socket (or the caller hung up): without our `end`, the call dropped. */
  onClose(): void {
    clearTimeout(this.setupTimer);
    if (this.closed) return;
    this.closed = true;
    if (this.speaking) this.speaking.interrupted = true;
    void this.leg
      ?.then((leg) => {
        if (this.ended) return;
        const key = `twilio:${leg.sid}:relay-closed:${leg.sessionId}`;
        return this.deps.gateway.signal(leg.callId, { type: 'drop', key, reason: RELAY_CLOSED, answered: true });
      })
      .catch((err) => this.deps.logger?.error({ err }, 'relay drop not signaled'));
  }

  /** The API stops: its sockets close, which says nothing about the call (Twilio's callbacks will). */
  shutdown(): void {
    this.ended = true;
    this.socket.close(1001, 'server stopping');
  }

  private dispatch(m: Message): void {
    if (m.type === 'error') return this.deps.logger?.warn({ description: m.description }, 'ConversationRelay reported an error');
    if (m.type === 'setup') {
      if (this.leg) return this.deps.logger?.info('repeated relay setup; ignored');
      clearTimeout(this.setupTimer);
      const { sessionId, callSid } = m;
      this.leg = resolveLeg(this.deps.stores, callSid).then(({ callId }) => ({ callId, sid: callSid, sessionId }));
      return void this.leg.catch((err) => {
        this.deps.logger?.error({ err, callSid }, 'relay leg not resolved');
        this.socket.close(1011, 'leg not resolved');
      });
    }
    if (!this.leg) return this.deps.logger?.info({ type: m.type }, 'relay message before setup; ignored');
    // Non-final prompts are partial transcripts: the final one carries the whole utterance.
    if (m.type === 'prompt' && m.last === false) return;
    // Arrives while the reply may still be streaming: nothing more of it is sent.
    if (m.type === 'interrupt' && this.speaking) this.speaking.interrupted = true;
    const leg = this.leg;
    this.work = this.work.then(async () => this.handle(await leg, m)).catch((err) => this.failed(err));
  }

  private async handle(leg: Leg, m: Message): Promise<void> {
    if (this.ended || this.closed) return;
    const key = (kind: keyof RelaySession['counts']) => `twilio:${leg.sid}:${leg.sessionId}:${kind}:${++this.counts[kind]}`;
    if (m.type === 'prompt') {
      const said = utterance(m.voicePrompt);
      if (said === null) return this.text(TOO_LONG, true);
      if (said) await this.converse(leg, { kind: 'speech', leg: leg.sid, key: key('prompt'), text: said });
    } else if (m.type === 'dtmf') {
      const digits = digitsOf(m.digit);
      if (digits) await this.converse(leg, { kind: 'speech', leg: leg.sid, key: key('dtmf'), text: '', digits });
    } else if (m.type === 'interrupt') {
      const said = utterance(m.utteranceUntilInterrupt) ?? m.utteranceUntilInterrupt.slice(0, MAX_UTTERANCE);
      await this.ask(leg, { kind: 'interrupted', leg: leg.sid, key: key('interrupt'), said }, () => false);
    }
  }

  /** A turn: its reply is said as it streams, then whatever of it did not stream, with `last`. */
  private async converse(leg: Leg, input: Extract<HostedInput, { kind: 'speech' }>): Promise<void> {
    const speaking = (this.speaking = { interrupted: false });
    let streamed = '';
    const channel = tokenChannel(leg.callId, input.key);
    const stop = await this.deps.tokens
      .listen(channel, (token) => {
        if (speaking.interrupted) return;
        streamed += token;
        this.text(token, false);
      })
      .catch((err) => void this.deps.logger?.warn({ err }, 'relay tokens not followed; the reply comes whole'));
    let reply: HostedReply | null;
    try {
      reply = await this.ask(leg, stop ? { ...input, stream: channel } : input, () => !streamed);
    } finally {
      stop?.();
      this.speaking = undefined;
    }
    if (!reply || speaking.interrupted) return;
    const text = reply.say.join(' ');
    // Tokens may lag the update's answer: what has not arrived yet is sent from the whole reply.
    this.text(text.startsWith(streamed) ? text.slice(streamed.length) : '', true);
    if (reply.next === 'hangup') this.end({ reason: reply.call.disposition ?? 'completed' });
    else if (reply.next === 'transfer') this.end({ reason: 'transfer', ...reply.transfer });
  }

  /** Asks the call until it answers; meanwhile the caller hears a holding line (once, while `quiet`). */
  private async ask(leg: Leg, input: HostedInput, quiet: () => boolean): Promise<HostedReply | null> {
    for (let holds = 0; ; holds++) {
      const reply = await this.deps.conversation.hear(leg.callId, input);
      if (reply || this.closed) return reply;
      if (holds >= MAX_HOLDS) {
        if (input.kind !== 'interrupted') this.text(TROUBLE, true);
        this.end({ reason: 'unavailable' });
        return null;
      }
      if (holds === 0 && quiet()) this.text(HOLDING, false);
    }
  }

  private failed(err: unknown): void {
    // The call is over (ended elsewhere, or its window passed): the session ends with it.
    if (err instanceof ApiError && ['call_ended', 'not_found', 'resume_window_expired', 'invalid_state'].includes(err.code))
      return this.end({ reason: 'ended' });
    this.deps.logger?.error({ err }, 'relay message not handled');
    this.text(TROUBLE, true);
  }

  private text(token: string, last: boolean): void {
    if (!this.closed) this.socket.send(JSON.stringify({ type: 'text', token, last }));
  }

  /** Twilio ends the session and asks the `<Connect action>` what follows (the `<Dial>`, or `<Hangup/>`). */
  private end(handoff: Record<string, unknown>): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.socket.send(JSON.stringify({ type: 'end', handoffData: JSON.stringify(handoff) }));
  }
}
