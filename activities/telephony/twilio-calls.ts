// Places outbound calls through Twilio's REST API (the Calls resource). Failures throw: the activity's
// retry policy retries what may pass (network errors, timeouts, 429, 5xx) and never a refusal.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { PROVIDER_REFUSED, type ProviderError } from '../../workflows/types.js';
import { keys, LEG_TTL_SECONDS } from '../../store/call-cache.js';
import { callIdOf } from '../../workflows/messages.js';
import type { TwilioFor } from './twilio-account.js';

export interface TwilioCallSettings {
  /** https://api.twilio.com, or a stand-in. */
  apiUrl: string;
  accountSid: string;
  authToken: string;
  /** Where Twilio fetches the TwiML of an answered call. */
  voiceUrl: string;
  /** Where Twilio posts the call's status callbacks: this API's Twilio webhook. */
  statusCallbackUrl: string;
  /** PUBLIC_BASE_URL: where recordings and transfers report back (default: the status callback's origin). */
  publicBaseUrl?: string;
  /** Per attempt; a request that takes longer is abandoned and retried. */
  timeoutMs?: number;
}

interface PlaceCall {
  callId: string;
  from: string;
  to: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Twilio takes a list parameter as the same name repeated (its own helper libraries send them so).
const CALLBACK_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];
const SID = /^[A-Za-z0-9]{2,64}$/;

/** The callback URL names the call, so a callback that beats the leg's mapping still finds its call. */
function statusCallbackFor(twilio: TwilioCallSettings, callId: string): string {
  return withCallId(twilio.statusCallbackUrl, callId);
}

/** The voice URL names the call too: the answered callee converses in the call that dialed them. */
function withCallId(target: string, callId: string): string {
  const url = new URL(target);
  url.searchParams.set('callId', callId);
  return url.toString();
}

export function twilioCalls({ pool, redis, twilioFor }: { pool: pg.Pool; redis: Redis; twilioFor: TwilioFor }) {
  /**
   * Names the leg's call for its status callbacks, which may arrive before the workflow records the leg.
   * Best effort: the workflow's own record follows, and failing here would send the request again (a second call).
   */
  async function rememberLeg(callId: string, sid: string): Promise<void> {
    const writes = await Promise.allSettled([
      redis.set(keys.leg(sid), callId, 'EX', LEG_TTL_SECONDS),
      pool.query('UPDATE calls SET legs = array_append(legs, $2) WHERE call_id = $1 AND NOT legs @> ARRAY[$2]::text[]', [callId, sid]),
    ]);
    for (const w of writes)
      if (w.status === 'rejected')
        Context.current().log.warn('leg not stored before the workflow records it', { callId, sid, err: String(w.reason) });
  }

  return {
    /** Asks Twilio to dial `to` from `from`; answers the new call's CallSid. */
    async placeCall({ callId, from, to }: PlaceCall): Promise<{ sid: string }> {
      const twilio = await twilioFor(callId);
      if (!twilio) throw refusal('outbound calling is not configured on the worker (TWILIO_ACCOUNT_SID)');
      const form = new URLSearchParams({
        To: to,
        From: from,
        Url: withCallId(twilio.voiceUrl, callId),
        StatusCallback: statusCallbackFor(twilio, callId),
        StatusCallbackMethod: 'POST',
      });
      for (const event of CALLBACK_EVENTS) form.append('StatusCallbackEvent', event);
      const res = await twilioApi(twilio, 'Calls.json', form);
      const text = await res.text();
      if (res.status >= 400 && res.status < 500 && res.status !== 429) throw refusalOf(res.status, text);
      if (!res.ok) throw ApplicationFailure.retryable(`Twilio answered ${res.status}: ${text.slice(0, 200)}`, 'ProviderUnavailable');
      const sid = parse(text)?.sid;
      // Twilio accepted something: a retry could place a second call, so this is final too.
      if (typeof sid !== 'string' || !SID.test(sid))
        throw refusal('Twilio accepted the call but answered no CallSid', { status: res.status });
      await rememberLeg(callId, sid);
      return { sid };
    },

    /**
     * Ends a placed call at Twilio when Callwright ended it first (an operator, a timeout): canceled while
     * it rings, completed once answered. Twilio refusing (the call is already over) is an answer, not a failure.
     */
    async hangUpCall({ sid, status }: { sid: string; status: 'canceled' | 'completed' }): Promise<{ status: number }> {
      const twilio = await twilioFor(callIdOf(Context.current().info.workflowExecution?.workflowId ?? ''));
      if (!twilio) return { status: 0 };
      const res = await twilioApi(twilio, `Calls/${sid}.json`, new URLSearchParams({ Status: status }));
      const text = await res.text();
      if (res.status === 429 || res.status >= 500)
        throw ApplicationFailure.retryable(`Twilio answered ${res.status}: ${text.slice(0, 200)}`, 'ProviderUnavailable');
      return { status: res.status };
    },
  };
}

/** A POST to the account's resources (Calls, a call's Recordings), with its credentials and a timeout. */
export function twilioApi(twilio: TwilioCallSettings, path: string, form: URLSearchParams): Promise<Response> {
  return fetch(`${twilio.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${twilio.accountSid}/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: form,
    signal: AbortSignal.timeout(twilio.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  });
}

function refusal(message: string, error?: ProviderError): ApplicationFailure {
  return ApplicationFailure.create({ type: PROVIDER_REFUSED, message, details: error ? [error] : [], nonRetryable: true });
}

/** Twilio's error body is `{code, message, more_info, status}`; anything else still names the status. */
function refusalOf(status: number, text: string): ApplicationFailure {
  const body = parse(text);
  const message = typeof body?.message === 'string' && body.message ? body.message : `Twilio refused the call (HTTP ${status})`;
  const error: ProviderError = {
    status,
    ...(typeof body?.code === 'number' ? { code: body.code } : {}),
    ...(typeof body?.more_info === 'string' ? { moreInfo: body.more_info } : {}),
  };
  // The reason is stored in PostgreSQL, which refuses NUL; keep it readable.
  return refusal(message.replaceAll('\u0000', '').slice(0, 500), error);
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
