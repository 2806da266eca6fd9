// The one schema for configuration; only entry points (worker/, api/, scripts/) call loadConfig.
import { z } from 'zod';
import { parseTrustProxy, TRUST_NONE } from '../api/client-ip.js';
import type { TwilioCallSettings } from '../activities/telephony/twilio-calls.js';
import type { CallConfig } from '../workflows/types.js';
import { DEV_CREDENTIALS_KEY, parseCredentialsKey } from '../store/credentials.js';
import { parseDuration } from './duration.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null) ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 500ms, 2s or 10m` });
      return ms ?? 0;
    });
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const urlOf = (protocols: string[]) =>
  z
    .string()
    .refine((u) => URL.canParse(u) && protocols.includes(new URL(u).protocol), { message: `must be a ${protocols.join(' or ')}// URL` });
const url = (fallback: string, protocols: string[]) => urlOf(protocols).default(fallback);
const secret = z.string().min(16, 'must be at least 16 characters').optional();
const credentialsKey = z
  .string()
  .refine((k) => parseCredentialsKey(k) !== null, { message: 'must be 32 bytes, as 64 hex digits or base64 (openssl rand -hex 32)' })
  .optional();

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: port(3000),
    DATABASE_URL: url('postgres://postgres@127.0.0.1:5433/callwright', ['postgres:', 'postgresql:']),
    REDIS_URL: url('redis://127.0.0.1:6380', ['redis:', 'rediss:']),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[\w.-]+:\d+$/, 'must be host:port')
      .default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('calls'),
    RESUME_WINDOW: duration('10m'),
    IDLE_TIMEOUT: duration('30m'),
    HISTORY_LIMIT: z.coerce.number().int().min(100).default(10_000),
    // Calls that ended longer ago than RETENTION are deleted by a Schedule running every RETENTION_EVERY.
    RETENTION: z
      .string()
      .default('90d')
      .transform((text, ctx) => {
        if (text === 'off') return null; // keep every call; no schedule is created
        const ms = parseDuration(text);
        if (ms === null) ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30d, or off` });
        return ms ?? 0;
      }),
    RETENTION_EVERY: duration('1d'),
    // Where end-of-call reports go for calls whose agent names no reportUrl; unset: no report.
    REPORT_URL: urlOf(['http:', 'https:']).optional(),
    ADMIN_API_KEY: secret,
    JWT_SECRET: secret,
    WEBHOOK_SECRET: secret,
    // Seals accounts' provider credentials (AES-256-GCM); the previous key still opens values sealed before a rotation.
    CREDENTIALS_KEY: credentialsKey,
    CREDENTIALS_KEY_PREVIOUS: credentialsKey,
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    PUBLIC_BASE_URL: z.string().url().optional(),
    // Outbound calls: placed through Twilio's REST API when an account is configured.
    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must be an account SID: AC and 32 hex digits')
      .optional(),
    TWILIO_API_URL: url('https://api.twilio.com', ['https:', 'http:']),
    TWILIO_VOICE_URL: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), { message: 'must be an https:// or http:// URL' })
      .optional(),
    // Optional providers: without their secrets their webhooks answer 401, and nothing else changes.
    EXOTEL_WEBHOOK_USER: z
      .string()
      .regex(/^[^:]+$/, 'must not contain ":" (HTTP Basic splits the user there)')
      .optional(),
    EXOTEL_WEBHOOK_PASSWORD: z.string().min(1).optional(),
    VONAGE_SIGNATURE_SECRET: z.string().min(1).optional(),
    RESPONDER_URL: z.string().url().optional(),
    RESPONDER_API_KEY: z.string().optional(),
    RESPONDER_MODEL: z.string().default('gpt-4o-mini'),
    RESPONDER_TIMEOUT: duration('15s'),
    // How long the API waits for a call to answer an update (a chat message, drop, end) before 503 `timeout`.
    UPDATE_TIMEOUT: duration('60s'),
    // An open call stream sends a heartbeat comment this often (proxies close idle connections) and checks the call's workflow still runs.
    STREAM_HEARTBEAT: duration('15s').refine((ms) => ms >= 1000, 'must be at least 1s'),
    WORKER_METRICS_PORT: port(9464),
    // Workflows kept in the worker's sticky cache; evicted calls replay from history when they next wake.
    WORKER_CACHE_SIZE: z.coerce.number().int().min(0).default(1000),
    // How long a cached call's next task waits for its worker before any worker may take it (what a SIGKILLed worker's calls wait).
    WORKER_STICKY_TIMEOUT: duration('1s'),
    // How long a workflow task a worker took may run before another worker may take it (what a SIGKILLed worker's task in flight waits).
    WORKFLOW_TASK_TIMEOUT: duration('2s').refine((ms) => ms >= 1000 && ms <= 120_000, 'must be between 1s and 120s'),
    // Read again by worker/stack-traces.cjs in the workflow threads; validated here so a typo stops the worker.
    WORKFLOW_STACK_TRACES: z.enum(['on', 'off']).default('off'),
    RATE_LIMIT_PER_CALLER: z.coerce.number().int().min(0).default(120),
    RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(600),
    // Proxies whose X-Forwarded-For is believed: a hop count or addresses/CIDRs; none by default.
    TRUST_PROXY: z
      .string()
      .default('')
      .transform((text, ctx) => {
        try {
          return parseTrustProxy(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return TRUST_NONE;
        }
      }),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    // Unset: readable lines at a terminal, JSON otherwise and in production (loadConfig decides).
    LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
    // npm start's embedded servers, when TEMPORAL_ADDRESS, DATABASE_URL or REDIS_URL do not name one.
    TEMPORAL_PORT: port(7233),
    TEMPORAL_UI_PORT: port(8233),
    POSTGRES_PORT: port(5433),
    REDIS_PORT: port(6380),
  })
  .superRefine((c, ctx) => {
    // Half a credential is a mistake, not a choice: say which half is missing.
    if (c.EXOTEL_WEBHOOK_USER && !c.EXOTEL_WEBHOOK_PASSWORD)
      ctx.addIssue({ code: 'custom', path: ['EXOTEL_WEBHOOK_PASSWORD'], message: 'required with EXOTEL_WEBHOOK_USER' });
    if (c.EXOTEL_WEBHOOK_PASSWORD && !c.EXOTEL_WEBHOOK_USER)
      ctx.addIssue({ code: 'custom', path: ['EXOTEL_WEBHOOK_USER'], message: 'required with EXOTEL_WEBHOOK_PASSWORD' });
  });

export type Config = z.infer<typeof schema> & { LOG_FORMAT: 'pretty' | 'json' };

const SECRETS = ['ADMIN_API_KEY', 'JWT_SECRET', 'WEBHOOK_SECRET', 'TWILIO_AUTH_TOKEN', 'CREDENTIALS_KEY'] as const;
// Development defaults so `npm start` works out of the box; production refuses to start without real ones.
const DEV_SECRETS: Record<(typeof SECRETS)[number], string> = {
  ADMIN_API_KEY: 'dev-admin-key-change-me',
  JWT_SECRET: 'dev-jwt-secret-change-me',
  WEBHOOK_SECRET: 'dev-webhook-secret-change-me',
  TWILIO_AUTH_TOKEN: 'dev-twilio-auth-token',
  CREDENTIALS_KEY: DEV_CREDENTIALS_KEY,
};

export class ConfigError extends Error {}

/** Validates the environment; the error names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data as Config;
  // A person reads a terminal; a pipe or a file feeds a log collector, and production logs always do.
  config.LOG_FORMAT ??= config.NODE_ENV !== 'production' && process.stdout.isTTY ? 'pretty' : 'json';
  // Placing a call needs the account's own token (not the development default) and the URLs Twilio calls back.
  const forOutbound = config.TWILIO_ACCOUNT_SID ? (['TWILIO_AUTH_TOKEN', 'PUBLIC_BASE_URL'] as const).filter((k) => !config[k]) : [];
  if (forOutbound.length) {
    throw new ConfigError(`invalid configuration:\n${forOutbound.map((k) => `  ${k}: required with TWILIO_ACCOUNT_SID`).join('\n')}`);
  }
  const missing = SECRETS.filter((k) => !config[k]);
  if (config.NODE_ENV === 'production' && missing.length) {
    throw new ConfigError(`invalid configuration:\n${missing.map((k) => `  ${k}: required in production`).join('\n')}`);
  }
  for (const k of missing) config[k] = DEV_SECRETS[k];
  return config;
}

/** Exits with the message instead of a stack trace: a misconfigured process should say what to fix. */
export function loadConfigOrExit(env?: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
}

/** Settings fixed into each call at start; the API and the worker read the same variables. */
export function callConfigOf(config: Config): CallConfig {
  return {
    resumeWindowMs: config.RESUME_WINDOW,
    idleTimeoutMs: config.IDLE_TIMEOUT,
    historyLimit: config.HISTORY_LIMIT,
    // With a model configured, replies come from an activity; the scripted assistant runs in the workflow.
    responder: config.RESPONDER_URL ? 'model' : 'scripted',
    ...(config.REPORT_URL ? { reportUrl: config.REPORT_URL } : {}),
  };
}

/** What the worker's `placeCall` needs; undefined when outbound calling is off (no TWILIO_ACCOUNT_SID). */
export function twilioCallSettings(config: Config): TwilioCallSettings | undefined {
  if (!config.TWILIO_ACCOUNT_SID) return undefined;
  return {
    apiUrl: config.TWILIO_API_URL,
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN!,
    // Callwright's own hosted voice unless the account answers its calls elsewhere.
    voiceUrl: config.TWILIO_VOICE_URL ?? `${config.PUBLIC_BASE_URL!.replace(/\/+$/, '')}/v1/voice/twilio`,
    statusCallbackUrl: `${config.PUBLIC_BASE_URL!.replace(/\/+$/, '')}/v1/webhooks/twilio`,
    publicBaseUrl: config.PUBLIC_BASE_URL!,
  };
}
