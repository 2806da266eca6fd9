// The HTTP app, built from its dependencies so tests drive it with app.request() and no network.
import { OpenAPIHono } from '@hono/zod-openapi';
import { pino } from 'pino';
import { authenticate, formBodyToken, viewersRead, type AuthEnv } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { chatPage } from './chat-page.js';
import type { ApiDeps } from './deps.js';
import { createGrants } from './grants.js';
import { docsRoutes, OPENAPI_CONFIG } from './docs.js';
import { ApiError, describeCause, errorJson, toApiError } from './errors.js';
import { LineRefused } from './call-start.js';
import { createApiMetrics, observe } from './metrics.js';
import { rateLimit } from './rate-limit.js';
import { accountRoutes } from './routes/accounts.js';
import { providerRoutes } from './routes/providers.js';
import { createProviderAccounts } from './provider-accounts.js';
import { credentialCipher, DEV_CREDENTIALS_KEY } from '../store/credentials.js';
import { agentRoutes } from './routes/agents.js';
import { callerRoutes } from './routes/callers.js';
import { callRoutes } from './routes/calls.js';
import { healthRoutes } from './routes/health.js';
import { operatorRoutes } from './routes/operators.js';
import { tokenRoutes } from './routes/tokens.js';
import { voiceRoutes } from './routes/voice.js';
import { webhookRoutes } from './routes/webhooks.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** For each request path, the methods some route answers it with (`:param` matches one segment). */
function methodsByPath(routes: { method: string; path: string }[]): (path: string) => string[] {
  const patterns = routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
    .map((r) => ({ method: r.method, re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+')}/?$`) }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

export function createApp(deps: ApiDeps) {
  const logger = deps.logger ?? pino({ level: 'silent' });
  const metrics = createApiMetrics(deps.stores.pool);
  const app = new OpenAPIHono<AuthEnv>();
  // Every refusal is counted where it is answered: here for the API and the feed, in the voice routes for a caller who hears it.
  const countRefusal = (err: unknown) => {
    if (err instanceof LineRefused) metrics.lineRefusals.inc({ account: err.accountId });
  };
  // Webhooks verify with accounts' own credentials, which the provider routes set.
  const credentials = deps.credentials ?? credentialCipher(DEV_CREDENTIALS_KEY);
  const accounts = deps.webhooks.accounts ?? createProviderAccounts(deps.stores.pool, credentials);
  deps = { ...deps, countRefusal, credentials, webhooks: { ...deps.webhooks, accounts } };
  app.onError((err, c) => {
    const apiError = toApiError(err);
    if (apiError.code === 'internal') logger.error({ err, path: c.req.path }, 'unhandled error');
    else if (apiError.status === 503) {
      // One line per refused request, with what lay underneath, so a burst of 503s can be named from the logs.
      const cause = apiError.cause ?? (err === apiError ? undefined : err);
      logger.warn({ code: apiError.code, path: c.req.path, details: apiError.details, cause: describeCause(cause) }, apiError.message);
      metrics.unavailable.inc({ code: apiError.code });
    }
    countRefusal(err);
    return errorJson(c, apiError);
  });
  app.use('*', observe(metrics, logger));
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  // A known path asked with another method is a 405 that says which methods it takes.
  let allowedMethods: ((path: string) => string[]) | undefined;
  app.notFound((c) => {
    allowedMethods ??= methodsByPath(app.routes);
    const allowed = allowedMethods(c.req.path);
    if (allowed.length) {
      return errorJson(
        c,
        new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}`, undefined, { Allow: allowed.join(', ') }),
      );
    }
    return errorJson(c, new ApiError('not_found', `no route ${c.req.method} ${c.req.path}`));
  });

  app.route('/', healthRoutes(deps));
  app.route('/', chatPage());

  const v1 = new OpenAPIHono<AuthEnv>();
  // The rest of an oversized body is never read: close the connection, so a client's pool does not send
  // its next request on a socket that still carries it.
  const tooLarge = () => {
    throw new ApiError('payload_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`, undefined, { Connection: 'close' });
  };
  v1.use('*', bodyLimit(MAX_BODY_BYTES, tooLarge));
  // Webhooks authenticate by their provider's signature, not a bearer token.
  v1.route('/webhooks', webhookRoutes(deps));
  v1.route('/voice', voiceRoutes(deps));
  v1.use('/calls/:callId/drop', formBodyToken);
  // '/calls/*' also matches '/calls'. Limits count after authenticate, so the caller is known.
  const grants = deps.grants ?? createGrants(deps.stores.pool);
  for (const path of ['/calls/*', '/callers/*', '/agents/*', '/numbers/*', '/stats', '/auth/*', '/accounts/*'])
    v1.use(path, authenticate(deps.auth, grants), viewersRead, rateLimit(deps.rateLimit, deps.stores.redis));
  v1.route('/calls', callRoutes(deps));
  v1.route('/callers', callerRoutes(deps));
  v1.route('/', agentRoutes(deps));
  v1.route('/auth', tokenRoutes(deps));
  v1.route('/', operatorRoutes(deps));
  v1.route('/', accountRoutes(deps));
  v1.route('/', providerRoutes(deps));
  app.route('/v1', v1);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: "ADMIN_API_KEY (the platform key), an account's API key (cwk_...), or a JWT from POST /v1/auth/tokens for chat clients",
  });
  app.doc31('/openapi.json', OPENAPI_CONFIG);
  app.route('/docs', docsRoutes());
  return app;
}
