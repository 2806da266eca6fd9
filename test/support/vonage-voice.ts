// Plays Vonage's side of a hosted voice call against the app: signed answer_url requests, input, connect and
// notify events, status events, and the NCCO read back action by action as Vonage runs it.
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ConnectAction, InputAction, Ncco, NotifyAction, RecordAction } from '../../api/voice/vonage-ncco.js';
import { PUBLIC_BASE_URL, VONAGE_SECRET, type Harness } from './harness.js';

/** What an NCCO tells Vonage, in order of what matters to a test. */
export interface ReadNcco {
  ncco: Ncco;
  talks: string[];
  input?: InputAction;
  connect?: ConnectAction;
  record?: RecordAction;
  notify?: NotifyAction;
}

export function readNcco(ncco: Ncco): ReadNcco {
  const of = <A extends Ncco[number]['action']>(action: A) => ncco.find((a) => a.action === action) as Extract<Ncco[number], { action: A }>;
  return {
    ncco,
    talks: ncco.flatMap((a) => (a.action === 'talk' ? [a.text] : [])),
    ...(of('input') ? { input: of('input') } : {}),
    ...(of('connect') ? { connect: of('connect') } : {}),
    ...(of('record') ? { record: of('record') } : {}),
    ...(of('notify') ? { notify: of('notify') } : {}),
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The JWT Vonage puts in Authorization: HS256 with the signature secret, `payload_hash` over what it signs. */
export function vonageJwt(payload: string | null, secret = VONAGE_SECRET): Promise<string> {
  return new SignJWT({ ...(payload !== null ? { payload_hash: sha256(payload) } : {}), api_key: 'aaaa1111', application_id: randomUUID() })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setJti(randomUUID())
    .setIssuer('Vonage')
    .sign(new TextEncoder().encode(secret));
}

export interface Sent {
  status: number;
  text: string;
  /** The NCCO answered, or null for an empty body. */
  ncco: ReadNcco | null;
}

/** Sends a request to an absolute public URL (or a path under it), signed unless `authorization` says otherwise (null: none). */
export async function sendVonage(h: Harness, method: 'GET' | 'POST', url: string, body?: object | string, authorization?: string | null) {
  const absolute = url.startsWith('http') ? url : PUBLIC_BASE_URL + url;
  const raw = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  // A GET's payload_hash covers its query as a JSON object, in order (Vonage's support documentation).
  const signedPart = method === 'GET' ? JSON.stringify(Object.fromEntries(new URL(absolute).searchParams)) : (raw ?? '');
  const headers: Record<string, string> = raw === undefined ? {} : { 'content-type': 'application/json' };
  const auth = authorization === undefined ? `Bearer ${await vonageJwt(signedPart)}` : authorization;
  if (auth !== null) headers.authorization = auth;
  const res = await h.app.request(absolute.slice(PUBLIC_BASE_URL.length), { method, headers, ...(raw !== undefined ? { body: raw } : {}) });
  const text = await res.text();
  const ncco = res.status === 200 && text ? readNcco(JSON.parse(text) as Ncco) : null;
  return { status: res.status, text, ncco } satisfies Sent;
}

/** One phone call as Vonage makes it: a leg uuid, the caller (E.164 without +), and the NCCO it last ran. */
export class VonageCall {
  readonly uuid = randomUUID();
  readonly conversation = `CON-${randomUUID()}`;
  last!: ReadNcco;

  constructor(
    private readonly h: Harness,
    readonly from: string,
    readonly to = '15559990000',
  ) {}

  private fields() {
    return { from: this.from, to: this.to, uuid: this.uuid, conversation_uuid: this.conversation };
  }

  /** The answer_url request: GET with the fields in the query (Vonage's default), or POST with them as JSON. */
  async answer(method: 'GET' | 'POST' = 'GET'): Promise<ReadNcco> {
    const res =
      method === 'GET'
        ? await sendVonage(this.h, 'GET', `/v1/voice/vonage/answer?${new URLSearchParams(this.fields())}`)
        : await sendVonage(this.h, 'POST', '/v1/voice/vonage/answer', this.fields());
    return this.ran(res, 'answer_url');
  }

  /** The input event of the current NCCO's input action: `text` heard (or `digits` pressed). */
  say(text: string, digits?: string): Promise<ReadNcco> {
    return this.input(this.inputEvent(text, digits));
  }

  /** The caller says nothing: the input ends on its start timeout. */
  silence(): Promise<ReadNcco> {
    return this.input(this.inputEvent(null));
  }

  inputEvent(text: string | null, digits?: string) {
    const speech =
      text === null
        ? { timeout_reason: 'start_timeout', results: [] }
        : { timeout_reason: 'end_on_silence_timeout', results: [] as object[] };
    if (text) speech.results.push({ text, confidence: '0.92' });
    return {
      ...this.fields(),
      speech: digits && !text ? { results: [], error: 'Speech overridden by DTMF' } : speech,
      dtmf: { digits: digits ?? null, timed_out: !digits },
      timestamp: new Date().toISOString(),
    };
  }

  async input(event: object): Promise<ReadNcco> {
    return this.ran(await sendVonage(this.h, 'POST', this.last.input!.eventUrl[0], event), 'input eventUrl');
  }

  /** The transfer leg's event `status` at the current connect action's eventUrl; null when the answer is empty. */
  async connectEvent(status: string): Promise<ReadNcco | null> {
    const event = {
      uuid: randomUUID(),
      conversation_uuid: this.conversation,
      status,
      direction: 'outbound',
      timestamp: new Date().toISOString(),
    };
    const res = await sendVonage(this.h, 'POST', this.last.connect!.eventUrl[0], event);
    if (res.status !== 200) throw new Error(`connect eventUrl answered ${res.status}: ${res.text}`);
    if (res.ncco) this.last = res.ncco;
    return res.ncco;
  }

  /** Vonage runs the current NCCO's notify: it posts the payload, and the answer replaces the NCCO. */
  async notify(): Promise<ReadNcco> {
    const { eventUrl, payload } = this.last.notify!;
    return this.ran(await sendVonage(this.h, 'POST', eventUrl[0], payload), 'notify eventUrl');
  }

  /** A status event of this leg at the application's event_url (`completed` is the caller hanging up). */
  async status(status: string): Promise<void> {
    const event = { ...this.fields(), status, direction: 'inbound', timestamp: new Date().toISOString() };
    const res = await sendVonage(this.h, 'POST', '/v1/webhooks/vonage', event);
    if (res.status !== 200) throw new Error(`event_url answered ${res.status}: ${res.text}`);
  }

  private ran(res: Sent, what: string): ReadNcco {
    if (res.status !== 200 || !res.ncco) throw new Error(`${what} answered ${res.status}: ${res.text}`);
    return (this.last = res.ncco);
  }
}
