// The state of one call and the only code that changes it: apply an event, then record it. Records
// gather in a batch that one local activity writes in one transaction (`flush`).
import { ActivityFailure, ApplicationFailure, isCancellation, log } from '@temporalio/workflow';
import { dialer, recorder, responder } from './activities.js';
import { partyNumber } from './party.js';
import { Dedup, type DedupSnapshot } from './dedup.js';
import { ended, initialView, transition } from './lifecycle.js';
import { CallErrorType, type ChatMessage } from './messages.js';
import type { ReportOutcome } from './report.js';
import { scriptedReply, type Answer } from './scripted-responder.js';
import {
  PROVIDER_REFUSED,
  RELAY_CLOSED,
  type AgentSnapshot,
  type CallConfig,
  type CallEvent,
  type CallView,
  type Disposition,
  type MessageReply,
  type ProviderError,
  type RecordBatch,
  type RecordedEventType,
  type Role,
  type StartCall,
  type TransferOutcome,
  type Turn,
} from './types.js';

export interface SessionSnapshot {
  call: CallView;
  lastActivityMs: number;
  dedup: DedupSnapshot;
  /** Highest provider sequence seen per leg. */
  order: Record<string, number>;
  /** A hosted voice call's transfers (absent before its first). */
  transfers?: TransferState;
  /** The provider was asked to record the call and its recording has not arrived yet. */
  awaitingRecording?: boolean;
  /** The seq of the assistant's latest turn (a reply a relay caller may interrupt). */
  lastSaid?: number;
}

export interface TransferState {
  attempts: number;
  /** The attempt being dialed, until its outcome is known. */
  dialing?: { to: string; attempt: number; sinceMs: number };
  /** How the latest attempt went, once known (for the operators' view). */
  last?: { to: string; attempt: number; outcome: TransferOutcome };
}

export type Mode = 'signal' | 'update';

/** Twilio statuses after which a leg is over: nothing to hang up. */
const TWILIO_FINAL = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** Bounds one transaction however many events are queued. */
const MAX_BATCH = 100;

export class CallSession {
  /** The call with every applied event: ahead of `recorded` while a batch is open. */
  call: CallView;
  /** The call as PostgreSQL holds it: what queries answer. */
  recorded: CallView;
  lastActivityMs: number;
  readonly dedup: Dedup;
  private readonly order: Record<string, number>;
  private pending: RecordBatch | undefined;
  /** The call's agent as it was when the call started (absent: the default assistant). */
  readonly agent: AgentSnapshot | undefined;
  transfers: TransferState;
  awaitingRecording: boolean;
  private lastSaid: number | undefined;

  constructor(
    private readonly config: CallConfig,
    start: StartCall,
    workflowId: string,
    snapshot: SessionSnapshot | undefined,
  ) {
    this.call = snapshot?.call ?? initialView(start, workflowId, Date.now());
    this.recorded = this.call;
    this.lastActivityMs = snapshot?.lastActivityMs ?? Date.now();
    this.dedup = new Dedup(snapshot?.dedup);
    this.order = { ...snapshot?.order };
    this.agent = start.agent;
    this.transfers = snapshot?.transfers ?? { attempts: 0 };
    this.awaitingRecording = snapshot?.awaitingRecording ?? false;
    this.lastSaid = snapshot?.lastSaid;
  }

  get ended(): boolean {
    return this.call.status === 'ended';
  }

  snapshot(): SessionSnapshot {
    const hosted = {
      ...(this.transfers.attempts ? { transfers: this.transfers } : {}),
      ...(this.awaitingRecording ? { awaitingRecording: true } : {}),
      ...(this.lastSaid !== undefined ? { lastSaid: this.lastSaid } : {}),
    };
    return { call: this.call, lastActivityMs: this.lastActivityMs, dedup: this.dedup.snapshot(), order: { ...this.order }, ...hosted };
  }

  /** Records the start; the row in `calls` exists once the batch is flushed. */
  async started(start: StartCall): Promise<void> {
    const call = this.call;
    const payload = { channel: call.channel, direction: call.direction, from: call.from, to: call.to, answered: start.answered };
    await this.record({ key: start.key, type: 'started', applied: true, at: start.at, payload }, call);
    // An agent's opening line is a chat's first turn, written together with the start.
    const opening = start.channel === 'chat' ? start.agent?.firstMessage : undefined;
    if (opening) {
      const next = { ...this.call, turnCount: this.call.turnCount + 1 };
      await this.record({ key: `${start.key}:first-message`, type: 'reply', applied: true, payload: {} }, next, {
        role: 'assistant',
        text: opening,
      });
    }
  }

