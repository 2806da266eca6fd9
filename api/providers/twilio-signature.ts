// X-Twilio-Signature: HMAC-SHA1 (auth token) over the URL Twilio called and its sorted form parameters.
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';

/** The URL Twilio signed: the public base URL behind a proxy, else the URL as received, with its raw path and query. */
export function signedUrl(requestUrl: string, publicBaseUrl?: string): string {
  if (!publicBaseUrl) return requestUrl;
  const pathAndQuery = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(requestUrl)?.[1] || '/';
  return publicBaseUrl.replace(/\/+$/, '') + pathAndQuery;
}

/** Form parameters as Twilio signs them: a repeated name keeps all its values. */
export function formParams(body: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = params[name];
    params[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return params;
}

export function isValidTwilioSignature(
  authToken: string,
  signature: string | undefined,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  if (!authToken || !signature) return false;
  try {
    return validateRequest(authToken, signature, url, params);
  } catch {
    return false; // an unparsable URL cannot have been signed
  }
}
