// The lifecycle table as pure functions: fast checks of the edges the integration tests do not reach.
import { describe, expect, it } from 'vitest';
import { TypedSearchAttributes } from '@temporalio/common';
import { scriptedResponder } from '../activities/responder/scripted.js';
import { scriptedReply } from '../workflows/scripted-responder.js';
import { dueTimeout, initialView, transition } from '../workflows/lifecycle.js';
import { indexedAtStart, indexedNow, needsReindex, startAttributes, TURN_COUNT_INTERVAL_MS } from '../workflows/operator-view.js';
import type { CallConfig, StartCall } from '../workflows/types.js';

const config: CallConfig = { resumeWindowMs: 600_000, idleTimeoutMs: 1_800_000, historyLimit: 10_000 };
const start: StartCall = {
  callId: 'c',
  channel: 'voice',
  direction: 'inbound',
  from: '+1',
  to: null,
  provider: 'twilio',
  answered: false,
  metadata: {},
  key: 's',
};
const t0 = Date.parse('2026-01-01T00:00:00Z');

describe('transition', () => {
  const ringing = initialView(start, 'call-c', t0);
  const active = { ...ringing, status: 'active' as const };

  it('a turn while ringing answers the call (its answered event was late)', () => {
    const r = transition(ringing, { type: 'turn', key: 'k', role: 'user', text: 'hi' }, t0 + 1000, config);
    expect(r).toMatchObject({ ok: true, next: { status: 'active', turnCount: 1 }, turn: { role: 'user', text: 'hi' } });
  });

  it('a drop sets the deadline one window later; the default window is 10 minutes', () => {
    const r = transition(active, { type: 'drop', key: 'k' }, t0, config);
    expect(r.ok && r.next.resumeDeadline).toBe('2026-01-01T00:10:00.000Z');
    const due = r.ok ? dueTimeout(r.next, t0, config) : null;
    expect(due).toEqual({ at: t0 + 600_000, disposition: 'abandoned', summary: 'resume window: 10m' });
  });

  it('a resume one millisecond after the deadline is too late', () => {
    const dropped = transition(active, { type: 'drop', key: 'k' }, t0, config);
    if (!dropped.ok) throw new Error('drop failed');
    expect(transition(dropped.next, { type: 'resume', key: 'r' }, t0 + 600_000, config).ok).toBe(true);
    expect(transition(dropped.next, { type: 'resume', key: 'r' }, t0 + 600_001, config)).toMatchObject({
      ok: false,
      code: 'resume_window_expired',
    });
  });

  it('a drop while ringing is refused unless the provider saw an answer', () => {
    expect(transition(ringing, { type: 'drop', key: 'k' }, t0, config)).toMatchObject({ ok: false, code: 'invalid_state' });
    expect(transition(ringing, { type: 'drop', key: 'k', answered: true }, t0, config)).toMatchObject({
      ok: true,
      next: { status: 'dropped' },
    });
  });

  it('end defaults to canceled while ringing and completed once answered; ended refuses everything', () => {
    const r1 = transition(ringing, { type: 'end', key: 'e' }, t0, config);
    expect(r1.ok && r1.next.disposition).toBe('canceled');
    const r2 = transition(active, { type: 'end', key: 'e' }, t0, config);
    expect(r2.ok && r2.next.disposition).toBe('completed');
    if (r2.ok) expect(transition(r2.next, { type: 'answered', key: 'a' }, t0, config)).toMatchObject({ ok: false, code: 'call_ended' });
  });

  it('idle timeout: 30 minutes after the last activity by default', () => {
    expect(dueTimeout(active, t0, config)).toMatchObject({ at: t0 + 1_800_000, disposition: 'timeout' });
    expect(dueTimeout(ringing, t0, config)).toMatchObject({ disposition: 'no_answer' });
  });
});

