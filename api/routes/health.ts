// Liveness (the process answers) and readiness (Temporal, PostgreSQL and Redis answer in time). No auth.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { json, router } from '../openapi.js';
import { ErrorSchema } from '../schemas.js';

export const CHECK_TIMEOUT_MS = 2_000;

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['ops'],
  summary: 'Liveness',
  responses: { 200: json(z.object({ status: z.literal('ok') }).openapi('Health')) },
});
const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['ops'],
  summary: 'Readiness: every dependency answers within 2 seconds',
  responses: {
    200: json(z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.literal('ok')) }).openapi('Ready')),
    503: json(ErrorSchema, 'a dependency is down; details.checks says which'),
  },
});

/** 'ok', or why not: the check's error or its timeout. */
async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check), timeout]);
    return 'ok';
  } catch (err) {
    return `down: ${(err as Error)?.message || String(err)}`.slice(0, 300);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes({ checks }: ApiDeps, timeoutMs = CHECK_TIMEOUT_MS): OpenAPIHono {
  return router()
    .openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyRoute, async (c) => {
      const names = Object.keys(checks);
      const results = Object.fromEntries(
        await Promise.all(names.map(async (name) => [name, await probe(checks[name]!, timeoutMs)] as const)),
      );
      const down = names.filter((name) => results[name] !== 'ok');
      if (down.length) throw new ApiError('unavailable', `not ready: ${down.join(', ')} down`, { checks: results });
      return c.json({ status: 'ready' as const, checks: results as Record<string, 'ok'> }, 200);
    });
}
