// An account's open calls against its concurrency limit, exact across API processes: every start or
// resume of a limited account takes its line under one advisory lock per account, counting the calls
// PostgreSQL shows ringing or active plus the lines taken in the last 30 s that their call's row does not
// show yet. A call's line is its own row's state, so a worker or an API that dies holds nothing: a
// dropped or ended call frees it whoever recorded that, and a line no row confirms lapses after 30 s.
import type pg from 'pg';

export const PENDING_LINE_SECONDS = 30;

const OPEN = `
  SELECT call_id FROM calls WHERE account_id = $1 AND status IN ('ringing', 'active')
  UNION
  SELECT l.call_id FROM call_lines l LEFT JOIN calls c USING (call_id)
  WHERE l.account_id = $1 AND l.taken_at > now() - make_interval(secs => ${PENDING_LINE_SECONDS})
    -- not recorded yet, or dropped before the resume that took the line was recorded
    AND (c.call_id IS NULL OR c.status IN ('ringing', 'active') OR (c.status = 'dropped' AND c.updated_at < l.taken_at))`;

/** The account's open calls now (ringing, active, or taken and not yet recorded). */
export async function openLines(pool: pg.Pool | pg.PoolClient, accountId: string): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM (${OPEN}) open`, [accountId]);
  return rows[0].n;
}

/**
 * Takes a line for the call unless the account's other open calls already fill `limit`. A call that holds
 * one (a repeated start, a resume of a call still active) takes it again; an ended call never opens again.
 */
export async function takeLine(
  pool: pg.Pool,
  accountId: string,
  callId: string,
  limit: number,
): Promise<{ taken: true } | { taken: false; open: number }> {
  // An ended call never opens again: it needs no line (its start is answered with the ended call).
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('call-lines'), hashtext($1))", [accountId]);
    // Lines that can no longer count go while the account's lock is held.
    await client.query(
      `DELETE FROM call_lines WHERE account_id = $1 AND taken_at < now() - make_interval(secs => ${PENDING_LINE_SECONDS * 2})`,
      [accountId],
    );
    const { rows } = await client.query<{ others: number; ended: boolean }>(
      `SELECT (SELECT count(*)::int FROM (${OPEN}) open WHERE call_id <> $2) AS others,
              EXISTS (SELECT 1 FROM calls WHERE call_id = $2 AND status = 'ended') AS ended`,
      [accountId, callId],
    );
    const { others, ended } = rows[0];
    if (ended || others >= limit) {
      await client.query('ROLLBACK');
      return ended ? { taken: true } : { taken: false, open: others };
    }
    await client.query(
      `INSERT INTO call_lines (call_id, account_id) VALUES ($1, $2) ON CONFLICT (call_id) DO UPDATE SET taken_at = now()`,
      [callId, accountId],
    );
    await client.query('COMMIT');
    return { taken: true };
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
