// Whose rows a store function may touch. Every function over an account's tables takes one, so a
// route cannot forget the account: only the platform key reads across accounts.

/** One account's rows, or (the platform key) every account's. */
export type Scope = { readonly accountId: string } | typeof EVERY_ACCOUNT;

export const EVERY_ACCOUNT = Object.freeze({ accountId: null });

export { DEFAULT_ACCOUNT } from '../workflows/types.js';
import { DEFAULT_ACCOUNT } from '../workflows/types.js';

export const accountScope = (accountId: string): Scope => ({ accountId });

/** The scope as one SQL parameter: `($n::text IS NULL OR account_id = $n)` reads it. */
export const scopeParam = (scope: Scope): string | null => scope.accountId;

/** The clause that keeps a query inside the scope given as parameter `p` (`$3`), on `column`. */
export const inScope = (p: string, column = 'account_id'): string => `(${p}::text IS NULL OR ${column} = ${p})`;

/** Whether a row (or a cached view) of `accountId` is inside the scope. */
export const reaches = (scope: Scope, accountId: string | undefined): boolean =>
  scope.accountId === null || scope.accountId === (accountId ?? DEFAULT_ACCOUNT);
