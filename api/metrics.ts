// Prometheus metrics of the API: traffic per route and status, failed webhook signatures, calls by status.
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { STATUSES } from '../workflows/types.js';

export function createApiMetrics(pool: pg.Pool) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'callwright_api_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'callwright_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'callwright_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const webhookFailures = new Counter({
    name: 'callwright_webhook_verifications_failed_total',
    help: 'Webhook requests rejected for a missing or invalid signature',
    labelNames: ['provider'],
    registers: [registry],
  });
  const unavailable = new Counter({
    name: 'callwright_http_unavailable_total',
    help: 'Requests answered 503, by why: unavailable (PostgreSQL, Redis), temporal_unavailable, timeout',
    labelNames: ['code'],
    registers: [registry],
  });
  const lineRefusals = new Counter({
    name: 'callwright_concurrency_refusals_total',
    help: "Starts and resumes refused because the account's open calls were at its concurrentCalls limit",
    labelNames: ['account'],
    registers: [registry],
  });
  new Gauge({
    name: 'callwright_calls',
    help: 'Calls by status, from PostgreSQL at scrape time',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM calls GROUP BY status');
      const counts = new Map(rows.map((r) => [r.status, Number(r.n)]));
      for (const status of STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  return { registry, requests, latency, webhookFailures, unavailable, lineRefusals };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** The route pattern that answered (`/v1/calls/:callId`), never the raw path: labels stay bounded. */
function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const handler = matchedRoutes(c)
    .filter((r) => r.method !== 'ALL')
    .at(-1);
  return handler?.path ?? 'unmatched';
}

const CALL_PATH = /^\/v1\/calls\/([^/]+)/;

/** Records metrics and one structured log line per request, tagged with the call when there is one. */
export function observe(metrics: ApiMetrics, logger: Logger): MiddlewareHandler {
  return async function observe(c, next) {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(c);
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, seconds);
    if (c.res.status === 401 && route.startsWith('/v1/webhooks/'))
      metrics.webhookFailures.inc({ provider: route.endsWith('/twilio') ? 'twilio' : 'events' });
    const callId = CALL_PATH.exec(c.req.path)?.[1];
    // Whose request it was (never the credential itself): a customer's trouble is found by its account.
    const principal = c.get('principal') as { accountId?: string; keyId?: string } | undefined;
    const who = principal?.accountId ? { accountId: principal.accountId, ...(principal.keyId ? { keyId: principal.keyId } : {}) } : {};
    logger.info(
      { ...labels, ms: Math.round(seconds * 1000), ...who, ...(callId ? { callId, workflowId: `call-${callId}` } : {}) },
      'request',
    );
  };
}
