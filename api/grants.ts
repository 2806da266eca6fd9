// What presented keys and accounts grant, read from PostgreSQL and kept for half a second: a busy key
// costs one query per process per half second, and a revocation or a suspension is refused by every API
// process within a second without any message between them.
import type pg from 'pg';
import { accountStatus, hashKey, keyGrant, touchKey, type AccountStatus, type KeyGrant } from '../store/accounts.js';
import { TtlCache } from './ttl-cache.js';

export const GRANT_TTL_MS = 500;
/** lastUsedAt is written at most this often per key and process. */
const TOUCH_EVERY_MS = 60_000;

export interface Grants {
  key(key: string): Promise<KeyGrant | null>;
  accountStatus(accountId: string): Promise<AccountStatus | null>;
}

export function createGrants(pool: pg.Pool, ttlMs = GRANT_TTL_MS): Grants {
  const keys = new TtlCache<KeyGrant | null>(ttlMs);
  const accounts = new TtlCache<AccountStatus | null>(ttlMs);
  const touched = new Map<string, number>();
  return {
    async key(key) {
      const grant = await keys.get(hashKey(key), () => keyGrant(pool, key));
      const now = Date.now();
      if (grant && !grant.revoked && (touched.get(grant.keyId) ?? 0) + TOUCH_EVERY_MS <= now) {
        touched.set(grant.keyId, now);
        // Never in the request's way: a lost write only leaves lastUsedAt a minute older.
        touchKey(pool, grant.keyId).catch(() => touched.delete(grant.keyId));
      }
      return grant;
    },
    accountStatus: (accountId) => accounts.get(accountId, () => accountStatus(pool, accountId)),
  };
}
