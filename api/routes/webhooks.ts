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
import { LegMemo } from '../providers/leg-memo.js';
import { twilioRoutes } from '../providers/twilio.js';
import { vonageRoutes } from '../providers/vonage.js';
import { feedEvent, feedStart, startSignal } from '../webhooks/feed-events.js';
import { Accepted, FeedEvent, FeedSignatureHeader, webhookErrors } from '../webhooks/schemas.js';
import { verifyFeedSignature } from '../../common/feed-signature.js';
import type { CallEvent } from '../../workflows/types.js';
import { EVERY_ACCOUNT } from '../../store/scope.js';

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

  const legs = new LegMemo();
  /** Signals the call that owns the leg; throws 404 when neither the leg nor a call of that id is known. */
  async function deliver(sid: string, event: CallEvent, remembered = legs.get(sid)): Promise<void> {
    const leg = remembered ? { callId: remembered, known: true } : await resolveLeg(stores, sid);
    if (await gateway.signal(leg.callId, event)) {
      // The cache was flushed or expired: the call exists under its own id, so the next event skips PostgreSQL.
      if (!leg.known) await ownLeg(stores, sid, false).catch(() => undefined);
      if (!remembered) legs.set(sid, leg.callId);
      return;
    }
    // The remembered call has closed, and the leg may be another call's now: Redis or PostgreSQL says.
    if (remembered) {
      legs.forget(sid);
      return deliver(sid, event, undefined);
    }
    // A minimal start would fix channel and caller by guesswork; the sender retries non-2xx instead.
    if (!(await readCall(stores, EVERY_ACCOUNT, sid))) throw new ApiError('not_found', `no call ${sid}: deliver call.started first`);
  }

  // Adding a provider is its adapter and one line here.
  const callbacks = statusCallbacks(deps);
  return router()
    .route('/', twilioRoutes(deps.webhooks, callbacks))
    .route('/', exotelRoutes(deps.webhooks, callbacks))
    .route('/', vonageRoutes(deps.webhooks, callbacks))
    .openapi(eventsRoute, async (c) => {
      const e = c.req.valid('json');
      if (e.type === 'call.started') {
        const { start, config } = await prepareStart(stores, feedStart(e));
        await gateway.signalWithStart(start, startSignal(e), config);
        return c.json({ accepted: true as const }, 202);
      }
      await deliver(e.callId, feedEvent(e));
      return c.json({ accepted: true as const }, 202);
    });
}
