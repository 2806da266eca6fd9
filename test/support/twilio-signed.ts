// A form request as Twilio sends it to Callwright: signed with X-Twilio-Signature over the public URL.
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './harness.js';

export function postTwilio(h: Harness, path: string, params: Record<string, string>, token = TWILIO_TOKEN): Promise<Response> {
  return Promise.resolve(
    h.app.request(path, {
      method: 'POST',
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': getExpectedTwilioSignature(token, PUBLIC_BASE_URL + path, params),
      },
    }),
  );
}
