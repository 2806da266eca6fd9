// The account a request acts in, and whose rows it reads: the one place routes learn them from the principal.
import type { Context } from 'hono';
import type pg from 'pg';
import { accountStatus } from '../store/accounts.js';
import { DEFAULT_ACCOUNT, type Scope } from '../store/scope.js';
import { actingAccount, scopeOf, type AuthEnv } from './auth.js';
import { ApiError } from './errors.js';

/**
 * The account a create or a per-account read acts in: the principal's own, or for the platform key the
 * one it names (`named`, else `?accountId=`), else `default`. An account that does not exist is a 404.
 */
export async function actingIn(c: Context<AuthEnv>, pool: pg.Pool, named?: string): Promise<string> {
  const p = c.get('principal');
  const accountId = actingAccount(p, named ?? c.req.query('accountId'));
  if (p.kind === 'platform' && accountId !== DEFAULT_ACCOUNT && (await accountStatus(pool, accountId)) === null) {
    throw new ApiError('not_found', `no account ${accountId}`);
  }
  return accountId;
}

/** Whose rows a read reaches: the principal's account, or for the platform key every account unless `?accountId=` names one. */
export function readScope(c: Context<AuthEnv>): Scope {
  const p = c.get('principal');
  const named = c.req.query('accountId');
  if (named === undefined) return scopeOf(p);
  return { accountId: actingAccount(p, named) };
}
