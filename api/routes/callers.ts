// Caller profiles, per account: operators manage their account's; a chat client's token reaches its own number only.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { deleteCaller, eraseTranscripts, patchCaller, putCaller, selectCaller } from '../../store/callers.js';
import { actingIn } from '../acting.js';
import { AccountQuery } from '../account-schemas.js';
import { assertOwner, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, body, errors, json, noAccount, router } from '../openapi.js';
import { accountTwilio, eraseRecordings } from '../providers/twilio-recordings.js';
import { CallerBody, CallerPatch, CallerSchema, Erased, EraseQuery, ErrorSchema, NumberParam } from '../schemas.js';

const route = <R extends Parameters<typeof createRoute>[0]>(r: R) => createRoute({ tags: ['callers'], security: bearer, ...r });
const notFound = { 404: json(ErrorSchema, 'no such caller') };

const putRoute = route({
  method: 'put',
  path: '/{number}',
  summary: "Create or replace a caller's profile",
  request: { params: NumberParam, query: AccountQuery, body: body(CallerBody) },
  responses: { 201: json(CallerSchema, 'created'), 200: json(CallerSchema, 'replaced'), ...noAccount, ...errors },
});
const patchRoute = route({
  method: 'patch',
  path: '/{number}',
  summary: 'Change the given fields of a profile',
  request: { params: NumberParam, query: AccountQuery, body: body(CallerPatch) },
  responses: { 200: json(CallerSchema), ...notFound, ...errors },
});
const getRoute = route({
  method: 'get',
  path: '/{number}',
  summary: "A caller's profile",
  request: { params: NumberParam, query: AccountQuery },
  responses: { 200: json(CallerSchema), ...notFound, ...errors },
});
const deleteRoute = route({
  method: 'delete',
  path: '/{number}',
  summary: 'Delete a profile; with erase=transcripts also erase the text of its ended calls and delete their recordings',
  request: { params: NumberParam, query: EraseQuery },
  responses: { 204: { description: 'deleted' }, 200: json(Erased, 'deleted, and transcripts erased'), ...notFound, ...errors },
});

/** The caller found, or the 404 every route here answers for an absent profile. */
function found<T>(number: string, value: T | null): T {
  if (value === null) throw new ApiError('not_found', `no caller ${number}`);
  return value;
}

export function callerRoutes({ stores, twilio, credentials }: ApiDeps): OpenAPIHono<AuthEnv> {
  return router<AuthEnv>()
    .openapi(putRoute, async (c) => {
      const { number } = c.req.valid('param');
      assertOwner(c.get('principal'), number);
      const { caller, created } = await putCaller(stores.pool, await actingIn(c, stores.pool), number, c.req.valid('json'));
      return c.json(caller, created ? 201 : 200);
    })
    .openapi(patchRoute, async (c) => {
      const { number } = c.req.valid('param');
      assertOwner(c.get('principal'), number);
      return c.json(found(number, await patchCaller(stores.pool, await actingIn(c, stores.pool), number, c.req.valid('json'))), 200);
    })
    .openapi(getRoute, async (c) => {
      const { number } = c.req.valid('param');
      assertOwner(c.get('principal'), number);
      return c.json(found(number, await selectCaller(stores.pool, await actingIn(c, stores.pool), number)), 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { number } = c.req.valid('param');
      assertOwner(c.get('principal'), number);
      const accountId = await actingIn(c, stores.pool);
      const existed = await deleteCaller(stores.pool, accountId, number);
      // Erasure is about the caller's conversations: it runs whether or not a profile was kept.
      if (c.req.valid('query').erase === 'transcripts') {
        const erased = await eraseTranscripts(stores.pool, stores.redis, accountId, number);
        // After the text: a provider that cannot be reached fails the request, and a retry finishes both.
        return c.json(
          {
            erased: {
              ...erased,
              recordings: await eraseRecordings(
                stores,
                await accountTwilio(stores.pool, credentials, twilio, accountId),
                accountId,
                number,
              ),
            },
          },
          200,
        );
      }
      found(number, existed || null);
      return c.body(null, 204);
    });
}
