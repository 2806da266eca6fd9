// The platform's view of its customers: accounts by status, and each account's live calls and calls in the stats window.
import type pg from 'pg';

export interface AccountTotals {
  accountId: string;
  name: string;
  status: string;
  active: number;
  ringing: number;
  droppedNow: number;
  /** Calls started in the window. */
  calls: number;
}

export interface PlatformStats {
  accountsByStatus: { active: number; suspended: number };
  accounts: AccountTotals[];
}

// live: the open-status index per account; win: the window's calls per account (the same rows the call stats read).
const TOTALS = `
WITH live AS (
  SELECT account_id, status, count(*)::int AS n FROM calls WHERE status IN ('ringing', 'active', 'dropped') GROUP BY account_id, status
), win AS (
  SELECT account_id, count(*)::int AS n FROM calls WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz GROUP BY account_id
)
SELECT a.account_id, a.name, a.status,
       coalesce((SELECT n FROM live WHERE live.account_id = a.account_id AND live.status = 'active'), 0) AS active,
       coalesce((SELECT n FROM live WHERE live.account_id = a.account_id AND live.status = 'ringing'), 0) AS ringing,
       coalesce((SELECT n FROM live WHERE live.account_id = a.account_id AND live.status = 'dropped'), 0) AS dropped,
       coalesce((SELECT n FROM win WHERE win.account_id = a.account_id), 0) AS calls
FROM accounts a ORDER BY a.created_at, a.account_id`;

export async function platformStats(pool: pg.Pool, window: { since: string; until: string }): Promise<PlatformStats> {
  const { rows } = await pool.query(TOTALS, [window.since, window.until]);
  const accounts = rows.map((r) => ({
    accountId: r.account_id,
    name: r.name,
    status: r.status,
    active: r.active,
    ringing: r.ringing,
    droppedNow: r.dropped,
    calls: r.calls,
  }));
  const count = (status: string) => accounts.filter((a) => a.status === status).length;
  return { accountsByStatus: { active: count('active'), suspended: count('suspended') }, accounts };
}
