// An account's own provider credentials: set, listed (hints only) and removed by the platform key or an
// admin key of the account. They are stored sealed (store/credentials.ts) and verify its webhooks.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { deleteCredentials, listCredentials, putCredentials, type Provider, type ProviderCredentials } from '../../store/credentials.js';
import { AccountParam } from '../account-schemas.js';
import type { AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, body, errors, json, router } from '../openapi.js';
import {
  CREDENTIALS_BODY,
  CredentialsBody,
  ProviderCredentialsList,
  ProviderCredentialsSchema,
  ProviderParam,
} from '../provider-schemas.js';
import { ErrorSchema } from '../schemas.js';
import { reachable } from './accounts.js';

const err = (description: string) => json(ErrorSchema, description);
const route = <R extends Parameters<typeof createRoute>[0]>(r: R) => createRoute({ tags: ['accounts'], security: bearer, ...r });
const noAccount = { 404: err('no such account (or not yours)') };
const WHO = '(platform key, or an admin key of the account)';

/**
 * Before the body validator: who may, then the body the path's provider takes, so a Twilio body sent
 * for Vonage is refused with what is wrong with it (the documented body is any of the three).
 */
function mayPut(deps: ApiDeps): MiddlewareHandler<AuthEnv> {
  return async function mayPut(c, next) {
    await reachable(c, deps, c.req.param('accountId') ?? '', true);
    const schema = CREDENTIALS_BODY[c.req.param('provider') as Provider] as (typeof CREDENTIALS_BODY)[Provider] | undefined;
    if (schema && /^application\/([\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
      const parsed = schema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw new ApiError('invalid_request', 'invalid json', details);
      }
    }
    await next();
  };
}

const putRoute = (deps: ApiDeps) =>
  route({
    method: 'put',
    path: '/accounts/{accountId}/providers/{provider}',
    summary: `Set the account's own credentials for a provider; its webhooks are verified with them ${WHO}`,
    description:
      'Twilio `{accountSid, authToken}`, Vonage `{signatureSecret, apiKey?}`, Exotel `{webhookUser, webhookPassword}`. ' +
      'Stored encrypted; no answer ever shows them again.',
    middleware: [mayPut(deps)] as const,
    request: { params: ProviderParam, body: body(CredentialsBody) },
    responses: {
      200: json(ProviderCredentialsSchema, 'replaced'),
      201: json(ProviderCredentialsSchema, 'set'),
      ...noAccount,
      409: err('another account registered this Twilio AccountSid or Vonage API key (invalid_state)'),
      ...errors,
    },
  });
const listRoute = route({
  method: 'get',
  path: '/accounts/{accountId}/providers',
  summary: `Which providers the account has its own credentials for, with a hint, never the secrets ${WHO}`,
  request: { params: AccountParam },
  responses: { 200: json(ProviderCredentialsList), ...noAccount, ...errors },
});
const deleteRoute = route({
  method: 'delete',
  path: '/accounts/{accountId}/providers/{provider}',
  summary: `Remove the account's credentials for a provider: its webhooks are verified with the environment's again ${WHO}`,
  request: { params: ProviderParam },
  responses: { 204: { description: 'removed' }, 404: err('no such account, or no credentials for this provider'), ...errors },
});

export function providerRoutes(deps: ApiDeps): OpenAPIHono<AuthEnv> {
  const { pool } = deps.stores;
  // Another API process sees a change within a second (api/provider-accounts.ts); this one at once.
  const changed = () => deps.webhooks.accounts?.forget();
  return router<AuthEnv>()
    .openapi(putRoute(deps), async (c) => {
      const { accountId, provider } = c.req.valid('param');
      const credentials = { provider, ...c.req.valid('json') } as ProviderCredentials;
      const result = await putCredentials(pool, deps.credentials!, accountId, credentials);
      if ('taken' in result) {
        const what = provider === 'twilio' ? 'this Twilio AccountSid' : 'this Vonage API key';
        throw new ApiError('invalid_state', `another account registered ${what}`);
      }
      changed();
      const { created, ...summary } = result;
      return c.json(summary, created ? 201 : 200);
    })
    .openapi(listRoute, async (c) => {
      const { accountId } = c.req.valid('param');
      await reachable(c, deps, accountId, true);
      return c.json({ providers: await listCredentials(pool, accountId) }, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { accountId, provider } = c.req.valid('param');
      await reachable(c, deps, accountId, true);
      if (!(await deleteCredentials(pool, accountId, provider))) throw new ApiError('not_found', `no ${provider} credentials`);
      changed();
      return c.body(null, 204);
    });
}
