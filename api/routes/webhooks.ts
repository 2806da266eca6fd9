// Provider webhooks: authenticated by their signature over the raw body, answered at once, delivered as signals.
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { readCall } from '../../activities/store/call-reader.js';
import { prepareStart } from '../call-start.js';
import type { ApiDeps, WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { json, router } from '../openapi.js';
import { ErrorSchema } from '../schemas.js';
import { feedEvent, feedStart, startSignal } from '../webhooks/feed-events.js';
import { ownLeg, resolveLeg } from '../webhooks/leg-map.js';
import { Accepted, FeedEvent, FeedSignatureHeader, TwilioSignatureHeader, TwilioStatusCallback } from '../webhooks/schemas.js';
import { verifyFeedSignature } from '../../common/feed-signature.js';
import { twilioCallbacks } from '../webhooks/twilio-callbacks.js';
import { toCallback } from '../webhooks/twilio-events.js';
import { formParams, isValidTwilioSignature, signedUrl } from '../webhooks/twilio-signature.js';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const err = (description: string) => json(ErrorSchema, description);
const webhookErrors = { 400: err('invalid payload'), 401: err('missing or invalid signature'), 413: err('body too large'), 503: err('a dependency is unavailable; retry') };

/** Route middleware runs before the body validators: nothing is parsed for an unsigned request. */
function twilioSignature(settings: WebhookSettings): MiddlewareHandler {
  return async function twilioSignature(c, next) {
    const url = signedUrl(c.req.url, settings.publicBaseUrl);
    const params = formParams(await c.req.text());
    if (!isValidTwilioSignature(settings.twilioAuthToken, c.req.header('x-twilio-signature'), url, params)) {
      throw new ApiError('unauthorized', 'missing or invalid X-Twilio-Signature');
    }
    await next();
  };
}

function feedSignature(settings: WebhookSettings): MiddlewareHandler {
  return async function feedSignature(c, next) {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const verdict = verifyFeedSignature(settings, c.req.header('x-signature'), body);
    if (!verdict.ok) throw new ApiError('unauthorized', verdict.reason);
    await next();
  };
}

export function webhookRoutes(deps: ApiDeps): OpenAPIHono {
  const { gateway, stores } = deps;
  const twilioRoute = createRoute({
    method: 'post', path: '/twilio', tags: ['webhooks'], summary: 'Twilio Programmable Voice status callback',
    middleware: [twilioSignature(deps.webhooks)],
    request: {
      headers: TwilioSignatureHeader,
      body: { content: { 'application/x-www-form-urlencoded': { schema: TwilioStatusCallback } }, required: true },
    },
    responses: { 200: { description: 'accepted (empty TwiML)', content: { 'text/xml': { schema: { type: 'string' } } } }, ...webhookErrors },
  });
  const eventsRoute = createRoute({
    method: 'post', path: '/events', tags: ['webhooks'], summary: 'Generic signed call events from the agent pipeline',
    middleware: [feedSignature(deps.webhooks)],
    request: { headers: FeedSignatureHeader, body: { content: { 'application/json': { schema: FeedEvent } }, required: true } },
    responses: { 202: json(Accepted, 'accepted'), 404: err('no such call yet: deliver call.started first, then retry'), ...webhookErrors },
  });

  const deliverTwilio = twilioCallbacks(deps);
  return router()
    .openapi(twilioRoute, async (c) => {
      await deliverTwilio(toCallback(c.req.valid('form')));
      return c.body(EMPTY_TWIML, 200, { 'content-type': 'text/xml; charset=utf-8' });
    })
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
