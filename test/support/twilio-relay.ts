// Plays Twilio's side of a ConversationRelay WebSocket: a signed handshake, Twilio's messages, and what
// the server sends back, read in order.
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import WebSocket from 'ws';
import { attachRelay } from '../../api/voice/relay-server.js';
import { PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './harness.js';
import { signTwilio } from './twilio-voice.js';

/** The socket URL the TwiML names, which Twilio signs. */
export const RELAY_URL = `${PUBLIC_BASE_URL.replace(/^http/, 'ws')}/v1/voice/twilio/relay`;

export type Sent = { type: 'text'; token: string; last: boolean } | { type: 'end'; handoffData: string };

export class RelayClient {
  readonly sessionId = `VX${randomUUID().replace(/-/g, '')}`;
  private readonly received: Sent[] = [];
  private waiting?: () => void;
  /** Resolves with the close code once the socket has closed. */
  readonly closed: Promise<number>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as Sent);
      this.waiting?.();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => (resolve(code), this.waiting?.())));
  }

  /** Connects to the server on `port` as Twilio would (signed over RELAY_URL unless `signature` says otherwise). */
  static open(port: number, signature: string | null = signTwilio(RELAY_URL, {})): Promise<RelayClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/voice/twilio/relay`, {
      headers: signature === null ? {} : { 'x-twilio-signature': signature },
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RelayClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  setup(callSid: string, from: string, to: string): void {
    this.send({
      type: 'setup',
      sessionId: this.sessionId,
      callSid,
      from,
      to,
      direction: 'inbound',
      callStatus: 'RINGING',
      customParameters: {},
    });
  }

  prompt(voicePrompt: string, last = true): void {
    this.send({ type: 'prompt', voicePrompt, lang: 'en-US', last });
  }

  /** The next message the server sends. */
  async next(timeoutMs = 15_000): Promise<Sent> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('the relay socket closed');
      if (Date.now() > deadline) throw new Error('no relay message in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiting = () => (clearTimeout(timer), resolve());
      });
    }
    return this.received.shift()!;
  }

  /** The `text` tokens of one talk cycle, up to and including the one with `last: true`. */
  async reply(): Promise<string[]> {
    const tokens: string[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type !== 'text') throw new Error(`expected text, got ${JSON.stringify(m)}`);
      tokens.push(m.token);
      if (m.last) return tokens;
    }
  }

  /** Messages that arrived and were not read yet. */
  get unread(): Sent[] {
    return [...this.received];
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Twilio closes the socket (the caller hung up, or after an `end`). */
  async close(): Promise<void> {
    this.ws.close(1000);
    await this.closed;
  }
}

export interface Served {
  port: number;
  close(): void;
}

/** The harness's app on a real port with the relay beside it, as api/main.ts serves them. */
export async function serveWithRelay(h: Harness, options: { holdAfterMs?: number } = {}): Promise<Served> {
  let listening!: (port: number) => void;
  const ready = new Promise<number>((resolve) => (listening = resolve));
  const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => listening(info.port));
  const relay = attachRelay(server, {
    gateway: h.gateway,
    stores: { pool: h.pool, redis: h.redis },
    webhooks: { twilioAuthToken: TWILIO_TOKEN, publicBaseUrl: PUBLIC_BASE_URL },
    voiceHoldAfterMs: options.holdAfterMs,
    relaySetupTimeoutMs: 300,
  });
  const port = await ready;
  return {
    port,
    close() {
      relay.close();
      server.close();
    },
  };
}
