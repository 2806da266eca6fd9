// Webhooks: each provider's adapter (verified before its body is parsed, answered at once, delivered as
// signals) and the generic signed event feed of the agent pipeline.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { readCall } from '../../store/call-reader.js';
import { prepareStart } from '../call-start.js';
import type { ApiDeps, WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { json, router } from '../openapi.js';
import { ErrorSchema } from '../schemas.js';
import { statusCallbacks } from '../providers/delivery.js';
import { exotelRoutes } from '../providers/exotel.js';
import { ownLeg, resolveLeg } from '../providers/leg-map.js';
import { twilioRoutes } from '../providers/twilio.js';
import { vonageRoutes } from '../providers/vonage.js';
import { feedEvent, feedStart, startSignal } from '../webhooks/feed-events.js';
import { Accepted, FeedEvent, FeedSignatureHeader, webhookErrors } from '../webhooks/schemas.js';
import { verifyFeedSignature } from '../../common/feed-signature.js';

const utf8 = new TextDecoder();

function feedSignature(settings: WebhookSettings): MiddlewareHandler {
  return async function feedSignature(c, next) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const verdict = verifyFeedSignature(settings, c.req.header('x-signature'), body);
    if (!verdict.ok) throw new ApiError('unauthorized', verdict.reason);
    // The JSON validator reads the body as text; without this Hono re-reads the checked bytes through a
    // web Response. Hono keeps a promise per cached body (its declared type says the value).
    (c.req.bodyCache as Record<string, unknown>).text ??= Promise.resolve(utf8.decode(body));
    await next();
  };
}

export function webhookRoutes(deps: ApiDeps): OpenAPIHono {
  const { gateway, stores } = deps;
  const eventsRoute = createRoute({
    method: 'post',
    path: '/events',
    tags: ['webhooks'],
    summary: 'Generic signed call events from the agent pipeline',
    middleware: [feedSignature(deps.webhooks)],
    request: { headers: FeedSignatureHeader, body: { content: { 'application/json': { schema: FeedEvent } }, required: true } },
    responses: {
      202: json(Accepted, 'accepted'),
      404: json(ErrorSchema, 'no such call yet: deliver call.started first, then retry'),
      ...webhookErrors,
    },
  });

  // Adding a provider is its adapter and one line here.
  const deliver = statusCallbacks(deps);
  return router()
    .route('/', twilioRoutes(deps.webhooks, deliver))
    .route('/', exotelRoutes(deps.webhooks, deliver))
    .route('/', vonageRoutes(deps.webhooks, deliver))
    .openapi(eventsRoute, async (c) => {
      const e = c.req.valid('json');
      if (e.type === 'call.started') {
        const { start, config } = await prepareStart(stores, feedStart(e));
        await gateway.signalWithStart(start, startSignal(e), config);
        return c.json({ accepted: true as const }, 202);
      }
      const leg = await resolveLeg(stores, e.callId);
      if (await gateway.signal(leg.callId, feedEvent(e))) {
        // The cache was flushed or expired: the call exists under its own id, so the next event skips PostgreSQL.
        if (!leg.known) await ownLeg(stores, e.callId, false).catch(() => undefined);
      } else if (!(await readCall(stores, e.callId))) {
        // A minimal start would fix channel and caller by guesswork; the sender retries non-2xx instead.
        throw new ApiError('not_found', `no call ${e.callId}: deliver call.started first`);
      }
      return c.json({ accepted: true as const }, 202);
    });
}
