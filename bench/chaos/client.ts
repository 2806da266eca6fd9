// The clients of a chaos run: a chat app and a voice pipeline that retry with the same message or event id
// until the API accepts, the way a well-behaved client rides out an outage. Every failed attempt is tallied.
import { signFeedBody } from '../../common/feed-signature.js';
import { secrets } from '../stack.js';

export interface Message {
  /** The messageId (chat) or eventId (voice turn): the idempotency key. */
  key: string;
  text: string;
  /** 1-based position in its conversation. */
  index: number;
  sentAt: number;
  acceptedAt?: number;
  /** Why the API refused it for good (a 409/410, or a 4xx that is a client bug), or why the client gave up. */
  refused?: string;
  /** The reply the chat client got back. */
  reply?: { seq: number; text: string };
}

export interface Conversation {
  callId: string;
  channel: 'chat' | 'voice';
  /** Why the call could not be started, if it could not. */
  setupFailed?: string;
  messages: Message[];
}

/** Failed attempts by client and kind (`chat conn ECONNREFUSED`, `feed 503 unavailable`, ...), and the bodies of client bugs. */
export class Tally {
  readonly kinds = new Map<string, number>();
  readonly bugs: string[] = [];
  add(kind: string): void {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
  }
}

export interface ClientSettings {
  apiUrl: string;
  tally: Tally;
  /** The client stops retrying after this moment (epoch ms). */
  giveUpAt: number;
  /** A request that has not answered by then is abandoned and retried (longer than the API's UPDATE_TIMEOUT). */
  requestTimeoutMs: number;
}

type Outcome = { ok: true; status: number; body: any } | { ok: false; reason: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** POSTs until a 2xx; retries connection errors, timeouts, 429 and 5xx with backoff; 409/410 and other 4xx are final. */
export async function deliver(settings: ClientSettings, path: string, payload: object, auth: 'admin' | 'feed'): Promise<Outcome> {
  const body = JSON.stringify(payload);
  const who = auth === 'feed' ? 'feed' : 'chat';
  const tally = (kind: string) => settings.tally.add(`${who} ${kind}`);
  for (let attempt = 1; ; attempt++) {
    let wait = Math.min(2_000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    let kind: string;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      // The feed's signature carries a timestamp: a retry signs again, as a sender does.
      if (auth === 'feed') headers['x-signature'] = signFeedBody(secrets.WEBHOOK_SECRET, body);
      else headers.authorization = `Bearer ${secrets.ADMIN_API_KEY}`;
      const res = await fetch(`${settings.apiUrl}${path}`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(settings.requestTimeoutMs),
      });
      const text = await res.text();
      const json = parse(text);
      if (res.ok) return { ok: true, status: res.status, body: json };
      const code = json?.error?.code ?? 'no code';
      kind = `${res.status} ${code}`;
      if (res.status === 409 || res.status === 410) {
        tally(kind);
        return { ok: false, reason: kind };
      }
      if (res.status < 500 && res.status !== 429) {
        tally(`${kind} (client bug)`);
        settings.tally.bugs.push(`POST ${path} ${body.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`);
        return { ok: false, reason: `${kind} (client bug)` };
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      if (res.status === 429 && retryAfter > 0) wait = retryAfter * 1000;
    } catch (err) {
      kind = networkKind(err);
    }
    tally(kind);
    if (Date.now() + wait > settings.giveUpAt) return { ok: false, reason: `gave up after ${attempt} attempts (last: ${kind})` };
    await sleep(wait);
  }
}

function parse(text: string): any {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** `conn ECONNREFUSED`, `conn UND_ERR_SOCKET` (the server went away mid-request), `client timeout`. */
function networkKind(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'client timeout';
  return `conn ${e?.cause?.code ?? e?.cause?.name ?? e?.message ?? 'error'}`;
}

export interface LoadSettings extends ClientSettings {
  /** No new message starts after this moment (epoch ms); the one in flight is still retried until accepted. */
  loadEndsAt: number;
  /** Pause between a message's acceptance and the next one, on average. */
  thinkMs: number;
}

const think = (ms: number) => sleep(ms * (0.5 + Math.random()));

/** One chat: start it, then messages one after another, each waiting for its reply. */
export async function runChat(s: LoadSettings, conv: Conversation, from: string): Promise<void> {
  const started = await deliver(s, '/v1/calls', { callId: conv.callId, channel: 'chat', from }, 'admin');
  if (!started.ok) {
    conv.setupFailed = started.reason;
    return;
  }
  for (let i = 1; Date.now() < s.loadEndsAt; i++) {
    const m: Message = { key: `${conv.callId}-m${i}`, text: `message ${i}`, index: i, sentAt: Date.now() };
    conv.messages.push(m);
    const out = await deliver(s, `/v1/calls/${conv.callId}/messages`, { text: m.text, messageId: m.key }, 'admin');
    if (!out.ok) {
      m.refused = out.reason;
      return;
    }
    m.acceptedAt = Date.now();
    m.reply = { seq: out.body.reply.seq, text: out.body.reply.text };
    await think(s.thinkMs);
  }
}

/** One voice call through the signed feed: started, answered, then transcribed turns in order, each acknowledged first. */
export async function runVoice(s: LoadSettings, conv: Conversation, from: string): Promise<void> {
  const { callId } = conv;
  const setup = [
    { eventId: `${callId}-start`, type: 'call.started', callId, data: { channel: 'voice', from, to: '+15550000000' } },
    { eventId: `${callId}-answered`, type: 'call.answered', callId, data: {} },
  ];
  for (const event of setup) {
    const out = await deliver(s, '/v1/webhooks/events', event, 'feed');
    if (!out.ok) {
      conv.setupFailed = `${event.type}: ${out.reason}`;
      return;
    }
  }
  for (let i = 1; Date.now() < s.loadEndsAt; i++) {
    const m: Message = { key: `${callId}-t${i}`, text: `utterance ${i}`, index: i, sentAt: Date.now() };
    conv.messages.push(m);
    const role = i % 2 ? 'user' : 'assistant';
    const out = await deliver(
      s,
      '/v1/webhooks/events',
      { eventId: m.key, type: 'call.turn', callId, data: { role, text: m.text } },
      'feed',
    );
    if (!out.ok) {
      m.refused = out.reason;
      return;
    }
    m.acceptedAt = Date.now();
    await think(s.thinkMs);
  }
}
