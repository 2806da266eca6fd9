// A local activity writes before its workflow task completes. When that task is lost (Temporal answers
// "workflow task not found", or the worker dies after the write) the task is redone, and queued updates
// may be taken in another order: the redone batch puts other turns at the same seqs. The transcript in
// PostgreSQL and Redis must end as the workflow kept it, not as the lost attempt wrote it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../activities/index.js';
import { scriptedResponder } from '../activities/responder/scripted.js';
import type { RecordBatch, Turn } from '../workflows/types.js';
import { cachedTurns, expectEverywhere, turnRows } from './support/assertions.js';
import { createHarness, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

it('turns and events written by a lost attempt are replaced by what the redone task records', async () => {
  const id = newCallId();
  expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550007501' })).status).toBe(201);
  const call = await expectEverywhere(h, id, { status: 'active', turnCount: 0 });
  const { recordEvents } = createActivities({ pool: h.pool, redis: h.redis, responder: scriptedResponder });
  const at = new Date().toISOString();
  const batch = (turns: Turn[], keys: string[]): RecordBatch => ({
    call: { ...call, turnCount: turns.length, version: call.version + turns.length },
    events: turns.map((t, i) => ({ seq: call.version + 1 + i, key: keys[i]!, type: 'turn', applied: true, occurredAt: at, payload: {} })),
    turns,
  });

  // The lost attempt took message A first, then X (an update that was never asked again); the redone
  // task, which the workflow kept, took B first, then A.
  await recordEvents(
    batch(
      [
        { seq: 1, role: 'user', text: 'message A', at },
        { seq: 2, role: 'user', text: 'message X', at },
      ],
      ['a', 'x'],
    ),
  );
  await recordEvents(
    batch(
      [
        { seq: 1, role: 'user', text: 'message B', at },
        { seq: 2, role: 'user', text: 'message A', at },
      ],
      ['b', 'a'],
    ),
  );

  expect((await turnRows(h, id)).map((t) => [t.seq, t.text])).toEqual([
    [1, 'message B'],
    [2, 'message A'],
  ]);
  expect((await cachedTurns(h, id)).map((t) => [t.seq, t.text])).toEqual([
    [1, 'message B'],
    [2, 'message A'],
  ]);
  // The events log holds what the workflow kept, each event once, at its seq; X is gone.
  const events = await h.rows(`SELECT seq, idempotency_key AS key FROM call_events WHERE call_id = $1 AND seq > $2 ORDER BY seq`, [
    id,
    call.version,
  ]);
  expect(events.map((e) => [e.seq - call.version, e.key])).toEqual([
    [1, 'b'],
    [2, 'a'],
  ]);

  // Retrying the kept batch changes nothing.
  await recordEvents(
    batch(
      [
        { seq: 1, role: 'user', text: 'message B', at },
        { seq: 2, role: 'user', text: 'message A', at },
      ],
      ['b', 'a'],
    ),
  );
  expect((await turnRows(h, id)).map((t) => t.text)).toEqual(['message B', 'message A']);
  expect(await h.rows(`SELECT 1 FROM call_events WHERE call_id = $1 AND seq > $2`, [id, call.version])).toHaveLength(2);
});
