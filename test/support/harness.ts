// One harness per test file: real Temporal, PostgreSQL and Redis from global setup, a worker on a
// private task queue, and the Hono app driven without a network.
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';
import { scriptedResponder } from '../../activities/responder/scripted.js';
import type { Responder } from '../../activities/responder/types.js';
import type { TwilioCallSettings } from '../../activities/telephony/twilio-calls.js';
import { selectCall } from '../../store/calls-table.js';
import { createApp } from '../../api/app.js';
import { mintToken, type AuthSettings } from '../../api/auth.js';
import { CallGateway } from '../../api/call-gateway.js';
import type { ApiDeps, RateLimitSettings, WebhookSettings } from '../../api/deps.js';
import { createCallWorker } from '../../worker/create-worker.js';
import { quietRuntime } from './runtime.js';
import { callViewQuery, workflowIdFor } from '../../workflows/messages.js';
import type { CallConfig, CallView } from '../../workflows/types.js';
import { EVERY_ACCOUNT } from '../../store/scope.js';
import { credentialCipher, DEV_CREDENTIALS_KEY } from '../../store/credentials.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const TWILIO_TOKEN = 'test-twilio-auth-token';
export const PUBLIC_BASE_URL = 'https://callwright.example.com';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const EXOTEL_USER = 'exotel-test';
export const EXOTEL_PASSWORD = 'test-exotel-password-0123';
export const VONAGE_SECRET = 'test-vonage-signature-secret-0123456789';
export const auth: AuthSettings = { adminKey: ADMIN_KEY, jwtSecret: 'test-jwt-secret-0123456789', tokenTtlSeconds: 600 };

export interface HarnessOptions {
  call?: Partial<CallConfig>;
  responder?: Responder;
  /** Start no in-process worker (the test runs one in a child process). */
  noWorker?: boolean;
  rateLimit?: Partial<RateLimitSettings>;
  /** Over the test secrets, e.g. a provider left unconfigured. */
  webhooks?: Partial<WebhookSettings>;
  /** A PostgreSQL of the test's own (one it may stop) instead of the run's shared one. */
  databaseUrl?: string;
  /** Outbound calling on: the worker dials through this Twilio REST API (a stand-in), the API accepts outbound calls. */
  twilio?: TwilioCallSettings;
}

export async function createHarness(options: HarnessOptions = {}) {
  quietRuntime();
  const taskQueue = `test-${randomUUID()}`;
  const pool = new pg.Pool({ connectionString: options.databaseUrl ?? inject('databaseUrl'), max: 5 });
  // An idle client whose server went away emits 'error': the next query reconnects, the process must not die.
  pool.on('error', () => undefined);
  const redis = new Redis(inject('redisUrl'));
  // The API's kind of connection (api/create-deps.ts), separate from the worker's.
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection });
  const callConfig: CallConfig = {
    resumeWindowMs: 600_000,
    idleTimeoutMs: 1_800_000,
    historyLimit: 10_000,
    // A test that brings its own responder means a model: replies come from the activity.
    responder: options.responder ? 'model' : 'scripted',
    ...options.call,
  };
  const gateway = new CallGateway(
    client,
    { taskQueue, call: callConfig },
    async (id) => (await selectCall(pool, EVERY_ACCOUNT, id)) !== null,
  );
  const deps: ApiDeps = {
    gateway,
    stores: { pool, redis },
    auth,
    webhooks: {
      twilioAuthToken: TWILIO_TOKEN,
      publicBaseUrl: PUBLIC_BASE_URL,
      secret: WEBHOOK_SECRET,
      toleranceSeconds: 300,
      exotel: { user: EXOTEL_USER, password: EXOTEL_PASSWORD },
      vonageSignatureSecret: VONAGE_SECRET,
      ...options.webhooks,
    },
    rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60, ...options.rateLimit },
    outboundCalls: options.twilio !== undefined,
    twilio: options.twilio,
    checks: { temporal: () => connection.healthService.check({}), postgres: () => pool.query('SELECT 1'), redis: () => redis.ping() },
  };
  const app = createApp(deps);

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  /** Starts the in-process worker (at creation unless `noWorker`): work queued before it waits in Temporal. */
  const startWorker = async () => {
    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    worker = await createCallWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue,
      deps: {
        pool,
        redis,
        responder: options.responder ?? scriptedResponder,
        twilio: options.twilio,
        webhookSecret: WEBHOOK_SECRET,
        // The key the app opens credentials with when a test gives none.
        credentials: credentialCipher(DEV_CREDENTIALS_KEY),
      },
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    running = worker.run();
  };
  if (!options.noWorker) await startWorker();

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await app.request(`/v1${path}`, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };

  return {
    taskQueue,
    pool,
    redis,
    client,
    app,
    /** What the app was built from: a test builds a second app (another API process) from it. */
    deps,
    gateway,
    callConfig,
    request,
    startWorker,
    tokenFor: async (number: string, accountId = 'default') => `Bearer ${(await mintToken(auth, number, accountId)).token}`,
    query: (callId: string): Promise<CallView> => client.workflow.getHandle(workflowIdFor(callId)).query(callViewQuery),
    handle: (callId: string) => client.workflow.getHandle(workflowIdFor(callId)),
    rows: async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows,
    async close() {
      if (worker) {
        worker.shutdown();
        await running;
      }
      await Promise.allSettled([nativeConnection?.close(), connection.close(), pool.end(), redis.quit()]);
    },
  };
}
export type Harness = Awaited<ReturnType<typeof createHarness>>;

/** The environment a worker process needs to join this run's servers on a harness's task queue. */
export function workerEnv(taskQueue: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    // The retention Schedule is one per namespace: only test/retention.test.ts creates it.
    RETENTION: 'off',
  };
}

export const newCallId = () => `t-${randomUUID()}`;

/** Polls until `check` returns a value without throwing, or fails with its last error. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
