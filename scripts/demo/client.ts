// The demo's only way in: the public HTTP API, called as an operator, a chat app, Twilio and the voice pipeline would.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const api = env('API_URL', 'http://localhost:3000').replace(/\/+$/, '');

// Secrets default to the development values of config/env.ts, as `npm start` uses them.
export const settings = {
  api,
  adminKey: env('ADMIN_API_KEY', 'dev-admin-key-change-me'),
  webhookSecret: env('WEBHOOK_SECRET', 'dev-webhook-secret-change-me'),
  twilioToken: env('TWILIO_AUTH_TOKEN', 'dev-twilio-auth-token'),
  // Twilio signs the URL it was given: the public base URL when the API sits behind a proxy.
  twilioUrl: `${env('PUBLIC_BASE_URL', api).replace(/\/+$/, '')}/v1/webhooks/twilio`,
  temporalUi: env('TEMPORAL_UI_URL', 'http://localhost:8233').replace(/\/+$/, ''),
  namespace: env('TEMPORAL_NAMESPACE', 'default'),
};

/** The call view of the design contract (the fields the demo reads). */
export interface CallView {
  callId: string;
  workflowId?: string;
  status: 'ringing' | 'active' | 'dropped' | 'ended';
  disposition: string | null;
  channel: 'voice' | 'chat';
  direction: 'inbound' | 'outbound';
  from: string;
  to: string | null;
  resumeDeadline: string | null;
  turnCount: number;
  dropCount: number;
  resumeCount: number;
  legs: string[];
}

/** A failure the demo explains in one message, without a stack trace. */
export class DemoError extends Error {}

export class HttpError extends DemoError {
  constructor(
    method: string,
    path: string,
    readonly status: number,
    body: string,
  ) {
    const secrets = path.includes('/webhooks/twilio')
      ? 'TWILIO_AUTH_TOKEN (and PUBLIC_BASE_URL behind a proxy)'
      : path.includes('/webhooks/')
        ? 'WEBHOOK_SECRET'
        : 'ADMIN_API_KEY';
    const hint = status === 401 ? `\nSet ${secrets} to the running API's value.` : '';
    super(`${method} ${path} answered ${status}: ${body.slice(0, 300) || '(empty body)'}${hint}`);
  }
}

const reason = (err: unknown) => {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
};

async function send<T>(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  expect: number[],
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(api + path, { method, body, headers, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new DemoError(`${method} ${path} failed: ${reason(err)}`);
  }
  const text = await res.text();
  if (!expect.includes(res.status)) throw new HttpError(method, path, res.status, text);
  return (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

/** A bearer-authenticated JSON request: the admin key unless a caller's token is given. */
export function request<T>(method: string, path: string, opts: { json?: unknown; token?: string; expect?: number[] } = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? settings.adminKey}` };
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  return send<T>(method, path, body, headers, opts.expect ?? [200, 201, 202]);
}

/** Refuses to go on unless the API is alive and its dependencies are ready. */
export async function checkApi(): Promise<string> {
  const hint = 'Start it with `npm start` in another terminal (or point API_URL at it), then run `npm run demo` again.';
  let res: Response;
  try {
    res = await fetch(`${api}/healthz`, { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    throw new DemoError(`The Callwright API is not reachable at ${api} (${reason(err)}).\n${hint}`);
  }
  if (!res.ok) throw new DemoError(`${api}/healthz answered ${res.status}: is this the Callwright API?\n${hint}`);
  const ready = await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await ready.json().catch(() => ({}))) as {
    checks?: Record<string, string>;
    error?: { details?: { checks?: Record<string, string> } };
  };
  const checks = body.checks ?? body.error?.details?.checks ?? {};
  if (!ready.ok)
    throw new DemoError(
      `The API is up but not ready: ${JSON.stringify(checks)}.\nWait for \`npm start\` to finish starting, or check its log.`,
    );
  return Object.keys(checks).join(', ');
}

/** Polls the call view until `done` holds or the deadline passes: webhooks are applied asynchronously. */
export async function waitFor(
  callId: string,
  done: (call: CallView) => boolean,
  timeoutMs = 20_000,
): Promise<{ call: CallView | null; reached: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let call: CallView | null = null;
  for (;;) {
    try {
      call = await request<CallView>('GET', `/v1/calls/${encodeURIComponent(callId)}`);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 404)) throw err; // not started yet
    }
    if (call && done(call)) return { call, reached: true };
    if (Date.now() >= deadline) return { call, reached: false };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
export type TwilioStatus = 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer';

/** One Twilio call leg: status callbacks signed with X-Twilio-Signature, numbered like Twilio's SequenceNumber. */
export class TwilioLeg {
  readonly sid = `CA${randomBytes(16).toString('hex')}`;
  private sequence = 0;
  private answeredAt = 0;

  constructor(
    readonly from: string,
    readonly to: string,
    readonly direction: 'inbound' | 'outbound-api' = 'inbound',
  ) {}

  async status(status: TwilioStatus): Promise<void> {
    const params: Record<string, string> = {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallbackSource: 'call-progress-events',
      CallSid: this.sid,
      CallStatus: status,
      Direction: this.direction,
      From: this.from,
      Caller: this.from,
      To: this.to,
      Called: this.to,
      SequenceNumber: String(this.sequence++),
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
    };
    if (status === 'in-progress') this.answeredAt = Date.now();
    if (status === 'completed') params.CallDuration = String(Math.round((Date.now() - this.answeredAt) / 1000));
    const signature = getExpectedTwilioSignature(settings.twilioToken, settings.twilioUrl, params);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature };
    await send('POST', '/v1/webhooks/twilio', new URLSearchParams(params).toString(), headers, [200]);
  }
}

/** The voice pipeline's transcribed turn, on the generic feed signed with X-Signature. */
export async function voiceTurn(callId: string, role: 'user' | 'assistant', text: string): Promise<void> {
  await feedEvent({ eventId: `evt_${randomUUID()}`, type: 'call.turn', callId, data: { role, text } });
}

export async function feedEvent(event: { eventId: string; type: string; callId: string; data: object }): Promise<void> {
  const body = JSON.stringify({ ...event, at: new Date().toISOString() });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', settings.webhookSecret).update(`${t}.${body}`).digest('hex');
  await send('POST', '/v1/webhooks/events', body, { 'content-type': 'application/json', 'x-signature': `t=${t},v1=${v1}` }, [202]);
}
