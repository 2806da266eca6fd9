// Twilio Programmable Voice: form-encoded status callbacks signed with X-Twilio-Signature, ordered by SequenceNumber.
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { router } from '../openapi.js';
import { text } from '../schemas.js';
import { phoneNumber, webhookErrors } from '../webhooks/schemas.js';
import type { Deliver } from './delivery.js';
import { auditTime, type Phase, type StatusCallback } from './lifecycle.js';
import { formParams, isValidTwilioSignature, signedUrl } from './twilio-signature.js';

const TWILIO_STATUSES = ['queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
type TwilioStatus = (typeof TWILIO_STATUSES)[number];
const PHASES: Record<TwilioStatus, Phase> = {
  queued: 'ringing',
  initiated: 'ringing',
  ringing: 'ringing',
  'in-progress': 'answered',
  completed: 'hangup',
  busy: 'busy',
  failed: 'failed',
  'no-answer': 'no_answer',
  canceled: 'canceled',
};

const TwilioStatusCallback = z
  .object({
    CallSid: z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'a Twilio CallSid'),
    CallStatus: z.enum(TWILIO_STATUSES),
    From: phoneNumber,
    To: phoneNumber.optional(),
    Direction: text().max(40).optional().openapi({ example: 'inbound' }),
    SequenceNumber: z
      .string()
      .regex(/^\d{1,9}$/, 'a non-negative integer')
      .optional(),
    Timestamp: text().max(100).optional().openapi({ example: 'Mon, 16 Aug 2010 03:45:01 +0000' }),
  })
  .openapi('TwilioStatusCallback', { description: 'Programmable Voice status callback; other Twilio parameters are accepted and ignored' });
type TwilioForm = z.infer<typeof TwilioStatusCallback>;

export const TwilioSignatureHeader = z.object({
  'x-twilio-signature': z.string().openapi({
    description:
      "base64 HMAC-SHA1 of the URL and sorted parameters, keyed by the auth token of the account that registered the request's AccountSid, else TWILIO_AUTH_TOKEN",
  }),
});

/** Outbound calls name their call in the StatusCallback URL; the signature covers the query. */
const CallQuery = z.object({
  callId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/)
    .optional()
    .openapi({ description: 'set by Callwright on the calls it places' }),
});

function toCallback(form: TwilioForm, placedFor?: string): StatusCallback {
  const direction = form.Direction?.startsWith('outbound') ? 'outbound' : 'inbound';
  return {
    provider: 'twilio',
    sid: form.CallSid,
    status: form.CallStatus,
    phase: PHASES[form.CallStatus],
    from: form.From,
    to: form.To || null,
    // Twilio says inbound, outbound-api or outbound-dial.
    direction,
    order: form.SequenceNumber === undefined ? undefined : Number(form.SequenceNumber),
    at: auditTime(form.Timestamp ? new Date(form.Timestamp) : undefined),
    ...(placedFor && direction === 'outbound' ? { placedFor } : {}),
  };
}

const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Route middleware runs before the body validators: nothing is parsed for an unsigned request. The token
 * is the one of the account that registered the request's AccountSid, else the environment's (the
 * `default` account's, and the platform's own Twilio account for every account).
 */
export function twilioSignature(settings: WebhookSettings): MiddlewareHandler {
  return async function twilioSignature(c, next) {
    const url = signedUrl(c.req.url, settings.publicBaseUrl);
    const params = formParams(await c.req.text());
    const sid = one(params.AccountSid);
    const account = sid && ACCOUNT_SID.test(sid) && settings.accounts ? await settings.accounts.byLookup('twilio', sid) : null;
    const token = account ? account.credentials.authToken : settings.twilioAuthToken;
    if (!isValidTwilioSignature(token, c.req.header('x-twilio-signature'), url, params)) {
      throw new ApiError('unauthorized', 'missing or invalid X-Twilio-Signature');
    }
    // An account's own token vouches for its own numbers only: it may not start or move another account's calls.
    const number = one(one(params.Direction)?.startsWith('outbound') ? params.From : params.To);
    if (account && number && (await settings.accounts!.ofNumber(number)) !== account.accountId) {
      throw new ApiError('unauthorized', "the number is not this Twilio account's");
    }
    await next();
  };
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

export function twilioRoutes(settings: WebhookSettings, deliver: Deliver) {
  const route = createRoute({
    method: 'post',
    path: '/twilio',
    tags: ['webhooks'],
    summary: 'Twilio Programmable Voice status callback',
    middleware: [twilioSignature(settings)],
    request: {
      query: CallQuery,
      headers: TwilioSignatureHeader,
      body: { content: { 'application/x-www-form-urlencoded': { schema: TwilioStatusCallback } }, required: true },
    },
    responses: {
      200: { description: 'accepted (empty TwiML)', content: { 'text/xml': { schema: { type: 'string' } } } },
      ...webhookErrors,
    },
  });
  return router().openapi(route, async (c) => {
    await deliver(toCallback(c.req.valid('form'), c.req.valid('query').callId));
    return c.body(EMPTY_TWIML, 200, { 'content-type': 'text/xml; charset=utf-8' });
  });
}
