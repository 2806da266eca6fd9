// Operators mint short-lived JWTs for chat clients: the subject is the caller number they act as, in the operator's account.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { actingIn } from '../acting.js';
import { AccountQuery } from '../account-schemas.js';
import { mintToken, requireOperator, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { bearer, body, errors, json, noAccount, router } from '../openapi.js';
import { TokenRequest, TokenSchema } from '../schemas.js';

const mintRoute = createRoute({
  method: 'post',
  path: '/tokens',
  tags: ['auth'],
  security: bearer,
  middleware: [requireOperator] as const,
  summary: "Mint a chat client's JWT for a caller number (operators)",
  request: { query: AccountQuery, body: body(TokenRequest) },
  responses: { 201: json(TokenSchema, 'minted'), ...noAccount, ...errors },
});

export function tokenRoutes({ auth, stores }: ApiDeps): OpenAPIHono<AuthEnv> {
  return router<AuthEnv>().openapi(mintRoute, async (c) =>
    c.json(await mintToken(auth, c.req.valid('json').subject, await actingIn(c, stores.pool)), 201),
  );
}
