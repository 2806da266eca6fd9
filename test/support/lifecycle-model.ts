// An independent model of the lifecycle table (DESIGN.md), and fast-check generators of event sequences
// delivered with duplicates and reordered provider callbacks. Written from the contract, not from lifecycle.ts.
import fc from 'fast-check';
import type { CallEvent, Disposition, Role } from '../../workflows/types.js';

export interface ModelStart {
  key: string;
  /** Voice rings first; chat (or a start that says so) is active at once. */
  answered: boolean;
  /** A provider-started call names its own id as its first leg. */
  ownLeg?: string;
}
/** A repeated start of the same callId: idempotent, so it changes nothing. */
export type Delivered = CallEvent | { type: 'start'; key: string };

export interface Outcome {
  status: 'ringing' | 'active' | 'dropped' | 'ended';
  disposition: Disposition | null;
  turnCount: number;
  dropCount: number;
  resumeCount: number;
  legs: string[];
  transcript: { role: Role; text: string }[];
  /** The audit rows (call_events): the start, then each first delivery that arrived before the end. */
  audit: { key: string; type: string; applied: boolean }[];
  /** Resumes of an active call through POST /resume: 200 with the call as it is, recorded as ignored. */
  noops?: string[];
}

/** Stands for the assistant's reply in a transcript: its words are the responder's business, not the table's. */
export const REPLY = '<reply>';

/** `api`: resumes come through POST /resume, which answers an active call as it is (200, recorded as ignored). */
export function model(start: ModelStart, delivered: Delivered[], api = false): Outcome {
  const s: Outcome = {
    status: start.answered ? 'active' : 'ringing',
    disposition: null,
    turnCount: 0,
    dropCount: 0,
    resumeCount: 0,
    legs: start.ownLeg ? [start.ownLeg] : [],
    transcript: [],
    audit: [{ key: start.key, type: 'started', applied: true }],
  };
  const seen = new Set([start.key]);
  const highest = new Map<string, number>();
  for (const e of delivered) {
    if (e.type === 'start' || seen.has(e.key)) continue; // a repeated key changes nothing
    // A provider event numbered at or below one that already arrived on its leg is stale: ignored.
    const stale = !!e.order && (highest.get(e.order.leg) ?? -1) >= e.order.n;
    if (e.order && !stale) highest.set(e.order.leg, e.order.n);
    if (s.status === 'ended') continue; // ended → anything → ended, and nothing more is recorded
    seen.add(e.key); // even a no-op: a repeated event changes nothing
    if (api && e.type === 'resume' && !e.order && s.status === 'active') {
      (s.noops ??= []).push(e.key);
      s.audit.push({ key: e.key, type: 'resume', applied: false });
      continue;
    }
    if (e.type === 'message') {
      chat(s, e);
      continue;
    }
    s.audit.push({ key: e.key, type: e.type, applied: !stale && step(s, e) });
  }
  return s;
}

/** A chat message resumes a dropped call first, then records the user's turn and the reply. */
function chat(s: Outcome, e: Extract<CallEvent, { type: 'message' }>) {
  if (s.status === 'dropped') {
    s.audit.push({ key: `${e.key}:resume`, type: 'resume', applied: step(s, { type: 'resume', key: `${e.key}:resume` }) });
  }
  s.audit.push({ key: e.key, type: 'message', applied: step(s, e) });
  s.transcript.push({ role: 'assistant', text: REPLY });
  s.turnCount++;
  s.audit.push({ key: `${e.key}:reply`, type: 'reply', applied: true });
}

