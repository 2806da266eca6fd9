// Webhook payloads: validated after the signature is verified, and documented in /openapi.json.
import { z } from '@hono/zod-openapi';
import { CHANNELS, DIRECTIONS, DISPOSITIONS, ROLES } from '../../workflows/types.js';
import { text, time } from '../schemas.js';
import { TWILIO_STATUSES } from './twilio-events.js';

// Every string that reaches PostgreSQL refuses NUL (text() in api/schemas.ts says why).
const number = text().min(1).max(200);

export const TwilioStatusCallback = z
  .object({
    CallSid: z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'a Twilio CallSid'),
    CallStatus: z.enum(TWILIO_STATUSES),
    From: number,
    To: number.optional(),
    Direction: text().max(40).optional().openapi({ example: 'inbound' }),
    SequenceNumber: z.string().regex(/^\d{1,9}$/, 'a non-negative integer').optional(),
    Timestamp: text().max(100).optional().openapi({ example: 'Mon, 16 Aug 2010 03:45:01 +0000' }),
  })
  .openapi('TwilioStatusCallback', { description: 'Programmable Voice status callback; other Twilio parameters are accepted and ignored' });

export const TwilioSignatureHeader = z.object({
  'x-twilio-signature': z.string().openapi({ description: 'base64 HMAC-SHA1 of the URL and sorted parameters, keyed by TWILIO_AUTH_TOKEN' }),
});

export const FeedSignatureHeader = z.object({
  'x-signature': z.string().openapi({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, t + "." + raw body)>', example: 't=1700000000,v1=5f2b0e3c9a4d7e18b6c2f0a9d8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9' }),
});

const base = {
  eventId: text().min(1).max(200).openapi({ description: 'idempotency key: a repeated event changes nothing' }),
  callId: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only'),
  at: time().optional(),
};
const event = <T extends string, D extends z.ZodType>(type: T, data: D) => z.object({ ...base, type: z.literal(type), data });
const none = z.object({}).default({});

export const FeedEvent = z
  .discriminatedUnion('type', [
    event('call.started', z.object({ channel: z.enum(CHANNELS), from: number, to: number.nullable().optional(), direction: z.enum(DIRECTIONS).default('inbound') })),
    event('call.answered', none),
    event('call.turn', z.object({ role: z.enum(ROLES), text: text().min(1).max(8000) })),
    event('call.dropped', z.object({ reason: text().max(200).optional() }).default({})),
    event('call.resumed', none),
    event('call.ended', z.object({ disposition: z.enum(DISPOSITIONS).optional(), reason: text().max(200).optional() }).default({})),
  ])
  .openapi('WebhookEvent');
export type FeedEvent = z.infer<typeof FeedEvent>;

export const Accepted = z.object({ accepted: z.literal(true) }).openapi('Accepted');
