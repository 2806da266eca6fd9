// Operator statistics from PostgreSQL in one statement: live counts now, rates and durations over a window of UTC days.
import type pg from 'pg';
import { CHANNELS, type Channel } from '../workflows/types.js';
import { inScope, scopeParam, type Scope } from './scope.js';

export interface CallStats {
  active: number;
  ringing: number;
  droppedNow: number;
  resumeRate: number | null;
  abandonRate: number | null;
  avgDurationSeconds: number | null;
  p95DurationSeconds: number | null;
  avgTurnsPerCall: number | null;
  callsPerDay: { day: string; voice: number; chat: number; total: number }[];
  byChannel: Record<Channel, { calls: number; active: number; droppedNow: number; avgDurationSeconds: number | null }>;
  window: { since: string; until: string; days: number };
}

const DAY_MS = 86_400_000;

// win: calls started in the window; live: calls not ended, whenever they started (the status index answers it).
const STATS = `
WITH win AS (
  SELECT channel, status, disposition, turn_count, drop_count, resume_count,
         (started_at AT TIME ZONE 'UTC')::date AS day,
         CASE WHEN status = 'ended' THEN extract(epoch FROM ended_at - started_at)::float8 END AS duration
  FROM calls WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz AND ${inScope('$3')}
), live AS (
  SELECT channel, status, count(*)::int AS n FROM calls WHERE status IN ('ringing', 'active', 'dropped') AND ${inScope('$3')}
  GROUP BY channel, status
)
SELECT
  (SELECT coalesce(json_agg(live), '[]') FROM live) AS live,
  (SELECT json_build_object(
     'resumeRate', sum(resume_count)::float8 / nullif(sum(drop_count) - count(*) FILTER (WHERE status = 'dropped'), 0),
     'abandonRate', (count(*) FILTER (WHERE disposition = 'abandoned'))::float8 / nullif(count(*) FILTER (WHERE status = 'ended'), 0),
     'avgDurationSeconds', avg(duration),
     'p95DurationSeconds', percentile_cont(0.95) WITHIN GROUP (ORDER BY duration),
     'avgTurnsPerCall', avg(turn_count)::float8
   ) FROM win) AS totals,
  (SELECT coalesce(json_agg(json_build_object('channel', channel, 'calls', calls, 'avgDurationSeconds', avg_duration)), '[]')
   FROM (SELECT channel, count(*)::int AS calls, avg(duration) AS avg_duration FROM win GROUP BY channel) c) AS by_channel,
  (SELECT coalesce(json_agg(json_build_object('day', to_char(day, 'YYYY-MM-DD'), 'voice', voice, 'chat', chat)), '[]')
   FROM (SELECT day, (count(*) FILTER (WHERE channel = 'voice'))::int AS voice, (count(*) FILTER (WHERE channel = 'chat'))::int AS chat
         FROM win GROUP BY day) per_day) AS per_day`;

/** The p95 sorts a week of durations: with the default 4 MB it spills to disk (about 2x slower at a million calls). */
async function withSortMemory(pool: pg.Pool, run: (client: pg.PoolClient) => Promise<pg.QueryResult>): Promise<pg.QueryResult['rows']> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN READ ONLY; SET LOCAL work_mem = '64MB'");
    const { rows } = await run(client);
    await client.query('COMMIT');
    return rows;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

/** `days` UTC days ending with today's; `now` is for tests. */
export async function callStats(pool: pg.Pool, scope: Scope, days: number, now = Date.now()): Promise<CallStats> {
  const until = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  const since = until - days * DAY_MS;
  const rows = await withSortMemory(pool, (client) =>
    client.query(STATS, [new Date(since).toISOString(), new Date(until).toISOString(), scopeParam(scope)]),
  );
  const {
    live,
    totals,
    by_channel: byChannelRows,
    per_day: perDay,
  } = rows[0] as {
    live: { channel: Channel; status: string; n: number }[];
    totals: Record<'resumeRate' | 'abandonRate' | 'avgDurationSeconds' | 'p95DurationSeconds' | 'avgTurnsPerCall', number | null>;
    by_channel: { channel: Channel; calls: number; avgDurationSeconds: number | null }[];
    per_day: { day: string; voice: number; chat: number }[];
  };
  // Days without calls are filled here: a join against generate_series cost a sort of the whole window.
  const callsPerDay = Array.from({ length: days }, (_, i) => {
    const day = new Date(since + i * DAY_MS).toISOString().slice(0, 10);
    const { voice = 0, chat = 0 } = perDay.find((d) => d.day === day) ?? {};
    return { day, voice, chat, total: voice + chat };
  });
  const count = (status: string, channel?: Channel) =>
    live.filter((r) => r.status === status && (!channel || r.channel === channel)).reduce((n, r) => n + r.n, 0);
  const byChannel = Object.fromEntries(
    CHANNELS.map((channel) => {
      const row = byChannelRows.find((r) => r.channel === channel);
      return [
        channel,
        {
          calls: row?.calls ?? 0,
          active: count('active', channel),
          droppedNow: count('dropped', channel),
          avgDurationSeconds: round(row?.avgDurationSeconds ?? null),
        },
      ];
    }),
  ) as CallStats['byChannel'];
  return {
    active: count('active'),
    ringing: count('ringing'),
    droppedNow: count('dropped'),
    resumeRate: round(totals.resumeRate),
    abandonRate: round(totals.abandonRate),
    avgDurationSeconds: round(totals.avgDurationSeconds),
    p95DurationSeconds: round(totals.p95DurationSeconds),
    avgTurnsPerCall: round(totals.avgTurnsPerCall),
    callsPerDay,
    byChannel,
    window: { since: new Date(since).toISOString(), until: new Date(until).toISOString(), days },
  };
}