describe('scripted responder', () => {
  it('learns the name and answers from context', async () => {
    const learned = await scriptedResponder({ callId: 'c', text: "Hi, I'm ada", context: {}, history: [] });
    expect(learned.context).toEqual({ name: 'Ada', recentQueries: ["Hi, I'm ada"] });
    const asked = await scriptedResponder({ callId: 'c', text: 'What is my name?', context: learned.context, history: [] });
    expect(asked.text).toBe('Your name is Ada.');
    const unknown = await scriptedResponder({ callId: 'c', text: 'what is my name', context: {}, history: [] });
    expect(unknown.text).toMatch(/don't know your name/);
    expect((await scriptedResponder({ callId: 'c', text: "I'm calling about my bill", context: {}, history: [] })).context).toEqual({
      recentQueries: ["I'm calling about my bill"],
    });
  });

  it('follows a script: asks each slot in order, fills it from the reply, closes with the done line; then answers freely', () => {
    const script = {
      slots: [
        { name: 'name', ask: 'What is your name?' },
        { name: 'song', ask: 'And your favourite song?' },
      ],
      done: 'Thanks {name}, enjoy {song}!',
    };
    const say = (text: string, context: Record<string, unknown>) =>
      scriptedReply({ text, context, script, topics: ['maize', 'dry season'] });
    const first = say('hello, my maize is wilting', {});
    expect(first).toEqual({
      text: 'What is your name?',
      context: { state: 'name', slots: {}, recentQueries: ['hello, my maize is wilting'], topics: ['maize'] },
    });
    const named = say("I'm ada", first.context);
    expect(named.text).toBe('And your favourite song?');
    expect(named.context).toMatchObject({ state: 'song', slots: { name: 'Ada' }, name: 'Ada' });
    const done = say('Bohemian Rhapsody.', named.context);
    expect(done.text).toBe('Thanks Ada, enjoy Bohemian Rhapsody!');
    expect(done.context).toMatchObject({ state: 'complete', slots: { name: 'Ada', song: 'Bohemian Rhapsody' } });
    const after = say('what is my name? also the dry season came early', done.context);
    expect(after.text).toBe('Your name is Ada.');
    expect(after.context.topics).toEqual(['maize', 'dry season']);
    // "Ada" alone fills a name slot too; the last five messages are kept.
    expect(scriptedReply({ text: 'Grace', context: { state: 'name', slots: {} }, script }).context).toMatchObject({ name: 'Grace' });
    let context: Record<string, unknown> = {};
    for (let i = 1; i <= 7; i++) context = scriptedReply({ text: `message ${i}`, context }).context;
    expect(context.recentQueries).toEqual(['message 3', 'message 4', 'message 5', 'message 6', 'message 7']);
  });
});

describe('search attributes', () => {
  const active = { ...initialView({ ...start, answered: true }, 'call-c', t0) };
  const indexed = indexedNow(active, t0);
  it('TurnCount at most once a minute however many turns; status, disposition and drops at once', () => {
    const many = { ...active, turnCount: 50 };
    expect(needsReindex(indexed, many, t0 + TURN_COUNT_INTERVAL_MS - 1)).toBe(false);
    expect(needsReindex(indexed, many, t0 + TURN_COUNT_INTERVAL_MS)).toBe(true);
    expect(needsReindex(indexed, active, t0 + 10 * TURN_COUNT_INTERVAL_MS)).toBe(false);
    expect(needsReindex(indexed, { ...active, status: 'dropped', dropCount: 1 }, t0 + 1)).toBe(true);
    expect(needsReindex(indexed, { ...active, status: 'ended', disposition: 'completed' }, t0 + 1)).toBe(true);
  });

  it('the attributes a start carries are what the workflow would write first', () => {
    const attributes = new TypedSearchAttributes(startAttributes(start));
    const atStart = indexedAtStart(attributes, t0)!;
    expect(atStart).toEqual(indexedNow(initialView(start, 'call-c', t0), t0));
    expect(needsReindex(atStart, initialView(start, 'call-c', t0), t0)).toBe(false);
    expect(indexedAtStart(new TypedSearchAttributes([]), t0)).toBeUndefined();
  });
});
