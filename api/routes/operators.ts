// Views from PostgreSQL: the call list (operators see their account's, a chat client its own calls) and the statistics.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor, listCalls } from '../../store/call-list.js';
import { platformStats } from '../../store/account-stats.js';
import { callStats } from '../../store/call-stats.js';
import { readScope } from '../acting.js';
import { assertOwner, requireOperator, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, errors, json, noAccount, router } from '../openapi.js';
import { CallsPage, ListCallsQuery, StatsQuery, StatsSchema } from '../schemas.js';

const route = <R extends Parameters<typeof createRoute>[0]>(r: R) => createRoute({ tags: ['operators'], security: bearer, ...r });

const listRoute = route({
  method: 'get',
  path: '/calls',
  summary: "List the account's calls, newest first, filtered and cursor-paginated (a chat token: its caller's own)",
  request: { query: ListCallsQuery },
  responses: { 200: json(CallsPage), ...noAccount, ...errors },
});
const statsRoute = route({
  method: 'get',
  path: '/stats',
  summary: "Live counts, resume and abandon rates, durations, calls per day: the account's; the platform key's also per account",
  middleware: [requireOperator] as const,
  request: { query: StatsQuery },
  responses: { 200: json(StatsSchema), ...noAccount, ...errors },
});

export function operatorRoutes({ stores }: ApiDeps): OpenAPIHono<AuthEnv> {
  return router<AuthEnv>()
    .openapi(listRoute, async (c) => {
      const { cursor, accountId: _named, ...filter } = c.req.valid('query');
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === null) throw new ApiError('invalid_request', 'invalid query', [{ path: 'cursor', message: 'a cursor from nextCursor' }]);
      const p = c.get('principal');
      // A chat client lists only its own number's calls.
      if (p.kind === 'caller') {
        if (filter.from) assertOwner(p, filter.from);
        filter.from = p.number;
      }
      const { calls, next } = await listCalls(stores.pool, { ...filter, scope: readScope(c), after });
      return c.json({ calls, nextCursor: next && encodeCursor(next) }, 200);
    })
    .openapi(statsRoute, async (c) => {
      const scope = readScope(c);
      const stats = await callStats(stores.pool, scope, c.req.valid('query').days);
      // The platform key, reading every account, also sees its customers side by side.
      if (scope.accountId !== null) return c.json(stats, 200);
      return c.json({ ...stats, platform: await platformStats(stores.pool, stats.window) }, 200);
    });
}
