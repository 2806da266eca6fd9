// Rejected requests change nothing: every row the fuzz run added or changed is explained by an accepted request.
import type pg from 'pg';

const TABLES = ['calls', 'call_events', 'turns', 'callers'] as const;

export interface CallRow {
  callId: string;
  from: string;
  legs: string[];
  turns: number;
  /** Applied events other than timers: what requests change. Ignored events (applied = false) are the audit of refused ones. */
  applied: number;
}
export interface Snapshot {
  counts: Record<(typeof TABLES)[number], number>;
  calls: Map<string, CallRow>;
  /** Caller profiles by number. */
  callers: Set<string>;
}

/** One logged request (scripts/fuzz/hooks.py). */
export interface LoggedRequest {
  kind: string;
  method: string;
  path: string;
  status: number;
  ids?: string[];
  created?: string | null;
  caller?: string | null;
  signed?: boolean;
  number?: string | null;
  phase?: string | null;
  body?: string;
}

export async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  const counts = Object.fromEntries(
    await Promise.all(TABLES.map(async (t) => [t, (await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n] as const)),
  ) as Snapshot['counts'];
  const { rows } = await pool.query<{ call_id: string; from_number: string; legs: string[]; turns: number; applied: number }>(`
    SELECT c.call_id, c.from_number, c.legs,
      (SELECT count(*) FROM turns t WHERE t.call_id = c.call_id)::int AS turns,
      (SELECT count(*) FROM call_events e WHERE e.call_id = c.call_id AND e.applied AND e.type <> 'timeout')::int AS applied
    FROM calls c`);
  const calls = new Map(
    rows.map((r) => [r.call_id, { callId: r.call_id, from: r.from_number, legs: r.legs, turns: r.turns, applied: r.applied }]),
  );
  const callers = new Set((await pool.query<{ number: string }>('SELECT number FROM callers')).rows.map((r) => r.number));
  return { counts, calls, callers };
}

/** Webhooks and voice turns are answered before the workflow writes them: wait until the row counts stop moving. */
export async function settle(pool: pg.Pool, quietMs = 3_000, limitMs = 120_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const { rows } = await pool.query(
      'SELECT (SELECT count(*) FROM calls) AS a, (SELECT count(*) FROM call_events) AS b, (SELECT count(*) FROM turns) AS c',
    );
    const now = JSON.stringify(rows[0]);
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface DbVerdict {
  ok: boolean;
  before: Snapshot['counts'];
  after: Snapshot['counts'];
  /** New or changed calls that no accepted request explains. */
  unexplained: string[];
  /** Call ids that only ever got non-2xx answers, yet have rows. */
  rejectedWithRows: string[];
  /** Caller profiles added or removed that neither an accepted /v1/callers request nor a call from that number explains. */
  callers: string[];
  rejectedOnlyIds: number;
}

export function checkDb(before: Snapshot, after: Snapshot, requests: LoggedRequest[]): DbVerdict {
  const accepted = new Set<string>();
  const named = new Set<string>();
  const twilioCallers = new Set<string>();
  const acceptedNumbers = new Set<string>();
  for (const r of requests) {
    const ok = r.status >= 200 && r.status < 300;
    for (const id of r.ids ?? []) (ok ? accepted : named).add(id);
    if (ok && r.created) accepted.add(r.created);
    // A Twilio callback from a caller with a dropped call joins that call as a leg.
    if (ok && r.caller) twilioCallers.add(r.caller);
    if (ok && r.number) acceptedNumbers.add(r.number);
  }
  const rejectedOnly = [...named].filter((id) => !accepted.has(id));
  const explained = (c: CallRow) => accepted.has(c.callId) || c.legs.some((leg) => accepted.has(leg)) || twilioCallers.has(c.from);

  const unexplained: string[] = [];
  for (const c of after.calls.values()) {
    const was = before.calls.get(c.callId);
    const changed = !was || c.turns !== was.turns || c.applied !== was.applied;
    if (changed && !explained(c)) unexplained.push(c.callId);
  }
  const rejectedWithRows = rejectedOnly.filter((id) => after.calls.has(id) && !before.calls.has(id));
  // A profile is written with each call from its number (store/calls-table.ts), or through /v1/callers.
  const callFrom = new Set([...after.calls.values()].filter((c) => !before.calls.has(c.callId) || explained(c)).map((c) => c.from));
  const added = [...after.callers].filter((n) => !before.callers.has(n) && !acceptedNumbers.has(n) && !callFrom.has(n));
  const removed = [...before.callers].filter((n) => !after.callers.has(n) && !acceptedNumbers.has(n));
  return {
    ok: unexplained.length === 0 && rejectedWithRows.length === 0 && added.length + removed.length === 0,
    before: before.counts,
    after: after.counts,
    unexplained,
    rejectedWithRows,
    callers: [...added, ...removed],
    rejectedOnlyIds: rejectedOnly.length,
  };
}
