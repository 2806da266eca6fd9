// What a call starts with besides its own facts, whoever starts it (a client, the feed, Twilio): the
// caller's profile in its context, and its agent (a snapshot, and the agent's windows and responder).
import { accountState } from '../store/accounts.js';
import { takeLine } from '../store/call-lines.js';
import { agentForCall, numberOwner, snapshotOf, type AgentView } from '../store/agents.js';
import { selectCaller } from '../store/callers.js';
import type { Stores } from '../store/call-reader.js';
import { parseDuration } from '../config/duration.js';
import { partyNumber } from '../workflows/party.js';
import { DEFAULT_ACCOUNT, type CallConfig, type StartCall } from '../workflows/types.js';
import { ApiError } from './errors.js';

export interface PreparedStart {
  start: StartCall;
  /** Over the API's settings for this call; absent without an agent. */
  config?: Partial<CallConfig>;
}

/**
 * Adds the account (the one given, else the owner of the call's own number, else `default`), the profile
 * and the agent (named by `agentId`, else the call's own number's), all of that account. A named agent must
 * exist in it, and a suspended account starts nothing.
 */
export async function prepareStart(
  { pool }: Stores,
  given: StartCall,
  agentId?: string,
  { takesLine = true }: { takesLine?: boolean } = {},
): Promise<PreparedStart> {
  const accountId = given.accountId ?? (await accountOfNumber(pool, ownNumber(given)));
  const start = { ...given, accountId };
  const [account, profile, agent] = await Promise.all([
    accountState(pool, accountId),
    selectCaller(pool, accountId, partyNumber(start)),
    agentForCall(pool, accountId, { agentId, ...start }),
  ]);
  mayStart(accountId, account);
  if (takesLine) await takeLineOrRefuse(pool, accountId, start.callId, account);
  if (agentId && !agent) throw new ApiError('invalid_request', `no agent ${agentId}`, [{ path: 'agentId', message: 'no such agent' }]);
  const context = Object.fromEntries(Object.entries({ name: profile?.name, language: profile?.language }).filter(([, v]) => v));
  return {
    start: { ...start, context, ...(agent ? { agent: snapshotOf(agent) } : {}) },
    ...(agent ? { config: agentSettings(agent) } : {}),
  };
}

/**
 * Refuses a start or resume the account may not make: suspended (403 account_suspended), or over its
 * concurrency limit (429 concurrency_limit, with the limit and the open count). Only a limited account
 * pays for the count.
 */
export async function takeLineOrRefuse(
  pool: Stores['pool'],
  accountId: string,
  callId: string,
  account?: Awaited<ReturnType<typeof accountState>>,
): Promise<void> {
  const state = mayStart(accountId, account === undefined ? await accountState(pool, accountId) : account);
  const limit = state.limits.concurrentCalls;
  if (limit === undefined || limit === null) return;
  const line = await takeLine(pool, accountId, callId, limit);
  if (!line.taken) throw new LineRefused(accountId, limit, line.open);
}

/** 429 concurrency_limit: the account's open calls fill its limit. */
export class LineRefused extends ApiError {
  constructor(
    readonly accountId: string,
    limit: number,
    open: number,
  ) {
    super('concurrency_limit', `account ${accountId} has ${open} open calls, its limit`, { limit, open });
  }
}

function mayStart(accountId: string, state: Awaited<ReturnType<typeof accountState>>) {
  if (state === null) throw new ApiError('not_found', `no account ${accountId}`);
  if (state.status !== 'active') throw new ApiError('account_suspended', `account ${accountId} is suspended`);
  return state;
}

/** The number a provider routes the call by: the one called inbound, the one calling from outbound. */
const ownNumber = (start: StartCall): string | null => (start.direction === 'inbound' ? start.to : start.from);

/** A call to a number some account owns is that account's; any other is `default`'s. */
export async function accountOfNumber(pool: Stores['pool'], number: string | null): Promise<string> {
  return (number && (await numberOwner(pool, number))) || DEFAULT_ACCOUNT;
}

/** What an agent changes of a call's settings: its windows, who answers chat turns, where its report goes. */
function agentSettings(agent: AgentView): Partial<CallConfig> {
  const resumeWindowMs = agent.resumeWindow ? parseDuration(agent.resumeWindow) : null;
  const idleTimeoutMs = agent.idleTimeout ? parseDuration(agent.idleTimeout) : null;
  return {
    ...(resumeWindowMs ? { resumeWindowMs } : {}),
    ...(idleTimeoutMs ? { idleTimeoutMs } : {}),
    ...(agent.responder ? { responder: agent.responder.kind === 'openai' ? 'model' : 'scripted' } : {}),
    ...(agent.reportUrl ? { reportUrl: agent.reportUrl } : {}),
  };
}
