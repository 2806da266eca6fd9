// Plays Twilio's side of a hosted voice call against the app: signed voice requests, Gather and Dial
// actions, status callbacks, and the TwiML read back as Twilio reads it.
import { randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './harness.js';

export const newCallSid = () => `CA${randomUUID().replace(/-/g, '')}`;
const ACCOUNT = `AC${'0'.repeat(32)}`;

/** What a TwiML document tells Twilio, in order of what matters to a test. */
export interface Twiml {
  xml: string;
  says: string[];
  gather?: { action: string; input: string; language?: string; numDigits?: string };
  redirect?: string;
  dial?: { action: string; to: string; timeout?: string };
  connect?: { action: string; url: string; welcomeGreeting: string };
  hangup: boolean;
}

const attrs = (tag: string) =>
  Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, unescape(v!)])) as Record<string, string>;
const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

export function readTwiml(xml: string): Twiml {
  const gatherTag = /<Gather\b[^>]*>/.exec(xml)?.[0];
  const dial = /<Dial\b([^>]*)>(?:<Number>|<Sip>)?([^<]*)/.exec(xml);
  const connect = /<Connect\b([^>]*)><ConversationRelay\b([^>]*)\/>/.exec(xml);
  return {
    xml,
    says: [...xml.matchAll(/<Say\b[^>]*>([^<]*)<\/Say>/g)].map((m) => unescape(m[1]!)),
    ...(gatherTag ? { gather: attrs(gatherTag) as unknown as Twiml['gather'] } : {}),
    ...(/<Redirect\b[^>]*>([^<]*)</.test(xml) ? { redirect: unescape(/<Redirect\b[^>]*>([^<]*)</.exec(xml)![1]!) } : {}),
    ...(dial ? { dial: { ...(attrs(dial[1]!) as { action: string; timeout?: string }), to: dial[2]! } } : {}),
    ...(connect
      ? { connect: { action: attrs(connect[1]!).action!, ...(attrs(connect[2]!) as { url: string; welcomeGreeting: string }) } }
      : {}),
    hangup: /<Hangup\/>/.test(xml),
  };
}

/** Signs `params` for `url` exactly as Twilio does (the twilio package's own helper). */
export function signTwilio(url: string, params: Record<string, string>, token = TWILIO_TOKEN): string {
  return getExpectedTwilioSignature(token, url, params);
}

/** POSTs a form to an absolute public URL (or a path under it), signed unless `signature` says otherwise. */
export async function postTwilio(h: Harness, url: string, params: Record<string, string>, signature?: string | null) {
  const absolute = url.startsWith('http') ? url : PUBLIC_BASE_URL + url;
  const sig = signature === undefined ? signTwilio(absolute, params) : signature;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (sig !== null) headers['x-twilio-signature'] = sig;
  const path = absolute.slice(PUBLIC_BASE_URL.length);
  const started = Date.now();
  const res = await h.app.request(path, { method: 'POST', body: new URLSearchParams(params).toString(), headers });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, twiml: readTwiml(text), ms: Date.now() - started };
}

/** One phone call as Twilio makes it: a CallSid, the caller, and the TwiML it was last told. */
export class TwilioCall {
  readonly sid: string;
  last!: Twiml;
  private sequence = 0;
  private readonly direction: string;

  constructor(
    private readonly h: Harness,
    readonly from: string,
    readonly to = '+15559990000',
    private readonly query = '',
    /** A call Callwright placed: Twilio's CallSid for it, and `outbound-api`. */
    placed?: { sid: string },
  ) {
    this.sid = placed?.sid ?? newCallSid();
    this.direction = placed ? 'outbound-api' : 'inbound';
  }

  params(extra: Record<string, string> = {}): Record<string, string> {
    return {
      AccountSid: ACCOUNT,
      ApiVersion: '2010-04-01',
      CallSid: this.sid,
      From: this.from,
      To: this.to,
      Direction: this.direction,
      CallStatus: 'in-progress',
      ...extra,
    };
  }

  /** The voice URL request of the call's answer. */
  async dial(): Promise<Twiml> {
    const res = await postTwilio(this.h, `/v1/voice/twilio${this.query}`, this.params({ CallStatus: 'ringing' }));
    if (res.status !== 200) throw new Error(`voice URL answered ${res.status}: ${res.text}`);
    return (this.last = res.twiml);
  }

  /** Says `text` to the current Gather (or presses `digits`). */
  async say(text: string, extra: Record<string, string> = {}): Promise<Twiml> {
    return this.post(this.last.gather!.action, { SpeechResult: text, Confidence: '0.92', ...extra });
  }

  /** Stays silent: Twilio follows the Redirect after the Gather. */
  silence(): Promise<Twiml> {
    return this.post(this.last.redirect!, {});
  }

  async post(url: string, extra: Record<string, string>): Promise<Twiml> {
    const res = await postTwilio(this.h, url, this.params(extra));
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${res.text}`);
    return (this.last = res.twiml);
  }

  /** The caller hangs up: Twilio's `completed` status callback. */
  async hangUp(): Promise<void> {
    const res = await postTwilio(this.h, '/v1/webhooks/twilio', {
      ...this.params({ CallStatus: 'completed', CallDuration: '12' }),
      SequenceNumber: String(++this.sequence),
      Timestamp: new Date().toUTCString(),
    });
    if (res.status !== 200) throw new Error(`status callback answered ${res.status}: ${res.text}`);
  }
}
