// Acting on a live Twilio call from the worker: start its recording (the Recordings API) and hand it to a
// person (the call update API with new TwiML). Failures throw; the activity's retry policy decides.
import { ApplicationFailure } from '@temporalio/activity';
import twilio from 'twilio';
import { PROVIDER_REFUSED } from '../../workflows/types.js';
import type { TwilioFor } from './twilio-account.js';
import { twilioApi, type TwilioCallSettings } from './twilio-calls.js';

/** Where Twilio's requests about a call come back: Callwright's public base URL. */
export function publicBase(settings: TwilioCallSettings): string {
  return (settings.publicBaseUrl ?? new URL(settings.statusCallbackUrl).origin).replace(/\/+$/, '');
}

/** The Dial action of a transfer: its outcome comes back to the call's hosted voice route, numbered as turn `turn`. */
export function dialActionUrl(base: string, q: { callId: string; leg: string; attempt: number; turn: number }): string {
  const url = new URL(`${base}/v1/voice/twilio/dial`);
  for (const [k, v] of Object.entries(q)) url.searchParams.set(k, String(v));
  return url.toString();
}

/** TwiML that says a line and dials a person, reporting the outcome to `action`. */
export function transferTwiml(say: string, to: string, action: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say(say);
  const dial = response.dial({ action, method: 'POST', timeout: 20 });
  if (to.startsWith('sip:')) dial.sip(to);
  else dial.number(to);
  return response.toString();
}

/** A transfer placed by redirecting the call; the Dial action names its attempt and the turn it answers. */
interface Redirect {
  callId: string;
  sid: string;
  to: string;
  attempt: number;
  turn: number;
  say: string;
}

export function twilioLive(twilioFor: TwilioFor) {
  const configured = async (callId: string): Promise<TwilioCallSettings> => {
    const settings = await twilioFor(callId);
    if (settings) return settings;
    throw ApplicationFailure.create({
      type: PROVIDER_REFUSED,
      message: 'Twilio is not configured on the worker (TWILIO_ACCOUNT_SID)',
      nonRetryable: true,
    });
  };

  return {
    /** Starts recording both sides of a call; Twilio posts the finished recording to Callwright. */
    async startRecording({ callId, sid }: { callId: string; sid: string }): Promise<{ recordingSid: string }> {
      const s = await configured(callId);
      const callback = new URL(`${publicBase(s)}/v1/voice/twilio/recording`);
      callback.searchParams.set('callId', callId);
      const form = new URLSearchParams({
        RecordingStatusCallback: callback.toString(),
        RecordingStatusCallbackMethod: 'POST',
        RecordingStatusCallbackEvent: 'completed',
        RecordingChannels: 'dual',
      });
      const body = await answered(await twilioApi(s, `Calls/${sid}/Recordings.json`, form), 'start the recording');
      if (typeof body.sid !== 'string') throw refused('Twilio answered no recording sid');
      return { recordingSid: body.sid };
    },

    /** Replaces what a live call is doing with a transfer: a line, then `<Dial action>` to the person. */
    async redirectCall({ callId, sid, to, attempt, turn, say }: Redirect) {
      const s = await configured(callId);
      const twiml = transferTwiml(say, to, dialActionUrl(publicBase(s), { callId, leg: sid, attempt, turn }));
      await answered(await twilioApi(s, `Calls/${sid}.json`, new URLSearchParams({ Twiml: twiml })), 'transfer the call');
    },
  };
}

/** Twilio's JSON answer; a refusal (4xx but 429) is final, the rest is retried. */
async function answered(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.ok) return (JSON.parse(text || '{}') as Record<string, unknown>) ?? {};
  const detail = `Twilio answered ${res.status} to ${what}: ${text.replaceAll('\u0000', '').slice(0, 300)}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 429) throw refused(detail);
  throw ApplicationFailure.retryable(detail, 'ProviderUnavailable');
}

const refused = (message: string) => ApplicationFailure.create({ type: PROVIDER_REFUSED, message, nonRetryable: true });
