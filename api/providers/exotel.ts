// Exotel: form-encoded status callbacks. Exotel signs nothing, so its callback URL carries HTTP Basic
// credentials; callbacks are ordered by DateUpdated.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { json, router } from '../openapi.js';
import { text } from '../schemas.js';
import { Accepted, phoneNumber, webhookErrors } from '../webhooks/schemas.js';
import type { Deliver } from './delivery.js';
import { auditTime, timeOrder, type Phase, type StatusCallback } from './lifecycle.js';
import { formParams } from './twilio-signature.js';

// Status callbacks say ringing, in-progress and the terminal statuses; queued and canceled are Exotel's too.
const EXOTEL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
type ExotelStatus = (typeof EXOTEL_STATUSES)[number];
/** What each status means, and its rank among statuses stamped in the same second. */
const STATUSES: Record<ExotelStatus, [Phase, number]> = {
  queued: ['ringing', 0],
  ringing: ['ringing', 1],
  'in-progress': ['answered', 2],
  completed: ['hangup', 3],
  busy: ['busy', 3],
  failed: ['failed', 3],
  'no-answer': ['no_answer', 3],
  canceled: ['canceled', 3],
};

const ExotelStatusCallback = z
  .object({
    CallSid: z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'an Exotel CallSid'),
    Status: z.enum(EXOTEL_STATUSES),
    From: phoneNumber.optional().openapi({ description: 'the caller; CallFrom in some Exotel callbacks', example: '09876543210' }),
    CallFrom: phoneNumber.optional(),
    To: phoneNumber.optional().openapi({ description: 'the number called; CallTo in some Exotel callbacks', example: '08030752400' }),
    CallTo: phoneNumber.optional(),
    Direction: text().max(40).optional().openapi({ example: 'incoming' }),
    DateUpdated: text()
      .max(40)
      .optional()
      .openapi({ description: 'YYYY-MM-DD HH:mm:ss, India Standard Time', example: '2024-01-15 14:30:45' }),
  })
  .refine((f) => f.From || f.CallFrom, { path: ['From'], message: 'From or CallFrom is required' })
  .openapi('ExotelStatusCallback', { description: 'Exotel call status callback; other Exotel parameters are accepted and ignored' });
type ExotelForm = z.infer<typeof ExotelStatusCallback>;

const ExotelAuthHeader = z.object({
  authorization: z.string().openapi({
    description:
      'Basic base64(EXOTEL_WEBHOOK_USER:EXOTEL_WEBHOOK_PASSWORD), or the webhook credentials of the account owning the number, ' +
      'sent by Exotel from credentials in the callback URL ' +
      '(https://user:password@host/v1/webhooks/exotel)',
    example: 'Basic ZXhvdGVsOnMzY3JldA==',
  }),
});

/**
 * Exotel stamps times `YYYY-MM-DD HH:mm:ss` in India Standard Time (its own placeholder EndTime,
 * 1970-01-01 05:30:00, is the epoch there). Only differences matter for ordering.
 */
function exotelTime(value: string | undefined): Date | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(value ?? '');
  return match ? new Date(`${match[1]}T${match[2]}+05:30`) : undefined;
}

function toCallback(form: ExotelForm): StatusCallback {
  const [phase, rank] = STATUSES[form.Status];
  const at = exotelTime(form.DateUpdated);
  return {
    provider: 'exotel',
    sid: form.CallSid,
    status: form.Status,
    phase,
    from: (form.From || form.CallFrom)!,
    to: form.To || form.CallTo || null,
    // Exotel says incoming, outbound-dial or outbound-api.
    direction: form.Direction?.startsWith('outbound') ? 'outbound' : 'inbound',
    order: timeOrder(at, rank),
    at: auditTime(at),
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();
/** Equal digests compare in constant time whatever the lengths, so neither credential's length leaks. */
const sameSecret = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]{1,1024})$/i.exec(header ?? '')?.[1];
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * The credentials a callback may carry: those of the account owning the number it names (the number
 * called, or calling for an outbound call), then the environment's, the platform's own Exotel account's.
 */
async function expectedCredentials(settings: WebhookSettings, c: Context): Promise<{ user: string; password: string }[]> {
  const expected: { user: string; password: string }[] = [];
  if (settings.accounts) {
    const form = formParams(await c.req.text());
    const outbound = one(form.Direction)?.startsWith('outbound');
    const number = outbound ? one(form.From) || one(form.CallFrom) : one(form.To) || one(form.CallTo);
    const own = number ? await settings.accounts.forNumber('exotel', number) : null;
    if (own) expected.push({ user: own.credentials.webhookUser, password: own.credentials.webhookPassword });
  }
  if (settings.exotel) expected.push(settings.exotel);
  return expected;
}

/** Before the body is validated; without any configured credentials every request is refused. */
function exotelAuth(settings: WebhookSettings): MiddlewareHandler {
  return async function exotelAuth(c, next) {
    const given = basicCredentials(c.req.header('authorization'));
    const expected = given ? await expectedCredentials(settings, c) : settings.exotel ? [settings.exotel] : [];
    // Both halves of every candidate are always compared: which one was wrong takes no more time to find out.
    const ok = given
      ? expected.map((e) => [sameSecret(given.user, e.user), sameSecret(given.password, e.password)].every(Boolean)).some(Boolean)
      : false;
    if (!ok) {
      const reason =
        expected.length || settings.exotel
          ? 'missing or invalid Basic credentials'
          : 'Exotel webhooks are not configured (EXOTEL_WEBHOOK_USER, EXOTEL_WEBHOOK_PASSWORD)';
      throw new ApiError('unauthorized', reason, undefined, { 'WWW-Authenticate': 'Basic realm="callwright", charset="UTF-8"' });
    }
    await next();
  };
}

export function exotelRoutes(settings: WebhookSettings, deliver: Deliver) {
  const route = createRoute({
    method: 'post',
    path: '/exotel',
    tags: ['webhooks'],
    summary: 'Exotel call status callback',
    middleware: [exotelAuth(settings)],
    request: {
      headers: ExotelAuthHeader,
      body: { content: { 'application/x-www-form-urlencoded': { schema: ExotelStatusCallback } }, required: true },
    },
    responses: { 200: json(Accepted, 'accepted'), ...webhookErrors },
  });
  return router().openapi(route, async (c) => {
    await deliver(toCallback(c.req.valid('form')));
    return c.json({ accepted: true as const }, 200);
  });
}
