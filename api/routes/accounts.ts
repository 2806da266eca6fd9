// Accounts and their API keys. The platform key manages accounts; an account's admin key manages its own keys.
import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { insertAccount, insertKey, listAccounts, listKeys, patchAccount, revokeKey, selectAccount } from '../../store/accounts.js';
import {
  AccountBody,
  AccountList,
  AccountParam,
  AccountPatch,
  AccountSchema,
  KeyBody,
  KeyList,
  KeyParam,
  NewKeySchema,
} from '../account-schemas.js';
import { requirePlatform, type AuthEnv } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { bearer, body, errors, json, router } from '../openapi.js';
import { ErrorSchema } from '../schemas.js';

const err = (description: string) => json(ErrorSchema, description);
const route = <R extends Parameters<typeof createRoute>[0]>(r: R) => createRoute({ tags: ['accounts'], security: bearer, ...r });
/** The platform key's routes: managing accounts. */
const platformRoute = <R extends Parameters<typeof createRoute>[0]>(r: R) =>
  createRoute({ tags: ['accounts'], security: bearer, middleware: [requirePlatform] as const, ...r });
const noAccount = { 404: err('no such account (or not yours)') };

const createAccount = platformRoute({
  method: 'post',
  path: '/accounts',
  summary: 'Create an account (platform key)',
  request: { body: body(AccountBody) },
  responses: { 201: json(AccountSchema, 'created'), 409: err('an account with this accountId exists'), ...errors },
});
const listAccountsRoute = platformRoute({
  method: 'get',
  path: '/accounts',
  summary: 'Every account (platform key)',
  responses: { 200: json(AccountList), ...errors },
});
const getAccount = route({
  method: 'get',
  path: '/accounts/{accountId}',
  summary: 'One account (the platform key, or a key of the account)',
  request: { params: AccountParam },
  responses: { 200: json(AccountSchema), ...noAccount, ...errors },
});
const patchAccountRoute = platformRoute({
  method: 'patch',
  path: '/accounts/{accountId}',
  summary: 'Rename, change limits or currency, suspend or reactivate (platform key)',
  request: { params: AccountParam, body: body(AccountPatch) },
  responses: { 200: json(AccountSchema), ...noAccount, ...errors },
});
const suspendAccount = platformRoute({
  method: 'delete',
  path: '/accounts/{accountId}',
  summary: 'Suspend an account: its keys and chat tokens stop at once, new calls are refused, open calls finish (platform key)',
  request: { params: AccountParam },
  responses: { 200: json(AccountSchema, 'suspended'), ...noAccount, ...errors },
});
const createKey = route({
  method: 'post',
  path: '/accounts/{accountId}/keys',
  summary: 'Make an API key; its secret is in this answer only (platform key, or an admin key of the account)',
  request: { params: AccountParam, body: body(KeyBody) },
  responses: { 201: json(NewKeySchema, 'created'), ...noAccount, ...errors },
});
const listKeysRoute = route({
  method: 'get',
  path: '/accounts/{accountId}/keys',
  summary: "The account's keys, without secrets (platform key, or an admin key of the account)",
  request: { params: AccountParam },
  responses: { 200: json(KeyList), ...noAccount, ...errors },
});
const revokeKeyRoute = route({
  method: 'delete',
  path: '/accounts/{accountId}/keys/{keyId}',
  summary: 'Revoke a key: every API process refuses it within a second',
  request: { params: KeyParam },
  responses: { 204: { description: 'revoked' }, 404: err('no such key or account'), ...errors },
});

/** The account named, when the principal may reach it: the platform key, or a key of that account (an admin key for `admin`). */
export async function reachable(c: Context<AuthEnv>, deps: ApiDeps, accountId: string, admin = false) {
  const p = c.get('principal');
  const own = p.kind === 'key' && p.accountId === accountId;
  if (p.kind !== 'platform' && !own) throw new ApiError('not_found', `no account ${accountId}`);
  if (admin && p.kind === 'key' && p.role !== 'admin')
    throw new ApiError('forbidden', 'an admin key of the account manages its keys and credentials');
  const account = await selectAccount(deps.stores.pool, accountId);
  if (!account) throw new ApiError('not_found', `no account ${accountId}`);
  return account;
}

export function accountRoutes(deps: ApiDeps): OpenAPIHono<AuthEnv> {
  const { pool } = deps.stores;
  const found = <T>(accountId: string, value: T | null): T => {
    if (value === null) throw new ApiError('not_found', `no account ${accountId}`);
    return value;
  };
  return router<AuthEnv>()
    .openapi(createAccount, async (c) => {
      const input = c.req.valid('json');
      const accountId = input.accountId ?? `acc_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const account = await insertAccount(pool, { ...input, accountId });
      if (!account) throw new ApiError('invalid_state', `account ${accountId} exists`);
      return c.json(account, 201);
    })
    .openapi(listAccountsRoute, async (c) => c.json({ accounts: await listAccounts(pool) }, 200))
    .openapi(getAccount, async (c) => c.json(await reachable(c, deps, c.req.valid('param').accountId), 200))
    .openapi(patchAccountRoute, async (c) => {
      const { accountId } = c.req.valid('param');
      return c.json(found(accountId, await patchAccount(pool, accountId, c.req.valid('json'))), 200);
    })
    .openapi(suspendAccount, async (c) => {
      const { accountId } = c.req.valid('param');
      return c.json(found(accountId, await patchAccount(pool, accountId, { status: 'suspended' })), 200);
    })
    .openapi(createKey, async (c) => {
      const { accountId } = c.req.valid('param');
      await reachable(c, deps, accountId, true);
      return c.json(await insertKey(pool, accountId, c.req.valid('json')), 201);
    })
    .openapi(listKeysRoute, async (c) => {
      const { accountId } = c.req.valid('param');
      await reachable(c, deps, accountId, true);
      return c.json({ keys: await listKeys(pool, accountId) }, 200);
    })
    .openapi(revokeKeyRoute, async (c) => {
      const { accountId, keyId } = c.req.valid('param');
      await reachable(c, deps, accountId, true);
      if (!(await revokeKey(pool, accountId, keyId))) throw new ApiError('not_found', `no key ${keyId}`);
      return c.body(null, 204);
    });
}