  /**
   * Applies an event. A repeat of an earlier key changes nothing. A disallowed event is recorded as
   * ignored; for updates it is also thrown, so the client learns why.
   */
  async apply(event: CallEvent, mode: Mode): Promise<CallView> {
    if (this.dedup.has(event.key)) return this.call;
    const now = Date.now();
    const stale = event.order && (this.order[event.order.leg] ?? -1) >= event.order.n;
    const result = stale
      ? ({ ok: false, code: CallErrorType.invalidState, reason: 'stale: a later provider event was already applied' } as const)
      : this.handingOff(event)
        ? ({ ok: false, code: CallErrorType.invalidState, reason: 'the relay closed for a transfer being dialed' } as const)
        : transition(this.call, event, now, this.config);
    if (event.order && !stale) this.order[event.order.leg] = event.order.n;
    const { type, key, at, order: _order, ...payload } = event;
    if (!result.ok) {
      if (this.call.status !== 'ended') {
        await this.record({ key, type, applied: false, at, payload: { ...payload, ignored: result.reason } }, this.call);
      }
      // Resuming a call that is already active is answered with the call as it is, so a client's retry
      // gets the same answer (Temporal keeps an update's first outcome).
      if (mode === 'update' && type === 'resume' && this.call.status === 'active') return this.call;
      if (mode === 'update') throw ApplicationFailure.create({ type: result.code, message: result.reason, nonRetryable: true });
      log.info('event ignored', { callId: this.call.callId, type, reason: result.reason });
      return this.call;
    }
    if (type !== 'leg' && type !== 'drop' && type !== 'end') this.lastActivityMs = now;
    await this.record({ key, type, applied: true, at, payload }, result.next, result.turn);
    return this.call;
  }

  /**
   * An operator's transfer replaces a relay call's TwiML, which closes its socket: that close is the
   * handoff, not the caller leaving (their own hang-up still drops the call, through the status callback).
   */
  private handingOff(event: CallEvent): boolean {
    return event.type === 'drop' && event.reason === RELAY_CLOSED && this.transfers.dialing !== undefined;
  }

  /** A chat turn: resume a dropped call first, record the user turn, answer it, record the reply. */
  async message(msg: ChatMessage): Promise<MessageReply> {
    const cached = this.dedup.reply(msg.messageId);
    if (cached) return { reply: cached, call: this.call };
    if (this.call.status === 'dropped') await this.apply({ type: 'resume', key: `${msg.messageId}:resume` }, 'update');
    const { reply } = await this.converse(msg.messageId, msg.text, msg.at);
    this.dedup.rememberReply(msg.messageId, reply);
    return { reply, call: this.call };
  }

  /** One exchange: records the user's turn, answers it, records the reply (keys `<key>` and `<key>:reply`). */
  async converse(key: string, text: string, at?: string, stream?: string): Promise<{ reply: Turn; concluded: boolean }> {
    await this.apply({ type: 'message', key, text, at }, 'update');
    const answer = await this.answer(text, stream);
    const next = { ...this.call, context: answer.context, turnCount: this.call.turnCount + 1 };
    const reply = await this.say(`${key}:reply`, answer.text, next);
    this.lastActivityMs = Date.now();
    return { reply, concluded: answer.concluded === true };
  }

  /** Records what the assistant said of its own (a greeting, a transfer line) as an assistant turn. */
  async say(key: string, text: string, next: CallView = { ...this.call, turnCount: this.call.turnCount + 1 }): Promise<Turn> {
    const turn = (await this.record({ key, type: 'reply', applied: true, payload: {} }, next, { role: 'assistant', text }))!;
    this.lastSaid = turn.seq;
    return turn;
  }

  /**
   * The caller cut the assistant's latest turn short: it is rewritten (same seq; the store upserts turns)
   * with what was said. False when another turn came after it.
   */
  async rewriteLastSaid(key: string, said: string): Promise<boolean> {
    const seq = this.lastSaid;
    if (seq === undefined || seq !== this.call.turnCount || this.dedup.has(key)) return false;
    // One row per seq in a batch: a rewrite still waiting to be written replaces the turn it rewrites.
    if (this.pending) this.pending.turns = this.pending.turns.filter((t) => t.seq !== seq);
    await this.record({ key, type: 'reply', applied: true, payload: { interrupted: true } }, this.call, { role: 'assistant', text: said });
    return true;
  }

  /**
   * Places an outbound call through the provider: its CallSid joins `legs`, whose status callbacks then
   * drive the call; a refusal, or a provider that stays unreachable, ends the call `failed`.
   */
  async dial(): Promise<void> {
    const { callId, from, to } = this.call;
    const key = `dial:${callId}`;
    try {
      const { sid } = await dialer.placeCall.executeWithOptions({ summary: `dial ${to} from ${from} (twilio)` }, [
        { callId, from, to: to! },
      ]);
      await this.apply({ type: 'leg', key, leg: sid }, 'signal');
    } catch (err) {
      if (isCancellation(err)) throw err;
      const refused =
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === PROVIDER_REFUSED
          ? err.cause
          : undefined;
      const providerError = refused?.details?.[0] as ProviderError | undefined;
      const reason = refused?.message ?? 'could not reach the provider';
      await this.apply({ type: 'end', key, disposition: 'failed', reason, ...(providerError ? { providerError } : {}) }, 'signal');
    }
  }

