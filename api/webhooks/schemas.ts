// Webhook payloads (the generic feed) and what every webhook route shares: validated after the signature is verified, documented in /openapi.json.
import { z } from '@hono/zod-openapi';
import { CHANNELS, DIRECTIONS, DISPOSITIONS, ROLES } from '../../workflows/types.js';
import { json } from '../openapi.js';
import { ErrorSchema, text, time } from '../schemas.js';

// Every string that reaches PostgreSQL refuses NUL (text() in api/schemas.ts says why).
export const phoneNumber = text().min(1).max(200);

const err = (description: string) => json(ErrorSchema, description);
/** The error answers every webhook may give; providers retry them (a 401 until the secret is right). */
export const webhookErrors = {
  400: err('invalid payload'),
  401: err('missing or invalid signature or credentials'),
  403: err("account_suspended: the call's account is suspended and starts nothing"),
  413: err('body too large'),
  429: err("concurrency_limit: a start over its account's limit of open calls"),
  503: err('a dependency is unavailable; retry'),
};

export const FeedSignatureHeader = z.object({
  'x-signature': z.string().openapi({
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, t + "." + raw body)>',
    example: 't=1700000000,v1=5f2b0e3c9a4d7e18b6c2f0a9d8e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9',
  }),
});

const base = {
  eventId: text().min(1).max(200).openapi({ description: 'idempotency key: a repeated event changes nothing' }),
  callId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only'),
  at: time().optional(),
};
const event = <T extends string, D extends z.ZodType>(type: T, data: D) => z.object({ ...base, type: z.literal(type), data });
const none = z.object({}).default({});

export const FeedEvent = z
  .discriminatedUnion('type', [
    event(
      'call.started',
      z.object({
        channel: z.enum(CHANNELS),
        from: phoneNumber,
        to: phoneNumber.nullable().optional(),
        direction: z.enum(DIRECTIONS).default('inbound'),
      }),
    ),
    event('call.answered', none),
    event('call.turn', z.object({ role: z.enum(ROLES), text: text().min(1).max(8000) })),
    event('call.dropped', z.object({ reason: text().max(200).optional() }).default({})),
    event('call.resumed', none),
    event('call.ended', z.object({ disposition: z.enum(DISPOSITIONS).optional(), reason: text().max(200).optional() }).default({})),
  ])
  .openapi('WebhookEvent');
export type FeedEvent = z.infer<typeof FeedEvent>;

export const Accepted = z.object({ accepted: z.literal(true) }).openapi('Accepted');
