import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { callConfigOf, twilioCallSettings, type Config } from '../config/env.js';
import { openStores } from '../config/stores.js';
import { selectCall } from '../store/calls-table.js';
import { CallGateway } from './call-gateway.js';
import type { ApiDeps } from './deps.js';
import { CallFeed } from './live/call-feed.js';
import { EVERY_ACCOUNT } from '../store/scope.js';
import { credentialCipher } from '../store/credentials.js';

export const TOKEN_TTL_SECONDS = 3600;

/** Opens the API's connections from configuration; `close` releases them. */
export async function connectDeps(config: Config, logger: Logger): Promise<ApiDeps & { feed: CallFeed; close(): Promise<void> }> {
  const { pool, redis } = openStores({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL }, logger);
  // The Rust core's client, as the worker uses: per request it spends a fraction of grpc-js's CPU, on
  // its own threads, and fails an unreachable server in seconds rather than twenty.
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const gateway = new CallGateway(
    client,
    {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      call: callConfigOf(config),
      updateTimeoutMs: config.UPDATE_TIMEOUT,
      workflowTaskTimeoutMs: config.WORKFLOW_TASK_TIMEOUT,
    },
    async (callId) => (await selectCall(pool, EVERY_ACCOUNT, callId)) !== null,
  );
  const feed = new CallFeed(redis, logger);
  return {
    gateway,
    feed,
    streamHeartbeatMs: config.STREAM_HEARTBEAT,
    stores: { pool, redis },
    credentials: credentialCipher(config.CREDENTIALS_KEY!, config.CREDENTIALS_KEY_PREVIOUS),
    auth: { adminKey: config.ADMIN_API_KEY!, jwtSecret: config.JWT_SECRET!, tokenTtlSeconds: TOKEN_TTL_SECONDS },
    webhooks: {
      twilioAuthToken: config.TWILIO_AUTH_TOKEN!,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      secret: config.WEBHOOK_SECRET!,
      toleranceSeconds: 300,
      // Both or neither (config/env.ts checks); providers are optional and refuse every request until configured.
      exotel:
        config.EXOTEL_WEBHOOK_USER && config.EXOTEL_WEBHOOK_PASSWORD
          ? { user: config.EXOTEL_WEBHOOK_USER, password: config.EXOTEL_WEBHOOK_PASSWORD }
          : undefined,
      vonageSignatureSecret: config.VONAGE_SIGNATURE_SECRET,
    },
    outboundCalls: config.TWILIO_ACCOUNT_SID !== undefined,
    twilio: twilioCallSettings(config),
    rateLimit: {
      perCaller: config.RATE_LIMIT_PER_CALLER,
      perIp: config.RATE_LIMIT_PER_IP,
      windowSeconds: 60,
      trustProxy: config.TRUST_PROXY,
    },
    checks: {
      temporal: () => connection.healthService.check({}),
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
    },
    async close() {
      feed.close();
      await Promise.allSettled([connection.close(), pool.end(), redis.quit()]);
    },
  };
}
