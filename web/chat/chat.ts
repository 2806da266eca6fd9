// The /chat page: one caller's chat with the assistant, opened with `/chat#token=<JWT>`. It keeps the
// call's id in localStorage, so reopening the page within the resume window continues the same call with
// its history; the transcript and the status badge come from the call's event stream.
import { readEvents } from './sse.js';

interface Turn {
  seq: number;
  role: 'user' | 'assistant' | 'system';
  text: string;
  at: string;
}
interface CallView {
  callId: string;
  status: 'ringing' | 'active' | 'dropped' | 'ended';
  disposition: string | null;
  startedAt: string;
  resumeCount: number;
  version: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  who: byId('who'),
  status: byId('status'),
  live: byId('live'),
  notice: byId('notice'),
  transcript: byId<HTMLOListElement>('transcript'),
  composer: byId<HTMLFormElement>('composer'),
  message: byId<HTMLInputElement>('message'),
  send: byId<HTMLButtonElement>('send'),
};

/** The token from the fragment (which never reaches a server log), then out of the address bar; this tab keeps it for reloads. */
function takeToken(): string | null {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromUrl) {
    sessionStorage.setItem('callwright.token', fromUrl);
    history.replaceState(null, '', location.pathname + location.search);
    return fromUrl;
  }
  return sessionStorage.getItem('callwright.token');
}

function subjectOf(jwt: string): string | null {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch {
    return null;
  }
}

/** Works outside secure contexts too (a LAN address over http), unlike crypto.randomUUID. */
const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

const token = takeToken();
const subject = token && subjectOf(token);
const savedCall = `callwright.chat.${subject}`;
let call: CallView | null = null;
const turns = new Map<number, HTMLLIElement>();
let following: AbortController | null = null;
/** Set while the page goes away: its own drop must not be undone. */
let closing = false;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) throw new HttpError(res.status, json?.error?.code ?? 'error', json?.error?.message ?? res.statusText);
  return json as T;
}
const callPath = (callId: string, rest = '') => `/calls/${encodeURIComponent(callId)}${rest}`;

function notice(text: string, error = false): void {
  ui.notice.textContent = text;
  ui.notice.classList.toggle('error', error);
  ui.notice.hidden = !text;
}

function setLive(live: boolean): void {
  ui.live.dataset.live = String(live);
  ui.live.textContent = live ? 'live' : 'reconnecting';
}

/** Views arrive from the stream and from replies: an older one never replaces a newer one. */
function showCall(view: CallView): void {
  if (call && call.callId === view.callId && view.version < call.version) return;
  call = view;
  ui.status.dataset.status = view.status;
  ui.status.textContent = view.status === 'ended' && view.disposition ? `ended · ${view.disposition}` : view.status;
  if (view.status === 'ended') notice('This conversation has ended. Your next message starts a new one.');
  // The page is open, so the caller is here: a drop that lands late (the previous page's, on a reload) is undone.
  if (view.status === 'dropped' && !closing)
    void api<CallView>('POST', callPath(view.callId, '/resume'), {}).then(showCall, () => undefined);
}

/** Each turn once, in seq order; the pending bubble of a message it confirms goes away. */
function showTurn(turn: Turn): void {
  if (turns.has(turn.seq)) return;
  if (turn.role === 'user') {
    const pending = [...ui.transcript.querySelectorAll<HTMLLIElement>('li.pending')].find((li) => li.dataset.text === turn.text);
    pending?.remove();
  }
  const li = bubble(turn.role, turn.text, turn.at);
  li.dataset.seq = String(turn.seq);
  turns.set(turn.seq, li);
  const after = [...turns.keys()].filter((seq) => seq > turn.seq).sort((a, b) => a - b)[0];
  // After any pending bubble when it is the newest: a reply shown before its question's turn arrives stays below it.
  ui.transcript.insertBefore(li, after === undefined ? null : turns.get(after)!);
  li.scrollIntoView({ block: 'end' });
}

function bubble(role: Turn['role'], text: string, at?: string): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.role = role;
  li.textContent = text;
  if (at) {
    const time = document.createElement('time');
    time.dateTime = at;
    time.textContent = clock(at);
    li.append(time);
  }
  return li;
}

/** Shows a call from its first turn: the stream sends the whole transcript, then what happens next. */
function attach(view: CallView): void {
  turns.clear();
  ui.transcript.replaceChildren();
  call = null;
  showCall(view);
  localStorage.setItem(savedCall, view.callId);
  ui.message.disabled = ui.send.disabled = false;
  ui.message.focus();
  void follow(view.callId);
}

