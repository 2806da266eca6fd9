// ConversationRelay's WebSocket on the API's own server. Twilio signs the handshake over the wss:// URL
// the TwiML names (no parameters): one that is not signed so is refused with 401 before any upgrade.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Stores } from '../../store/call-reader.js';
import type { CallGateway } from '../call-gateway.js';
import type { WebhookSettings } from '../deps.js';
import { isValidTwilioSignature } from '../providers/twilio-signature.js';
import { VoiceConversation } from './conversation.js';
import { RelayTokens } from './relay-tokens.js';
import { RelaySession } from './twilio-relay.js';

export const RELAY_PATH = '/v1/voice/twilio/relay';
/** Twilio's messages are a few hundred bytes; a prompt is bounded by the utterance limit long before this. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export interface RelayDeps {
  gateway: CallGateway;
  stores: Stores;
  webhooks: Pick<WebhookSettings, 'twilioAuthToken' | 'publicBaseUrl'>;
  logger?: Logger;
  voiceHoldAfterMs?: number;
  /** How long a socket may stay without `setup` (10 s). */
  relaySetupTimeoutMs?: number;
}

/** What `serve` returns, as far as upgrades go. */
interface UpgradeServer {
  on(event: 'upgrade', listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  listenerCount(event: 'upgrade'): number;
}

/** The socket URL as the TwiML writes it (api/voice/twilio.ts): the public base URL, else the host the request came to. */
export function relaySocketUrl(publicBaseUrl: string | undefined, req: IncomingMessage): string {
  return socketUrlFor(publicBaseUrl ?? `${'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'}://${req.headers.host}`);
}

/** ws:// or wss:// at the relay's path under `base`: one place, so the TwiML and the handshake's check agree. */
export const socketUrlFor = (base: string): string => `${base.replace(/\/+$/, '').replace(/^http/, 'ws')}${RELAY_PATH}`;

/** Serves the relay on `server`; `close` ends its sockets and its token subscriber (the API stops). */
export function attachRelay(server: UpgradeServer, deps: RelayDeps): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const tokens = new RelayTokens(deps.stores.redis);
  const conversation = new VoiceConversation(deps.gateway, deps.stores, deps.voiceHoldAfterMs);
  const sessions = new Set<RelaySession>();
  const log = deps.logger?.child({ route: RELAY_PATH });

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://relay').pathname !== RELAY_PATH) {
      // Another protocol's listener may want it; alone, this one answers for the server.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'not_found', 'no WebSocket here');
      return;
    }
    const signature = req.headers['x-twilio-signature'];
    const url = relaySocketUrl(deps.webhooks.publicBaseUrl, req);
    if (!isValidTwilioSignature(deps.webhooks.twilioAuthToken, typeof signature === 'string' ? signature : undefined, url, {})) {
      log?.warn({ url }, 'relay handshake refused: bad X-Twilio-Signature');
      return refuse(socket, 401, 'unauthorized', 'invalid X-Twilio-Signature');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new RelaySession(
        { send: (message) => ws.send(message), close: (code, reason) => ws.close(code, reason) },
        { conversation, gateway: deps.gateway, stores: deps.stores, tokens, logger: log, setupTimeoutMs: deps.relaySetupTimeoutMs },
      );
      sessions.add(session);
      ws.on('message', (data, binary) => {
        if (binary) return log?.info('binary relay message; ignored');
        session.receive(data.toString());
      });
      ws.on('error', (err) => log?.warn({ err: err.message }, 'relay socket error'));
      ws.on('close', () => {
        sessions.delete(session);
        session.onClose();
      });
    });
  });

  return {
    close() {
      for (const session of sessions) session.shutdown();
      tokens.close();
    },
  };
}

/** An HTTP answer on the raw socket, in the app's error shape, then the connection ends. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  socket.on('error', () => socket.destroy());
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : 'Not Found';
  socket.once('finish', () => socket.destroy());
  const head = `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n`;
  socket.end(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
