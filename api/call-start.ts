// What a call starts with besides its own facts, whoever starts it (a client, the feed, Twilio): the
// caller's profile in its context, and its agent (a snapshot, and the agent's windows and responder).
import { agentForCall, snapshotOf, type AgentView } from '../store/agents.js';
import { selectCaller } from '../store/callers.js';
import type { Stores } from '../store/call-reader.js';
import { parseDuration } from '../config/duration.js';
import { partyNumber } from '../workflows/party.js';
import type { CallConfig, StartCall } from '../workflows/types.js';
import { ApiError } from './errors.js';

export interface PreparedStart {
  start: StartCall;
  /** Over the API's settings for this call; absent without an agent. */
  config?: Partial<CallConfig>;
}

/** Adds the profile and the agent (named by `agentId`, else the call's own number's). A named agent must exist. */
export async function prepareStart({ pool }: Stores, start: StartCall, agentId?: string): Promise<PreparedStart> {
  const [profile, agent] = await Promise.all([selectCaller(pool, partyNumber(start)), agentForCall(pool, { agentId, ...start })]);
  if (agentId && !agent) throw new ApiError('invalid_request', `no agent ${agentId}`, [{ path: 'agentId', message: 'no such agent' }]);
  const context = Object.fromEntries(Object.entries({ name: profile?.name, language: profile?.language }).filter(([, v]) => v));
  return {
    start: { ...start, context, ...(agent ? { agent: snapshotOf(agent) } : {}) },
    ...(agent ? { config: agentSettings(agent) } : {}),
  };
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
