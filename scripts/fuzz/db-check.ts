// Rejected requests change nothing: every row the fuzz run added or changed is explained by an accepted request,
// and one made with an account's credential explains rows of that account only (the platform key and webhooks
// reach every account).
import type pg from 'pg';

const TABLES = ['calls', 'call_events', 'turns', 'callers', 'agents', 'numbers'] as const;

export interface CallRow {
  callId: string;
  accountId: string;
  from: string;
  /** The number whose caller profile the call writes: `from`, or the callee of an outbound call. */
  party: string;
  legs: string[];
  turns: number;
  /** Applied events other than timers: what requests change. Ignored events (applied = false) are the audit of refused ones. */
  applied: number;
}
/** An agent or a number assignment: whose it is, and a fingerprint of what requests change of it. */
export interface OwnedRow {
  accountId: string;
  state: string;
}
export interface Snapshot {
  counts: Record<(typeof TABLES)[number], number>;
  calls: Map<string, CallRow>;
  /** Caller profiles, as `account number` (a number is a separate caller in each account). */
  callers: Set<string>;
  agents: Map<string, OwnedRow>;
  numbers: Map<string, OwnedRow>;
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
  /** The agent the request named (path) or created (POST /v1/agents). */
  agent?: string | null;
  /** The account the credential belongs to; null or absent: every account (the platform key, webhooks). */
  account?: string | null;
  phase?: string | null;
  body?: string;
  /** Whether the request named another account's id or number (account kinds and the chat token). */
  foreign?: boolean;
  /** What of another account's the answer carried (hooks.py `leaks`). */
  leak?: string[];
  url?: string;
  sent?: string;
}

export const callerKey = (accountId: string, number: string) => `${accountId} ${number}`;

export async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  const counts = Object.fromEntries(
    await Promise.all(TABLES.map(async (t) => [t, (await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n] as const)),
  ) as Snapshot['counts'];
  const { rows } = await pool.query<{
    call_id: string;
    account_id: string;
    from_number: string;
    party: string;
    legs: string[];
    turns: number;
    applied: number;
  }>(`
    SELECT c.call_id, c.account_id, c.from_number, c.legs,
      -- The number whose profile the call writes: the callee of an outbound call (workflows/party.ts).
      CASE WHEN c.direction = 'outbound' AND c.to_number IS NOT NULL THEN c.to_number ELSE c.from_number END AS party,
      (SELECT count(*) FROM turns t WHERE t.call_id = c.call_id)::int AS turns,
      (SELECT count(*) FROM call_events e WHERE e.call_id = c.call_id AND e.applied AND e.type <> 'timeout')::int AS applied
    FROM calls c`);
  const calls = new Map(
    rows.map((r) => [
      r.call_id,
      { callId: r.call_id, accountId: r.account_id, from: r.from_number, party: r.party, legs: r.legs, turns: r.turns, applied: r.applied },
    ]),
  );
  const callers = new Set(
    (await pool.query<{ account_id: string; number: string }>('SELECT account_id, number FROM callers')).rows.map((r) =>
      callerKey(r.account_id, r.number),
    ),
  );
  const owned = async (sql: string) =>
    new Map(
      (await pool.query<{ id: string; account_id: string; state: string }>(sql)).rows.map((r) => [
        r.id,
        { accountId: r.account_id, state: r.state },
      ]),
    );
  const agents = await owned(
    `SELECT agent_id AS id, account_id, concat_ws(' ', version, name, config::text, updated_at::text) AS state FROM agents`,
  );
  const numbers = await owned(
    `SELECT number AS id, account_id, concat_ws(' ', agent_id, tags::text, updated_at::text) AS state FROM numbers`,
  );
  return { counts, calls, callers, agents, numbers };
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
  /** New or changed calls that no accepted request (of a credential reaching their account) explains. */
  unexplained: string[];
  /** Call ids that only ever got non-2xx answers, yet have rows. */
  rejectedWithRows: string[];
  /** Caller profiles (`account number`) added or removed that neither an accepted /v1/callers request nor a call from that number explains. */
  callers: string[];
  /** Agents and number assignments added, changed or removed that no accepted request for them explains. */
  agents: string[];
  numbers: string[];
  rejectedOnlyIds: number;
}