/** One row of the table; false when the table does not allow the event in the current status. */
function step(s: Outcome, e: CallEvent): boolean {
  const addLeg = (leg?: string) => leg && !s.legs.includes(leg) && s.legs.push(leg);
  switch (e.type) {
    case 'answered':
      if (s.status !== 'ringing') return false;
      s.status = 'active';
      return true;
    case 'turn':
    case 'message':
      // Design-silent, product-documented: a turn while ringing means the answer was late; a turn
      // after a drop still belongs to the transcript and does not resume.
      if (s.status === 'ringing') s.status = 'active';
      s.transcript.push({ role: e.type === 'turn' ? e.role : 'user', text: e.text });
      s.turnCount++;
      return true;
    case 'drop':
      // A provider hangup after talking is a drop even if the answered callback is late.
      if (!(s.status === 'active' || (s.status === 'ringing' && e.answered))) return false;
      s.status = 'dropped';
      s.dropCount++;
      return true;
    case 'resume':
      if (s.status !== 'dropped') return false; // the window never passes in these sequences
      s.status = 'active';
      s.resumeCount++;
      addLeg(e.leg);
      return true;
    case 'end':
      // Design-silent for ringing: a call hung up before the answer is canceled, as Twilio says.
      s.disposition = e.disposition ?? (s.status === 'ringing' ? 'canceled' : 'completed');
      s.status = 'ended';
      return true;
    case 'leg':
      addLeg(e.leg);
      return true;
    default:
      // Hosted voice's events (digits, transfer, recording) are not generated here.
      return false;
  }
}

// ---- generators ----

const TWILIO = ['ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
type TwilioStatus = (typeof TWILIO)[number];
const FAILED = { busy: 'busy', failed: 'failed', 'no-answer': 'no_answer', canceled: 'canceled' } as const;

/** What a Twilio status callback becomes, on the call's own leg or on a leg that joined it (a callback). */
export function callback(leg: string, n: number, status: TwilioStatus, joined: boolean): CallEvent {
  const base = { key: `twilio:${leg}:${status}`, order: { leg, n } };
  if (status === 'completed') return { ...base, type: 'drop', answered: true };
  if (status === 'ringing' || status === 'in-progress') {
    if (joined) return { ...base, key: `twilio:${leg}:resume`, type: 'resume', leg };
    return status === 'ringing' ? { ...base, type: 'leg', leg } : { ...base, type: 'answered' };
  }
  return joined ? { ...base, type: 'drop' } : { ...base, type: 'end', disposition: FAILED[status] };
}

const text = fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8})?$/);
const role = fc.constantFrom<Role>('user', 'assistant');
const dispositions: Disposition[] = ['completed', 'busy', 'failed', 'no_answer', 'canceled'];
const disposition = fc.option(fc.constantFrom(...dispositions), { nil: undefined });
const kind = <K extends string>(k: K) => fc.constant(k);

/** One event of a random script, before keys and provider sequence numbers are assigned. */
export const spec = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: kind('turn'), role, text }) },
  { weight: 1, arbitrary: fc.record({ kind: kind('answered') }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('drop'), answered: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('resume') }) },
  { weight: 1, arbitrary: fc.record({ kind: kind('end'), disposition }) },
  { weight: 3, arbitrary: fc.record({ kind: kind('callback'), leg: fc.nat(2), status: fc.constantFrom(...TWILIO) }) },
);
export type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;
/** What a chat client or operator sends through the public API. */
export const clientSpec = fc.oneof(
  { weight: 4, arbitrary: spec.filter((s) => ['turn', 'resume', 'end'].includes(s.kind) || (s.kind === 'drop' && !s.answered)) },
  { weight: 1, arbitrary: fc.record({ kind: kind('message'), text }) },
);
type ClientSpec = typeof clientSpec extends fc.Arbitrary<infer T> ? T : never;

/** Keys and provider sequence numbers for a script; leg 0 is the call's own leg, the others join it. */
export function script(specs: (Spec | ClientSpec)[], legName: (i: number) => string): CallEvent[] {
  const next = [0, 0, 0];
  return specs.map((s, i): CallEvent => {
    const key = `e${i}`;
    switch (s.kind) {
      case 'turn':
        return { type: 'turn', key, role: s.role, text: s.text };
      case 'message':
        return { type: 'message', key, text: s.text };
      case 'answered':
        return { type: 'answered', key };
      case 'drop':
        return s.answered ? { type: 'drop', key, answered: true } : { type: 'drop', key };
      case 'resume':
        return { type: 'resume', key };
      case 'end':
        return { type: 'end', key, disposition: s.disposition };
      case 'callback':
        return callback(legName(s.leg), next[s.leg]++, s.status, s.leg > 0);
    }
  });
}

