// Agents and the numbers they answer (operators only). A call snapshots its agent at start, so an
// edit here (a new version) reaches new calls only.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  deleteAgent,
  deleteNumber,
  insertAgent,
  listAgents,
  listNumbers,
  patchAgent,
  putNumber,
  selectAgent,
  selectNumber,
} from '../../store/agents.js';
import { actingIn, readScope } from '../acting.js';
import { AccountQuery } from '../account-schemas.js';
import { requireOperator, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, body, errors, json, router } from '../openapi.js';
import {
  AgentBody,
  AgentIdParam,
  AgentList,
  AgentPatch,
  AgentSchema,
  ErrorSchema,
  E164Param,
  NumberBody,
  NumberList,
  NumberSchema,
} from '../schemas.js';

const route = <R extends Parameters<typeof createRoute>[0]>(tag: string, r: R) =>
  createRoute({ tags: [tag], security: bearer, middleware: [requireOperator] as const, ...r });
const err = (description: string) => json(ErrorSchema, description);
const noAgent = { 404: err('no such agent') };
const noAccount = { 404: err('no such agent, or no such account') };

const createAgent = route('agents', {
  method: 'post',
  path: '/agents',
  summary: 'Create an agent (version 1)',
  request: { query: AccountQuery, body: body(AgentBody) },
  responses: { 201: json(AgentSchema, 'created'), 409: err('an agent with this agentId exists'), ...noAccount, ...errors },
});
const listAgentsRoute = route('agents', {
  method: 'get',
  path: '/agents',
  summary: 'Every agent',
  responses: { 200: json(AgentList), ...noAccount, ...errors },
});
const getAgent = route('agents', {
  method: 'get',
  path: '/agents/{agentId}',
  summary: 'One agent',
  request: { params: AgentIdParam },
  responses: { 200: json(AgentSchema), ...noAgent, ...errors },
});
const patchAgentRoute = route('agents', {
  method: 'patch',
  path: '/agents/{agentId}',
  summary: 'Change the given fields (null removes one); the version increments',
  request: { params: AgentIdParam, body: body(AgentPatch) },
  responses: { 200: json(AgentSchema), ...noAgent, ...errors },
});
const deleteAgentRoute = route('agents', {
  method: 'delete',
  path: '/agents/{agentId}',
  summary: 'Delete an agent that answers no number',
  request: { params: AgentIdParam },
  responses: { 204: { description: 'deleted' }, ...noAgent, 409: err('numbers still route to it (details.numbers)'), ...errors },
});
const putNumberRoute = route('numbers', {
  method: 'put',
  path: '/numbers/{number}',
  summary: "Assign one of the account's agents to a phone number (a number belongs to one account)",
  request: { params: E164Param, query: AccountQuery, body: body(NumberBody) },
  responses: {
    201: json(NumberSchema, 'assigned'),
    200: json(NumberSchema, 'reassigned'),
    ...noAgent,
    409: err('number_taken: the number belongs to another account'),
    ...errors,
  },
});
const listNumbersRoute = route('numbers', {
  method: 'get',
  path: '/numbers',
  summary: 'Every assigned number',
  responses: { 200: json(NumberList), ...noAccount, ...errors },
});
const getNumber = route('numbers', {
  method: 'get',
  path: '/numbers/{number}',
  summary: "A number's assignment",
  request: { params: E164Param },
  responses: { 200: json(NumberSchema), 404: err('the number is not assigned'), ...errors },
});
const deleteNumberRoute = route('numbers', {
  method: 'delete',
  path: '/numbers/{number}',
  summary: "Remove a number's assignment",
  request: { params: E164Param },
  responses: { 204: { description: 'removed' }, 404: err('the number is not assigned'), ...errors },
});

export function agentRoutes({ stores: { pool } }: ApiDeps): OpenAPIHono<AuthEnv> {
  const agentOr404 = <T>(agentId: string, value: T | null): T => {
    if (value === null) throw new ApiError('not_found', `no agent ${agentId}`);
    return value;
  };
  return router<AuthEnv>()
    .openapi(createAgent, async (c) => {
      const { accountId, ...input } = c.req.valid('json');
      const agent = await insertAgent(pool, await actingIn(c, pool, accountId), input);
      if (!agent) throw new ApiError('invalid_state', `agent ${input.agentId} exists; PATCH it instead`);
      return c.json(agent, 201);
    })
    .openapi(listAgentsRoute, async (c) => c.json({ agents: await listAgents(pool, readScope(c)) }, 200))
    .openapi(getAgent, async (c) => {
      const { agentId } = c.req.valid('param');
      return c.json(agentOr404(agentId, await selectAgent(pool, readScope(c), agentId)), 200);
    })
    .openapi(patchAgentRoute, async (c) => {
      const { agentId } = c.req.valid('param');
      return c.json(agentOr404(agentId, await patchAgent(pool, readScope(c), agentId, c.req.valid('json'))), 200);
    })
    .openapi(deleteAgentRoute, async (c) => {
      const { agentId } = c.req.valid('param');
      const outcome = await deleteAgent(pool, readScope(c), agentId);
      if (outcome === 'absent') throw new ApiError('not_found', `no agent ${agentId}`);
      if (outcome !== 'deleted')
        throw new ApiError('invalid_state', `agent ${agentId} still answers numbers; reassign them first`, outcome);
      return c.body(null, 204);
    })
    .openapi(putNumberRoute, async (c) => {
      const { number } = c.req.valid('param');
      const { agentId, tags } = c.req.valid('json');
      const put = await putNumber(pool, await actingIn(c, pool), number, agentId, tags);
      if (put === 'no_agent') throw new ApiError('not_found', `no agent ${agentId}`);
      if (put === 'taken') throw new ApiError('number_taken', `${number} belongs to another account`);
      return c.json(put.number, put.created ? 201 : 200);
    })
    .openapi(listNumbersRoute, async (c) => c.json({ numbers: await listNumbers(pool, readScope(c)) }, 200))
    .openapi(getNumber, async (c) => {
      const { number } = c.req.valid('param');
      const view = await selectNumber(pool, readScope(c), number);
      if (!view) throw new ApiError('not_found', `number ${number} is not assigned`);
      return c.json(view, 200);
    })
    .openapi(deleteNumberRoute, async (c) => {
      const { number } = c.req.valid('param');
      if (!(await deleteNumber(pool, readScope(c), number))) throw new ApiError('not_found', `number ${number} is not assigned`);
      return c.body(null, 204);
    });
}
