// Telephony and pipeline webhooks (issue #3: to be completed).
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.js';
import { router } from '../openapi.js';

export function webhookRoutes(_deps: ApiDeps): OpenAPIHono {
  return router();
}
