// Whose Twilio account acts on a call: the call's account's own (its provider credentials), else the
// platform's (TWILIO_ACCOUNT_SID, the default account's). The URLs Twilio reports back to stay Callwright's.
import type pg from 'pg';
import { credentialsFor, type CredentialCipher } from '../../store/credentials.js';
import { DEFAULT_ACCOUNT } from '../../store/scope.js';
import type { TwilioCallSettings } from './twilio-calls.js';

export type TwilioFor = (callId: string) => Promise<TwilioCallSettings | undefined>;

/** Undefined when the worker has no Twilio settings at all (outbound calling is off). */
export function twilioForCall(pool: pg.Pool, cipher: CredentialCipher | undefined, platform: TwilioCallSettings | undefined): TwilioFor {
  return async (callId) => {
    if (!platform || !cipher) return platform;
    // The call's first batch is written before any of its activities is scheduled: the row is there.
    const { rows } = await pool.query<{ account_id: string }>('SELECT account_id FROM calls WHERE call_id = $1', [callId]);
    const accountId = rows[0]?.account_id ?? DEFAULT_ACCOUNT;
    if (accountId === DEFAULT_ACCOUNT) return platform;
    const own = await credentialsFor(pool, cipher, accountId, 'twilio');
    return own ? { ...platform, accountSid: own.accountSid, authToken: own.authToken } : platform;
  };
}
