// The phone's side of the wire: requests signed as Twilio signs them, over the URL Twilio would have called.
import { randomBytes } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import type { Method } from './twiml.js';

/** A failure the phone explains in one line, without a stack trace; it exits 1. */
export class PhoneError extends Error {}

export interface ClientSettings {
  /** Where requests go: the API the phone reaches. */
  base: string;
  /** What signatures cover: PUBLIC_BASE_URL when the API sits behind one, else `base`. */
  publicBase: string;
  token: string;
  /** Prints each request and the raw answer (--verbose). */
  trace?: (line: string) => void;
}

export const newSid = (prefix: 'CA' | 'AC') => prefix + randomBytes(16).toString('hex');

const HINTS: Record<number, string> = {
  401: 'The signature was refused: set TWILIO_AUTH_TOKEN (or --token), and PUBLIC_BASE_URL, to the API’s values.',
  404: 'Is --url a Callwright with hosted voice calls?',
};

const reason = (err: unknown) => {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
};

export class TwilioClient {
  readonly voiceUrl: string;
  readonly statusUrl: string;
  private reached = false;

  constructor(private readonly settings: ClientSettings) {
    this.voiceUrl = `${settings.publicBase}/v1/voice/twilio`;
    this.statusUrl = `${settings.publicBase}/v1/webhooks/twilio`;
  }

  /** Where a URL of the public side is actually sent: the same path and query on `base`. */
  private local(url: string): string {
    const { base, publicBase } = this.settings;
    return url === publicBase || url.startsWith(`${publicBase}/`) || url.startsWith(`${publicBase}?`)
      ? base + url.slice(publicBase.length)
      : url;
  }

  /** Requests `url` as Twilio would (params in the form for POST, in the query for GET) and answers the body. */
  async request(url: string, method: Method, params: Record<string, string>): Promise<string> {
    let signed = url;
    let body: string | undefined;
    if (method === 'GET') {
      const withQuery = new URL(url);
      for (const [name, value] of Object.entries(params)) withQuery.searchParams.append(name, value);
      signed = withQuery.toString();
    } else body = new URLSearchParams(params).toString();
    const signature = getExpectedTwilioSignature(this.settings.token, signed, method === 'GET' ? {} : params);
    const target = this.local(signed);
    this.settings.trace?.(`→ ${method} ${target} ${body ?? ''}`.trimEnd());
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
        // Twilio gives a webhook 15 seconds before it gives up on it.
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const why = reason(err);
      if (why === 'TimeoutError' || (err as Error).name === 'TimeoutError') {
        throw new PhoneError(`${method} ${target} did not answer within 15 s (Twilio would have hung up)`);
      }
      throw new PhoneError(
        this.reached
          ? `lost Callwright at ${this.settings.base} (${why})`
          : `no Callwright at ${this.settings.base}: run npm start (${why})`,
      );
    }
    this.reached = true;
    const text = await res.text();
    this.settings.trace?.(`← ${res.status} ${res.headers.get('content-type') ?? ''}\n${text}`);
    if (!res.ok) {
      const hint = HINTS[res.status] ? `\n${HINTS[res.status]}` : '';
      throw new PhoneError(`${method} ${new URL(target).pathname} answered ${res.status}: ${text.slice(0, 300) || '(empty body)'}${hint}`);
    }
    return text;
  }
}
