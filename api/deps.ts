import type { Logger } from 'pino';
import type { Stores } from '../store/call-reader.js';
import type { CredentialCipher } from '../store/credentials.js';
import type { AuthSettings } from './auth.js';
import type { CallGateway } from './call-gateway.js';
import type { TrustProxy } from './client-ip.js';
import type { Grants } from './grants.js';
import type { CallFeed } from './live/call-feed.js';
import type { ProviderAccounts } from './provider-accounts.js';

export interface WebhookSettings {
  /** Twilio's auth token: the key of X-Twilio-Signature. */
  twilioAuthToken: string;
  /** The public URL Twilio calls (behind a proxy the local URL differs); signatures cover it. */
  publicBaseUrl?: string;
  /** WEBHOOK_SECRET for the generic signed JSON feed. */
  secret: string;
  toleranceSeconds: number;
  /** Exotel signs nothing: the HTTP Basic credentials of its callback URL. Absent: every Exotel request is refused. */
  exotel?: { user: string; password: string };
  /** The HS256 key of the JWT on Vonage's webhooks. Absent: every Vonage request is refused. */
  vonageSignatureSecret?: string;
  /** Accounts' own provider credentials (createApp sets it); absent: only the environment's secrets above verify. */
  accounts?: ProviderAccounts;
}

export interface RateLimitSettings {
  /** Requests per window per caller number and per client IP; 0 disables. Keys (the platform's and accounts') are never limited. */
  perCaller: number;
  perIp: number;
  windowSeconds: number;
  /** Which X-Forwarded-For hops to believe (TRUST_PROXY); none when absent. */
  trustProxy?: TrustProxy;
}

/** Twilio's REST API as the API process uses it (erasing a caller's recordings): TWILIO_ACCOUNT_SID and its token. */
export interface TwilioRestSettings {
  /** https://api.twilio.com, or a stand-in. */
  apiUrl: string;
  accountSid: string;
  authToken: string;
  /** Per request; a request that takes longer is abandoned. */
  timeoutMs?: number;
}

/** Everything the app needs, built by the entry point (or a test): nothing connects at import time. */
export interface ApiDeps {
  gateway: CallGateway;
  stores: Stores;
  auth: AuthSettings;
  webhooks: WebhookSettings;
  rateLimit: RateLimitSettings;
  /** Whether POST /calls may place outbound calls (TWILIO_ACCOUNT_SID is set; the worker dials). */
  outboundCalls?: boolean;
  /** Twilio's REST API, when TWILIO_ACCOUNT_SID is set: an erasure deletes the caller's recordings there. */
  twilio?: TwilioRestSettings;
  /** Readiness probes by dependency name (temporal, postgres, redis): each throws when down. */
  checks: Record<string, () => Promise<unknown>>;
  /** Structured request logs; silent when absent (tests). */
  logger?: Logger;
  /** Recorded batches for live streams; the app makes one on `stores.redis` when absent (it connects on the first stream). */
  feed?: CallFeed;
  /** Counts a refused start or resume in /metrics (createApp sets it). */
  countRefusal?: (err: unknown) => void;
  /** Seals accounts' provider credentials (CREDENTIALS_KEY); absent (tests), the development key's. */
  credentials?: CredentialCipher;
  /** What keys and accounts grant; one reading PostgreSQL through `stores.pool` when absent. */
  grants?: Grants;
  /** How long a hosted voice request waits for its call before the caller hears a holding line (4 s). */
  voiceHoldAfterMs?: number;
  /** How often an open stream sends a heartbeat comment and checks that its call's workflow still runs (STREAM_HEARTBEAT, 15 s). */
  streamHeartbeatMs?: number;
}