/** Reorders each leg's provider events among the positions they hold; `first` pins which may come first. */
export function shuffleLegs(events: CallEvent[], keys: number[], first = (_: CallEvent) => true): CallEvent[] {
  const out = [...events];
  const legs = new Set(events.flatMap((e) => (e.order ? [e.order.leg] : [])));
  for (const leg of legs) {
    const at = events.flatMap((e, i) => (e.order?.leg === leg ? [i] : []));
    const moved = [...at].sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0)).map((i) => events[i]);
    const lead = moved.findIndex(first);
    if (lead > 0) moved.unshift(...moved.splice(lead, 1));
    at.forEach((i, j) => (out[i] = moved[j]));
  }
  return out;
}

/** Re-delivers events at random later positions (a provider or client retrying): `of` picks which, `at` where. */
export function withDuplicates(events: Delivered[], dups: { of: number; at: number }[]): Delivered[] {
  const out = [...events];
  for (const { of, at } of dups) {
    if (out.length === 0) break;
    const i = of % out.length;
    out.splice(i + 1 + (at % (out.length - i)), 0, out[i]);
  }
  return out;
}
export const dups = fc.array(fc.record({ of: fc.nat(), at: fc.nat() }), { maxLength: 8 });

/**
 * Provider-only calls, where the contract makes order irrelevant: the own leg rings, is answered and
 * talks, hangs up (or fails), then callers call back on new legs; turns come from the pipeline.
 */
const turnsOf = (maxLength: number) => fc.array(fc.record({ role, text }), { maxLength });
export const providerCall = fc.record({
  ownRings: fc.boolean(),
  own: fc.oneof(
    fc.record({ answered: fc.constant(true as const), turns: turnsOf(4), hangup: fc.boolean() }),
    fc.record({
      answered: fc.constant(false as const),
      failure: fc.constantFrom<TwilioStatus>('busy', 'failed', 'no-answer', 'canceled'),
    }),
  ),
  joins: fc.array(
    fc.record({
      early: fc.subarray(['ringing', 'in-progress'] as TwilioStatus[], { minLength: 1 }),
      turns: turnsOf(3),
      last: fc.option(fc.constantFrom<TwilioStatus>('completed', 'busy', 'no-answer'), { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
  end: fc.boolean(),
});
export type ProviderCall = typeof providerCall extends fc.Arbitrary<infer T> ? T : never;

/** The canonical (in-order) events of a provider-only call; a leg joins only while the call is dropped. */
export function providerScript(c: ProviderCall, own: string): CallEvent[] {
  const events: CallEvent[] = [];
  let key = 0;
  const turns = (ts: { role: Role; text: string }[]) => ts.forEach((t) => events.push({ type: 'turn', key: `t${key++}`, ...t }));
  let n = 0;
  if (c.ownRings) events.push(callback(own, n++, 'ringing', false));
  if (!c.own.answered) return [...events, callback(own, n, c.own.failure, false)];
  events.push(callback(own, n++, 'in-progress', false));
  turns(c.own.turns);
  if (!c.own.hangup) return c.end ? [...events, { type: 'end', key: 'end' }] : events;
  events.push(callback(own, n, 'completed', false));
  for (const [j, leg] of c.joins.entries()) {
    const name = `${own}-cb${j}`;
    let m = 0;
    for (const s of leg.early) events.push(callback(name, m++, s, true));
    turns(leg.turns);
    if (!leg.last) break; // this caller is still talking: nobody else calls back
    events.push(callback(name, m, leg.last, true));
  }
  return c.end ? [...events, { type: 'end', key: 'end' }] : events;
}
