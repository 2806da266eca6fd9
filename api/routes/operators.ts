// Operator views from PostgreSQL: the call list and the statistics. Mounted at /v1 behind authenticate.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor, listCalls } from '../../store/call-list.js';
import { callStats } from '../../store/call-stats.js';
import { requireAdmin, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, errors, json, router } from '../openapi.js';
import { CallsPage, ListCallsQuery, StatsQuery, StatsSchema } from '../schemas.js';

const route = <R extends Parameters<typeof createRoute>[0]>(r: R) =>
  createRoute({ tags: ['operators'], security: bearer, middleware: [requireAdmin] as const, ...r });

const listRoute = route({
  method: 'get',
  path: '/calls',
  summary: 'List calls, newest first, filtered and cursor-paginated (operators)',
  request: { query: ListCallsQuery },
  responses: { 200: json(CallsPage), ...errors },
});
const statsRoute = route({
  method: 'get',
  path: '/stats',
  summary: 'Live counts, resume and abandon rates, durations, calls per day (operators)',
  request: { query: StatsQuery },
  responses: { 200: json(StatsSchema), ...errors },
});

export function operatorRoutes({ stores }: ApiDeps): OpenAPIHono<AuthEnv> {
  return router<AuthEnv>()
    .openapi(listRoute, async (c) => {
      const { cursor, ...filter } = c.req.valid('query');
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === null) throw new ApiError('invalid_request', 'invalid query', [{ path: 'cursor', message: 'a cursor from nextCursor' }]);
      const { calls, next } = await listCalls(stores.pool, { ...filter, after });
      return c.json({ calls, nextCursor: next && encodeCursor(next) }, 200);
    })
    .openapi(statsRoute, async (c) => c.json(await callStats(stores.pool, c.req.valid('query').days), 200));
}
