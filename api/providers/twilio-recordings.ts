// Erasing a caller's recordings where they live: at Twilio (DELETE on the Recordings resource). A call's
// view forgets its recording only once Twilio no longer has it, so a failed erasure can simply be repeated.
import type { Stores } from '../../store/call-reader.js';
import { forgetRecording, recordedCalls } from '../../store/callers.js';
import { credentialsFor, type CredentialCipher } from '../../store/credentials.js';
import { DEFAULT_ACCOUNT } from '../../store/scope.js';
import type { TwilioRestSettings } from '../deps.js';
import { ApiError } from '../errors.js';

const DEFAULT_TIMEOUT_MS = 10_000;

/** The Twilio account an account's recordings live in: its own, when it brought one, else the platform's. */
export async function accountTwilio(
  pool: Stores['pool'],
  cipher: CredentialCipher | undefined,
  platform: TwilioRestSettings | undefined,
  accountId: string,
): Promise<TwilioRestSettings | undefined> {
  if (!cipher || accountId === DEFAULT_ACCOUNT) return platform;
  const own = await credentialsFor(pool, cipher, accountId, 'twilio');
  if (!own) return platform;
  return { apiUrl: platform?.apiUrl ?? 'https://api.twilio.com', timeoutMs: platform?.timeoutMs, ...own };
}

/** Deletes one recording; Twilio answering 404 means it is already gone, which is as good. */
export async function deleteTwilioRecording(twilio: TwilioRestSettings, sid: string): Promise<void> {
  const url = `${twilio.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${twilio.accountSid}/Recordings/${encodeURIComponent(sid)}.json`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'DELETE',
      headers: { authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}` },
      signal: AbortSignal.timeout(twilio.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ApiError('unavailable', 'Twilio could not be reached to delete a recording; retry the erasure', undefined, undefined, err);
  }
  await res.body?.cancel();
  if (res.ok || res.status === 404) return;
  // Anything else (credentials refused, Twilio down) leaves the recording there: the erasure must be retried.
  throw new ApiError('unavailable', `Twilio answered ${res.status} to deleting recording ${sid}; retry the erasure`);
}

/**
 * Deletes every recording of the caller's ended calls at Twilio, call by call; answers how many. A call whose
 * recordings could not all be deleted keeps its view unchanged, and the error says to retry.
 */
export async function eraseRecordings(
  stores: Stores,
  twilio: TwilioRestSettings | undefined,
  accountId: string,
  number: string,
): Promise<number> {
  const calls = await recordedCalls(stores.pool, accountId, number);
  if (calls.length && !twilio)
    throw new ApiError('unavailable', "deleting the caller's recordings at Twilio needs TWILIO_ACCOUNT_SID; retry once it is set");
  let deleted = 0;
  for (const { callId, sids } of calls) {
    for (const sid of sids) await deleteTwilioRecording(twilio!, sid);
    await forgetRecording(stores.pool, stores.redis, callId);
    deleted += sids.length;
  }
  return deleted;
}
