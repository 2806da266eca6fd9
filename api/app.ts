// The HTTP app, built from its dependencies so tests drive it with app.request() and no network.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { pino } from 'pino';
import { authenticate, type AuthEnv } from './auth.js';
import type { ApiDeps } from './deps.js';
import { docsPage, OPENAPI_CONFIG } from './docs.js';
import { ApiError, errorJson, toApiError } from './errors.js';
import { createApiMetrics, observe } from './metrics.js';
import { rateLimit } from './rate-limit.js';
import { callRoutes } from './routes/calls.js';
import { healthRoutes } from './routes/health.js';
import { operatorRoutes } from './routes/operators.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';

export const MAX_BODY_BYTES = 64 * 1024;

export function createApp(deps: ApiDeps) {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const metrics = createApiMetrics(deps.stores.pool);
  const app = new OpenAPIHono<AuthEnv>();
  app.onError((err, c) => {
    const apiError = toApiError(err);
    if (apiError.code === 'internal') logger.error({ err, path: c.req.path }, 'unhandled error');
    return errorJson(c, apiError);
  });
  app.use('*', observe(metrics, logger));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.notFound((c) => errorJson(c, new ApiError('not_found', `no route ${c.req.method} ${c.req.path}`)));

  app.route('/', healthRoutes(deps));

  const v1 = new OpenAPIHono<AuthEnv>();
  v1.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new ApiError('payload_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`); } }));
  // Webhooks authenticate by their provider's signature, not a bearer token.
  v1.route('/webhooks', webhookRoutes(deps));
  // '/calls/*' also matches '/calls'. Limits count after authenticate, so the caller is known.
  for (const path of ['/calls/*', '/stats', '/auth/*']) v1.use(path, authenticate(deps.auth), rateLimit(deps.rateLimit, deps.stores.redis));
  v1.route('/calls', callRoutes(deps));
  v1.route('/auth', tokenRoutes(deps));
  v1.route('/', operatorRoutes(deps));
  app.route('/v1', v1);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY for operators, a JWT from POST /v1/auth/tokens for chat clients' });
  app.doc31('/openapi.json', OPENAPI_CONFIG);
  app.get('/docs', docsPage(() => app.getOpenAPI31Document(OPENAPI_CONFIG)));
  return app;
}