  /**
   * The call was placed through Twilio and ended here first (an operator, a ring or idle timeout) while
   * Twilio has not said its leg is over: end it there too, canceled while it rings, completed once answered.
   * Best effort: the call has ended whatever Twilio answers.
   */
  async hangUpPlacedLeg(): Promise<void> {
    const sid = this.call.legs[0];
    if (!sid || TWILIO_FINAL.some((status) => this.dedup.has(`twilio:${sid}:${status}`))) return;
    const status = this.call.answeredAt ? 'completed' : 'canceled';
    try {
      await dialer.hangUpCall.executeWithOptions({ summary: `hang up ${sid} (twilio: ${status})` }, [{ sid, status }]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('placed call not hung up at Twilio', { callId: this.call.callId, sid, error: String(err) });
    }
  }

  /** A durable timer fired: the window or the idle timeout passed. */
  async expire(disposition: Disposition, reason: string): Promise<void> {
    await this.record(
      { key: `timer:${disposition}:${this.call.version}`, type: 'timeout', applied: true, payload: { disposition, reason } },
      ended(this.call, disposition, Date.now()),
    );
  }

  /** Records how the end-of-call report went; the call itself stays as it ended. */
  async reported(outcome: ReportOutcome): Promise<void> {
    await this.record({ key: outcome.eventId, type: 'report', applied: true, payload: { ...outcome } }, this.call);
    if (this.unrecorded) await this.flush();
  }

  /** True while applied events wait to be written: callers flush only then. */
  get unrecorded(): boolean {
    return this.pending !== undefined;
  }

  /** Writes what was applied since the last flush: one local activity, one transaction. */
  async flush(): Promise<void> {
    const batch = this.pending!;
    this.pending = undefined;
    await recorder.recordEvents.executeWithOptions({ summary: summarize(batch) }, [batch]);
    this.recorded = batch.call;
  }

  /** `stream` names the Redis channel a streaming model publishes its tokens on (a relay call's prompt). */
  private async answer(text: string, stream?: string): Promise<Answer> {
    if (this.config.responder === 'scripted') {
      return scriptedReply({ text, context: this.call.context, script: this.agent?.script, topics: this.agent?.topics });
    }
    // A model reads the transcript from the store, so the user's turn must be there first.
    if (this.unrecorded) await this.flush();
    const agent = this.agent && { prompt: this.agent.prompt, ...(this.agent.responder?.kind === 'openai' ? this.agent.responder : {}) };
    return responder.respond.executeWithOptions({ summary: `responder: reply to turn ${this.call.turnCount}` }, [
      { callId: this.call.callId, text, context: this.call.context, ...(agent ? { agent } : {}), ...(stream ? { stream } : {}) },
    ]);
  }

  private async record(
    event: { key: string; type: RecordedEventType; applied: boolean; at?: string; payload: Record<string, unknown> },
    next: CallView,
    turn?: { role: Role; text: string },
  ): Promise<Turn | undefined> {
    const seq = this.call.version + (event.type === 'started' ? 0 : 1);
    const occurredAt = event.at ?? new Date().toISOString();
    const recordedTurn: Turn | undefined = turn && { seq: next.turnCount, role: turn.role, text: turn.text, at: new Date().toISOString() };
    const call = { ...next, version: seq };
    const batch = (this.pending ??= { call, events: [], turns: [] });
    batch.call = call;
    batch.events.push({ seq, key: event.key, type: event.type, applied: event.applied, occurredAt, payload: event.payload });
    if (recordedTurn) batch.turns.push(recordedTurn);
    if (call.context.name !== this.call.context.name || event.type === 'started') {
      batch.caller = { number: partyNumber(call), name: typeof call.context.name === 'string' ? call.context.name : undefined };
    }
    this.call = call;
    this.dedup.remember(event.key);
    if (batch.events.length >= MAX_BATCH) await this.flush();
    return recordedTurn;
  }
}

function summarize({ events, turns }: RecordBatch): string {
  if (events.length > 1) return `record ${events.length} events${turns.length ? `: turns ${turns[0].seq}–${turns.at(-1)!.seq}` : ''}`;
  const [{ type, applied }] = events;
  if (!applied) return `record ignored ${type}`;
  return turns[0] ? `record turn ${turns[0].seq} (${turns[0].role})` : `record ${type}`;
}