/** Accounts each id was accepted for: `*` when the credential reaches every account. */
class Reach {
  private readonly by = new Map<string, Set<string>>();
  add(id: string, account: string | null | undefined): void {
    const set = this.by.get(id) ?? new Set<string>();
    set.add(account ?? '*');
    this.by.set(id, set);
  }
  has(id: string): boolean {
    return this.by.has(id);
  }
  /** Whether an accepted request for this id reaches this account. */
  reaches(id: string, accountId: string): boolean {
    const set = this.by.get(id);
    return !!set && (set.has('*') || set.has(accountId));
  }
}

/** Rows of a keyed table added, changed or removed with no accepted request for them by a credential reaching their account. */
function unexplainedRows(before: Map<string, OwnedRow>, after: Map<string, OwnedRow>, accepted: Reach): string[] {
  const out: string[] = [];
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const [was, now] = [before.get(id), after.get(id)];
    if (was?.accountId === now?.accountId && was?.state === now?.state) continue;
    // Both ends must be reachable: an assignment moved from one account to another changes both.
    const ok = [was, now].every((row) => !row || accepted.reaches(id, row.accountId));
    if (!ok) out.push(`${id} (${was ? was.accountId : 'absent'} -> ${now ? now.accountId : 'absent'})`);
  }
  return out;
}

export function checkDb(before: Snapshot, after: Snapshot, requests: LoggedRequest[]): DbVerdict {
  const accepted = new Reach();
  const named = new Set<string>();
  const twilioCallers = new Set<string>();
  const acceptedCallers = new Reach();
  const acceptedAgents = new Reach();
  const acceptedNumbers = new Reach();
  for (const r of requests) {
    const ok = r.status >= 200 && r.status < 300;
    for (const id of r.ids ?? []) {
      if (ok) accepted.add(id, r.account);
      else named.add(id);
    }
    if (!ok) continue;
    if (r.created) accepted.add(r.created, r.account);
    // A Twilio callback from a caller with a dropped call joins that call as a leg.
    if (r.caller) twilioCallers.add(r.caller);
    if (r.number && r.path.startsWith('/v1/callers/')) acceptedCallers.add(r.number, r.account);
    if (r.number && r.path.startsWith('/v1/numbers/')) acceptedNumbers.add(r.number, r.account);
    if (r.agent) acceptedAgents.add(r.agent, r.account);
  }
  const rejectedOnly = [...named].filter((id) => !accepted.has(id));
  const explained = (c: CallRow) =>
    accepted.reaches(c.callId, c.accountId) || c.legs.some((leg) => accepted.reaches(leg, c.accountId)) || twilioCallers.has(c.from);

  const unexplained: string[] = [];
  for (const c of after.calls.values()) {
    const was = before.calls.get(c.callId);
    const changed = !was || c.turns !== was.turns || c.applied !== was.applied || c.accountId !== was.accountId;
    if (changed && !explained(c)) unexplained.push(c.callId);
  }
  // Calls are never deleted through the API: one that went is unexplained whatever was sent.
  for (const id of before.calls.keys()) if (!after.calls.has(id)) unexplained.push(id);
  const rejectedWithRows = rejectedOnly.filter((id) => after.calls.has(id) && !before.calls.has(id));
  // A profile is written with each call from its number in the call's account (store/calls-table.ts), or through /v1/callers.
  const callFrom = new Set(
    [...after.calls.values()].filter((c) => !before.calls.has(c.callId) || explained(c)).map((c) => callerKey(c.accountId, c.party)),
  );
  const profileExplained = (key: string) => {
    const [accountId, number] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
    return acceptedCallers.reaches(number, accountId);
  };
  const added = [...after.callers].filter((k) => !before.callers.has(k) && !profileExplained(k) && !callFrom.has(k));
  const removed = [...before.callers].filter((k) => !after.callers.has(k) && !profileExplained(k));
  const agents = unexplainedRows(before.agents, after.agents, acceptedAgents);
  const numbers = unexplainedRows(before.numbers, after.numbers, acceptedNumbers);
  return {
    ok: unexplained.length === 0 && rejectedWithRows.length === 0 && added.length + removed.length + agents.length + numbers.length === 0,
    before: before.counts,
    after: after.counts,
    unexplained,
    rejectedWithRows,
    callers: [...added, ...removed],
    agents,
    numbers,
    rejectedOnlyIds: rejectedOnly.length,
  };
}
