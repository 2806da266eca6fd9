// The state of one call and the only code that changes it: apply, record, then commit.
import { ApplicationFailure, log } from '@temporalio/workflow';
import { responder, store } from './activities.js';
import { Dedup, type DedupSnapshot } from './dedup.js';
import { ended, initialView, transition } from './lifecycle.js';
import { CallErrorType, type ChatMessage } from './messages.js';
import type { CallConfig, CallEvent, CallView, Disposition, MessageReply, Role, StartCall, Turn } from './types.js';

export interface SessionSnapshot {
  call: CallView;
  lastActivityMs: number;
  dedup: DedupSnapshot;
  /** Highest provider sequence seen per leg (absent in histories from before ordering existed). */
  order?: Record<string, number>;
}

export type Mode = 'signal' | 'update';

export class CallSession {
  call: CallView;
  lastActivityMs: number;
  private readonly dedup: Dedup;
  private readonly order: Record<string, number>;

  constructor(
    private readonly config: CallConfig,
    start: StartCall,
    workflowId: string,
    snapshot?: SessionSnapshot,
  ) {
    this.call = snapshot?.call ?? initialView(start, workflowId, Date.now());
    this.lastActivityMs = snapshot?.lastActivityMs ?? Date.now();
    this.dedup = new Dedup(snapshot?.dedup);
    this.order = { ...snapshot?.order };
  }

  get ended(): boolean {
    return this.call.status === 'ended';
  }

  snapshot(): SessionSnapshot {
    return { call: this.call, lastActivityMs: this.lastActivityMs, dedup: this.dedup.snapshot(), order: { ...this.order } };
  }

  /** Records the start; the row in `calls` exists from here on. */
  async started(start: StartCall): Promise<void> {
    const call = this.call;
    await this.record({ key: start.key, type: 'started', applied: true, at: start.at, payload: { channel: call.channel, direction: call.direction, from: call.from, to: call.to, answered: start.answered } }, call);
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
      : transition(this.call, event, now, this.config);
    if (event.order && !stale) this.order[event.order.leg] = event.order.n;
    const { type, key, at, order: _order, ...payload } = event;
    if (!result.ok) {
      if (this.call.status !== 'ended') {
        await this.record({ key, type, applied: false, at, payload: { ...payload, ignored: result.reason } }, this.call);
      }
      if (mode === 'update') throw ApplicationFailure.create({ type: result.code, message: result.reason, nonRetryable: true });
      log.info('event ignored', { callId: this.call.callId, type, reason: result.reason });
      return this.call;
    }
    if (type !== 'leg' && type !== 'drop' && type !== 'end') this.lastActivityMs = now;
    await this.record({ key, type, applied: true, at, payload }, result.next, result.turn);
    return this.call;
  }

  /** A chat turn: resume a dropped call first, record the user turn, ask the responder, record its reply. */
  async message(msg: ChatMessage): Promise<MessageReply> {
    const cached = this.dedup.reply(msg.messageId);
    if (cached) return { reply: cached, call: this.call };
    if (this.call.status === 'dropped') await this.apply({ type: 'resume', key: `${msg.messageId}:resume` }, 'update');
    await this.apply({ type: 'message', key: msg.messageId, text: msg.text, at: msg.at }, 'update');
    const answer = await responder.respond.executeWithOptions({ summary: `responder: reply to turn ${this.call.turnCount}` }, [
      { callId: this.call.callId, text: msg.text, context: this.call.context },
    ]);
    const next = { ...this.call, context: answer.context, turnCount: this.call.turnCount + 1 };
    const reply = await this.record({ key: `${msg.messageId}:reply`, type: 'reply', applied: true, payload: {} }, next, { role: 'assistant', text: answer.text });
    this.lastActivityMs = Date.now();
    this.dedup.rememberReply(msg.messageId, reply!);
    return { reply: reply!, call: this.call };
  }

  /** A durable timer fired: the window or the idle timeout passed. */
  async expire(disposition: Disposition, reason: string): Promise<void> {
    await this.record({ key: `timer:${disposition}:${this.call.version}`, type: 'timeout', applied: true, payload: { disposition, reason } }, ended(this.call, disposition, Date.now()));
  }

  private async record(
    event: { key: string; type: string; applied: boolean; at?: string; payload: Record<string, unknown> },
    next: CallView,
    turn?: { role: Role; text: string },
  ): Promise<Turn | undefined> {
    const seq = this.call.version + (event.type === 'started' ? 0 : 1);
    const occurredAt = event.at ?? new Date().toISOString();
    const recordedTurn: Turn | undefined = turn && { seq: next.turnCount, role: turn.role, text: turn.text, at: new Date().toISOString() };
    const call = { ...next, version: seq };
    const learnedName = call.context.name !== this.call.context.name || event.type === 'started';
    await store.recordEvent.executeWithOptions({ summary: summarize(event.type, event.applied, recordedTurn) }, [
      {
        call,
        event: { seq, key: event.key, type: event.type, applied: event.applied, occurredAt, payload: event.payload },
        turns: recordedTurn ? [recordedTurn] : [],
        caller: learnedName ? { number: call.from, name: typeof call.context.name === 'string' ? call.context.name : undefined } : undefined,
      },
    ]);
    this.call = call;
    this.dedup.remember(event.key);
    return recordedTurn;
  }
}

function summarize(type: string, applied: boolean, turn?: Turn): string {
  if (!applied) return `record ignored ${type}`;
  return turn ? `record turn ${turn.seq} (${turn.role})` : `record ${type}`;
}
