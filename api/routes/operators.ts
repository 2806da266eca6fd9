// Operator views: list and stats (issue #3: to be completed).
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { router } from '../openapi.js';

export function operatorRoutes(_deps: ApiDeps): OpenAPIHono<AuthEnv> {
  return router<AuthEnv>();
}
