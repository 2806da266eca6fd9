// Agents (versioned: every change increments `version`) and the phone numbers assigned to them.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AgentSnapshot, Direction } from '../workflows/types.js';
import { inScope, scopeParam, type Scope } from './scope.js';

/** Everything an agent is configured with besides its identity. Durations are text (`10m`), as in configuration. */
export interface AgentConfig {
  prompt?: string;
  firstMessage?: string;
  language?: string;
  responder?: AgentSnapshot['responder'];
  script?: { slots: { name: string; ask: string }[]; done?: string };
  topics?: string[];
  resumeWindow?: string;
  idleTimeout?: string;
  reportUrl?: string;
  voice?: AgentSnapshot['voice'];
  transfer?: AgentSnapshot['transfer'];
  record?: boolean;
}

export interface AgentView extends AgentConfig {
  agentId: string;
  accountId: string;
  version: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface NumberView {
  number: string;
  accountId: string;
  agentId: string;
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

const agentView = (r: Record<string, any>): AgentView => ({
  agentId: r.agent_id,
  accountId: r.account_id,
  version: r.version,
  name: r.name,
  ...r.config,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
const numberView = (r: Record<string, any>): NumberView => ({
  number: r.number,
  accountId: r.account_id,
  agentId: r.agent_id,
  tags: r.tags,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** Null when an agent with this id already exists (in any account: agent ids are global). */
export async function insertAgent(
  pool: pg.Pool,
  accountId: string,
  a: AgentConfig & { agentId?: string; name: string },
): Promise<AgentView | null> {
  const { agentId = randomUUID(), name, ...config } = a;
  const { rows } = await pool.query(
    'INSERT INTO agents (agent_id, account_id, name, config) VALUES ($1, $2, $3, $4) ON CONFLICT (agent_id) DO NOTHING RETURNING *',
    [agentId, accountId, name, config],
  );
  return rows[0] ? agentView(rows[0]) : null;
}

export async function selectAgent(pool: pg.Pool, scope: Scope, agentId: string): Promise<AgentView | null> {
  const { rows } = await pool.query(`SELECT * FROM agents WHERE agent_id = $1 AND ${inScope('$2')}`, [agentId, scopeParam(scope)]);
  return rows[0] ? agentView(rows[0]) : null;
}

export async function listAgents(pool: pg.Pool, scope: Scope): Promise<AgentView[]> {
  return (await pool.query(`SELECT * FROM agents WHERE ${inScope('$1')} ORDER BY created_at, agent_id`, [scopeParam(scope)])).rows.map(
    agentView,
  );
}

/** Merges the given fields (null removes one) and increments the version; null when absent. */
export async function patchAgent(
  pool: pg.Pool,
  scope: Scope,
  agentId: string,
  patch: { [K in keyof AgentConfig]?: AgentConfig[K] | null } & { name?: string },
): Promise<AgentView | null> {
  const { name, ...config } = patch;
  const removed = Object.keys(config).filter((k) => config[k as keyof AgentConfig] === null);
  const set = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null && v !== undefined));
  const { rows } = await pool.query(
    `UPDATE agents SET name = COALESCE($2, name), config = (config || $3::jsonb) - $4::text[], version = version + 1, updated_at = now()
     WHERE agent_id = $1 AND ${inScope('$5')} RETURNING *`,
    [agentId, name ?? null, set, removed, scopeParam(scope)],
  );
  return rows[0] ? agentView(rows[0]) : null;
}

/** 'deleted', 'absent', or the numbers that still route to it (it is then kept). */
export async function deleteAgent(pool: pg.Pool, scope: Scope, agentId: string): Promise<'deleted' | 'absent' | { numbers: string[] }> {
  if (!(await selectAgent(pool, scope, agentId))) return 'absent';
  // A number routes only to an agent of its own account, so these are the agent's account's numbers.
  const { rows } = await pool.query('SELECT number FROM numbers WHERE agent_id = $1 ORDER BY number', [agentId]);
  if (rows.length) return { numbers: rows.map((r) => r.number) };
  const { rowCount } = await pool.query(`DELETE FROM agents WHERE agent_id = $1 AND ${inScope('$2')}`, [agentId, scopeParam(scope)]);
  return rowCount ? 'deleted' : 'absent';
}

/**
 * Assigns (or reassigns) one of the account's numbers to one of its agents. `no_agent` when the account has
 * no such agent; `taken` when the number belongs to another account (a number has one owner).
 */
export async function putNumber(
  pool: pg.Pool,
  accountId: string,
  number: string,
  agentId: string,
  tags: string[] = [],
): Promise<{ number: NumberView; created: boolean } | 'no_agent' | 'taken'> {
  const { rows } = await pool.query(
    `INSERT INTO numbers (number, account_id, agent_id, tags)
     SELECT $1, $4, $2, $3 WHERE EXISTS (SELECT 1 FROM agents WHERE agent_id = $2 AND account_id = $4)
     ON CONFLICT (number) DO UPDATE SET agent_id = EXCLUDED.agent_id, tags = EXCLUDED.tags, updated_at = now()
       WHERE numbers.account_id = EXCLUDED.account_id
     RETURNING *, (xmax = 0) AS created`,
    [number, agentId, tags, accountId],
  );
  if (rows[0]) return { number: numberView(rows[0]), created: rows[0].created };
  return (await selectAgent(pool, { accountId }, agentId)) ? 'taken' : 'no_agent';
}

export async function selectNumber(pool: pg.Pool, scope: Scope, number: string): Promise<NumberView | null> {
  const { rows } = await pool.query(`SELECT * FROM numbers WHERE number = $1 AND ${inScope('$2')}`, [number, scopeParam(scope)]);
  return rows[0] ? numberView(rows[0]) : null;
}

/** The account a number belongs to, if any: a webhook for a call to it is that account's. */
export async function numberOwner(pool: pg.Pool, number: string): Promise<string | null> {
  const { rows } = await pool.query('SELECT account_id FROM numbers WHERE number = $1', [number]);
  return rows[0]?.account_id ?? null;
}

export async function listNumbers(pool: pg.Pool, scope: Scope): Promise<NumberView[]> {
  return (await pool.query(`SELECT * FROM numbers WHERE ${inScope('$1')} ORDER BY number`, [scopeParam(scope)])).rows.map(numberView);
}

export async function deleteNumber(pool: pg.Pool, scope: Scope, number: string): Promise<boolean> {
  const { rowCount } = await pool.query(`DELETE FROM numbers WHERE number = $1 AND ${inScope('$2')}`, [number, scopeParam(scope)]);
  return (rowCount ?? 0) > 0;
}

/**
 * The agent that answers a call: the one named, else the one assigned to the call's own number (the
 * number called, for an inbound call; the number calling from, for an outbound one), else none.
 */
export async function agentForCall(
  pool: pg.Pool,
  accountId: string,
  call: { agentId?: string; direction: Direction; from: string; to: string | null },
): Promise<AgentView | null> {
  if (call.agentId) return selectAgent(pool, { accountId }, call.agentId);
  const own = call.direction === 'inbound' ? call.to : call.from;
  if (!own) return null;
  const { rows } = await pool.query(
    'SELECT a.* FROM numbers n JOIN agents a USING (agent_id) WHERE n.number = $1 AND n.account_id = $2 AND a.account_id = $2',
    [own, accountId],
  );
  return rows[0] ? agentView(rows[0]) : null;
}

/** What a call keeps of its agent: identity and what shapes the conversation. */
export function snapshotOf(a: AgentView): AgentSnapshot {
  const { agentId, version, name, prompt, firstMessage, language, responder, script, topics, voice, transfer, record } = a;
  const given = { prompt, firstMessage, language, responder, script, topics, voice, transfer, record };
  return { agentId, version, name, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
}
