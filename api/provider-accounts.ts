// Whose credentials verify a provider's webhook: the account a request names (by its Twilio AccountSid,
// its Vonage API key, or the number called), read from PostgreSQL and kept per process for half a second,
// as api/grants.ts keeps keys. A busy account's webhooks cost no query on the hot path, a provider no
// account brought costs none at all, and a replaced secret is used by every API process within a second.
import type pg from 'pg';
import { numberOwner } from '../store/agents.js';
import {
  accountByLookup,
  credentialsFor,
  providersInUse,
  type CredentialCipher,
  type CredentialsOf,
  type Provider,
} from '../store/credentials.js';
import { DEFAULT_ACCOUNT } from '../store/scope.js';
import { TtlCache } from './ttl-cache.js';

export const CREDENTIALS_TTL_MS = 500;

type Own<P extends Provider> = { accountId: string; credentials: CredentialsOf[P] } | null;
export interface ProviderAccounts {
  /** The account that registered this Twilio AccountSid or Vonage API key, with its credentials; null when none did. */
  byLookup<P extends 'twilio' | 'vonage'>(provider: P, lookup: string): Promise<Own<P>>;
  /** The account a call routed by this number belongs to, with its credentials; null when it brought none. */
  forNumber<P extends Provider>(provider: P, number: string): Promise<Own<P>>;
  /** The account a call routed by this number belongs to: the number's owner, else `default`. */
  ofNumber(number: string): Promise<string>;
  /** Drops everything kept, after this process changed credentials: it sees its own change at once. */
  forget(): void;
}

export function createProviderAccounts(pool: pg.Pool, cipher: CredentialCipher, ttlMs = CREDENTIALS_TTL_MS): ProviderAccounts {
  const entries = new TtlCache<unknown>(ttlMs);
  const kept = <V>(id: string, load: () => Promise<V>): Promise<V> => entries.get(id, load);
  const inUse = async (provider: Provider) => (await kept('in-use', () => providersInUse(pool))).includes(provider);
  const credentials = <P extends Provider>(accountId: string, provider: P) =>
    kept(`credentials:${provider}:${accountId}`, () => credentialsFor(pool, cipher, accountId, provider));
  const ofNumber = (number: string) => kept(`number:${number}`, async () => (await numberOwner(pool, number)) ?? DEFAULT_ACCOUNT);
  return {
    ofNumber,
    async byLookup(provider, lookup) {
      if (!(await inUse(provider))) return null;
      const accountId = await kept(`lookup:${provider}:${lookup}`, () => accountByLookup(pool, provider, lookup));
      const found = accountId === null ? null : await credentials(accountId, provider);
      // Kept apart, the two may disagree for half a second after a change: then nobody claims the id.
      const claims = found && ('accountSid' in found ? found.accountSid : found.apiKey) === lookup;
      return claims ? { accountId: accountId!, credentials: found } : null;
    },
    async forNumber(provider, number) {
      if (!(await inUse(provider))) return null;
      const accountId = await ofNumber(number);
      const found = await credentials(accountId, provider);
      return found ? { accountId, credentials: found } : null;
    },
    forget: () => entries.clear(),
  };
}