/** Reads the call's stream, reconnecting with Last-Event-ID (the last turn shown) until the call has ended. */
async function follow(callId: string): Promise<void> {
  following?.abort();
  const control = (following = new AbortController());
  for (let delay = 500; !control.signal.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      const last = Math.max(0, ...turns.keys());
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (last) headers['last-event-id'] = String(last);
      const res = await fetch(`/v1${callPath(callId, '/stream')}`, { headers, signal: control.signal, cache: 'no-store' });
      if (!res.ok || !res.body) throw new HttpError(res.status, 'stream', `the stream answered ${res.status}`);
      setLive(true);
      delay = 250;
      for await (const event of readEvents(res.body)) {
        if (event.event === 'turn') showTurn(JSON.parse(event.data) as Turn);
        else if (event.event === 'call') showCall(JSON.parse(event.data) as CallView);
      }
      // The server ends the stream after the call's last view.
      if (call?.callId === callId && call.status === 'ended') break;
    } catch (err) {
      if (control.signal.aborted) return;
      if (err instanceof HttpError && [401, 403, 404].includes(err.status)) {
        notice(err.status === 401 ? 'This chat link has expired: ask for a new one.' : 'This conversation is not available.', true);
        break;
      }
    }
    setLive(false);
    await sleep(delay);
  }
  if (following === control) {
    ui.live.dataset.live = 'false';
    ui.live.textContent = 'offline';
  }
}

/** A start continues the caller's dropped chat if there is one (from another device, or before the browser was cleared). */
async function startNew(why?: string): Promise<void> {
  const view = await api<CallView>('POST', '/calls', { channel: 'chat' });
  attach(view);
  notice(view.resumeCount > 0 ? welcomeBack(view) : (why ?? ''));
}

const welcomeBack = (view: CallView) => `Welcome back: your conversation from ${clock(view.startedAt)} continues where you left it.`;

/** The saved call, resumed if it was dropped; a new call when it ended, expired or is gone, saying so. */
async function open(): Promise<void> {
  const saved = localStorage.getItem(savedCall);
  if (!saved) return startNew();
  try {
    let view = await api<CallView>('GET', callPath(saved));
    if (view.status === 'ended') return await startNew(view.disposition === 'abandoned' ? EXPIRED : ENDED);
    const resumed = view.status === 'dropped';
    if (resumed) view = await api<CallView>('POST', callPath(saved, '/resume'), {});
    attach(view);
    notice(resumed ? welcomeBack(view) : '');
  } catch (err) {
    if (!(err instanceof HttpError) || err.status === 401 || err.status >= 500) throw err;
    await startNew(
      err.code === 'resume_window_expired' ? EXPIRED : 'Your previous conversation is no longer available, so this is a new one.',
    );
  }
}

function showPending(text: string): HTMLLIElement {
  const li = bubble('user', text);
  li.classList.add('pending');
  li.dataset.text = text;
  ui.transcript.append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

const ENDED = 'Your previous conversation has ended, so this is a new one.';
const EXPIRED = 'Your previous conversation expired (you were away longer than its resume window), so this is a new one.';

/** Sends a message (one id, so a retry cannot double it); an ended or expired call is replaced by a new one first. */
async function send(text: string): Promise<void> {
  const message = { text, messageId: randomId() };
  let pending: HTMLLIElement | undefined;
  try {
    if (!call || call.status === 'ended') await startNew(ENDED);
    pending = showPending(text);
    let answer: { reply: Turn; call: CallView };
    try {
      answer = await api('POST', callPath(call!.callId, '/messages'), message);
    } catch (err) {
      if (!(err instanceof HttpError) || !['call_ended', 'resume_window_expired'].includes(err.code)) throw err;
      await startNew(err.code === 'call_ended' ? ENDED : EXPIRED);
      pending = showPending(text);
      answer = await api('POST', callPath(call!.callId, '/messages'), message);
    }
    showTurn(answer.reply);
    showCall(answer.call);
  } catch (err) {
    pending?.remove();
    notice(`Not sent: ${(err as Error).message}`, true);
    ui.message.value ||= text;
  }
}

ui.composer.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.message.value.trim();
  if (!text) return;
  ui.message.value = '';
  void send(text);
});

// Closing the page is a drop: the caller may come back within the window. A beacon outlives the page but
// sets no headers, so the token travels in its form body (never in the URL, which servers log).
addEventListener('pagehide', () => {
  closing = true;
  following?.abort();
  if (call?.status !== 'active' || !token) return;
  navigator.sendBeacon(
    `/v1${callPath(call.callId, '/drop')}`,
    new URLSearchParams({ access_token: token, reason: 'chat page closed', eventId: `pagehide:${randomId()}` }),
  );
});
// Back from the browser's page cache after a drop: pick the call up again.
addEventListener('pageshow', (e) => {
  if (!e.persisted) return;
  closing = false;
  void open().catch(fail);
});

function fail(err: unknown): void {
  notice(
    err instanceof HttpError && err.status === 401
      ? 'This chat link has expired: ask for a new one.'
      : `Cannot reach the service: ${(err as Error).message}`,
    true,
  );
}

if (!token || !subject) {
  notice('Open this page with the link you were given (it ends with #token=...).', true);
  ui.status.textContent = 'no token';
} else {
  ui.who.textContent = subject;
  void open().catch(fail);
}
