// The lifecycle table of the design contract as pure functions: no I/O, no clock of its own.
import { withDuration } from './call-duration.js';
import { CallErrorType } from './messages.js';
import { DEFAULT_ACCOUNT, type CallConfig, type CallEvent, type CallView, type Disposition, type Role, type StartCall } from './types.js';

export type Transition =
  { ok: true; next: CallView; turn?: { role: Role; text: string } } | { ok: false; code: CallErrorType; reason: string };

const iso = (ms: number) => new Date(ms).toISOString();
const reject = (code: CallErrorType, reason: string): Transition => ({ ok: false, code, reason });

export function initialView(start: StartCall, workflowId: string, now: number): CallView {
  return {
    callId: start.callId,
    workflowId,
    accountId: start.accountId ?? DEFAULT_ACCOUNT,
    status: start.answered ? 'active' : 'ringing',
    disposition: null,
    channel: start.channel,
    direction: start.direction,
    from: start.from,
    to: start.to,
    provider: start.provider,
    startedAt: iso(now),
    answeredAt: start.answered ? iso(now) : null,
    droppedAt: null,
    resumeDeadline: null,
    endedAt: null,
    turnCount: 0,
    dropCount: 0,
    resumeCount: 0,
    context: { ...start.context },
    metadata: start.metadata,
    // A provider's call is its first leg; a call that dials out learns its leg's id from the provider.
    legs: start.provider && !start.dial ? [start.callId] : [],
    agent: start.agent ? { agentId: start.agent.agentId, version: start.agent.version, name: start.agent.name } : null,
    durationSeconds: null,
    recording: null,
    version: 1,
  };
}

/** Applies one event to the call, or says why the table does not allow it in the current status. */
export function transition(call: CallView, event: CallEvent, now: number, config: CallConfig): Transition {
  // A provider finishes a recording after the hang-up: it still joins the call.
  if (event.type === 'recording') return ok({ ...call, recording: event.recording });
  if (call.status === 'ended') return reject(CallErrorType.ended, 'the call has ended');
  switch (event.type) {
    case 'answered':
      if (call.status !== 'ringing') return reject(CallErrorType.invalidState, `already answered (${call.status})`);
      return ok({ ...call, status: 'active', answeredAt: iso(now) });
    case 'turn':
    case 'message': {
      const role = event.type === 'turn' ? event.role : 'user';
      // A late voice turn after a drop still belongs to the transcript; it does not resume the call.
      const base = call.status === 'ringing' ? { ...call, status: 'active' as const, answeredAt: iso(now) } : call;
      return ok({ ...base, turnCount: call.turnCount + 1 }, { role, text: event.text });
    }
    case 'drop': {
      // A hangup after an answer that was delivered late still drops the call.
      const answeredLate = call.status === 'ringing' && event.answered;
      if (call.status !== 'active' && !answeredLate) return reject(CallErrorType.invalidState, `cannot drop a ${call.status} call`);
      return ok({
        ...call,
        answeredAt: call.answeredAt ?? iso(now),
        status: 'dropped',
        droppedAt: iso(now),
        resumeDeadline: iso(now + config.resumeWindowMs),
        dropCount: call.dropCount + 1,
      });
    }
    case 'resume':
      if (call.status !== 'dropped') return reject(CallErrorType.invalidState, `cannot resume a ${call.status} call`);
      if (now > Date.parse(call.resumeDeadline!)) return reject(CallErrorType.windowExpired, 'the resume window has passed');
      return ok({
        ...call,
        status: 'active',
        resumeDeadline: null,
        resumeCount: call.resumeCount + 1,
        legs: addLeg(call.legs, event.leg),
      });
    case 'end':
      return ok(ended(call, event.disposition ?? (call.status === 'ringing' ? 'canceled' : 'completed'), now));
    case 'leg':
      return ok({ ...call, legs: addLeg(call.legs, event.leg) });
    case 'digits':
      if (call.status !== 'active') return reject(CallErrorType.invalidState, `no keys are heard on a ${call.status} call`);
      return ok(call);
    case 'transfer':
      // The caller may hang up while talking to the person (a drop) before the dial's outcome arrives.
      if (call.status !== 'active' && call.status !== 'dropped')
        return reject(CallErrorType.invalidState, `cannot transfer a ${call.status} call`);
      return ok(event.outcome === 'answered' ? ended(call, 'transferred', now) : call);
  }
}

/** What a timer ends the call with when it fires, or null when nothing is due. */
export function dueTimeout(
  call: CallView,
  lastActivityMs: number,
  config: CallConfig,
): { at: number; disposition: Disposition; summary: string } | null {
  switch (call.status) {
    case 'dropped':
      return { at: Date.parse(call.resumeDeadline!), disposition: 'abandoned', summary: `resume window: ${human(config.resumeWindowMs)}` };
    case 'active':
      return { at: lastActivityMs + config.idleTimeoutMs, disposition: 'timeout', summary: `idle timeout: ${human(config.idleTimeoutMs)}` };
    case 'ringing':
      return {
        at: lastActivityMs + config.idleTimeoutMs,
        disposition: 'no_answer',
        summary: `ring timeout: ${human(config.idleTimeoutMs)}`,
      };
    default:
      return null;
  }
}

export function ended(call: CallView, disposition: Disposition, now: number): CallView {
  return withDuration({ ...call, status: 'ended', disposition, resumeDeadline: null, endedAt: iso(now) });
}

function ok(next: CallView, turn?: { role: Role; text: string }): Transition {
  return { ok: true, next, turn };
}

function addLeg(legs: string[], leg: string | undefined): string[] {
  return leg && !legs.includes(leg) ? [...legs, leg] : legs;
}

export function human(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
