// Request and response schemas: validation and the OpenAPI document come from the same source.
import { z } from '@hono/zod-openapi';
import { CHANNELS, DIRECTIONS, DISPOSITIONS, ROLES, STATUSES } from '../workflows/types.js';

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only');
export const phone = z.string().min(3).max(64).regex(/^[+\w.@:-]+$/, 'a phone number or chat handle');
const key = z.string().min(1).max(200);
const time = z.string().datetime({ offset: true });

export const CallIdParam = z.object({ callId: id.openapi({ param: { name: 'callId', in: 'path' } }) });

export const TurnSchema = z.object({ seq: z.number().int(), role: z.enum(ROLES), text: z.string(), at: z.string() }).openapi('Turn');

export const CallViewSchema = z
  .object({
    callId: z.string(),
    status: z.enum(STATUSES),
    disposition: z.enum(DISPOSITIONS).nullable(),
    channel: z.enum(CHANNELS),
    direction: z.enum(DIRECTIONS),
    from: z.string(),
    to: z.string().nullable(),
    startedAt: z.string(),
    answeredAt: z.string().nullable(),
    droppedAt: z.string().nullable(),
    resumeDeadline: z.string().nullable(),
    endedAt: z.string().nullable(),
    turnCount: z.number().int(),
    dropCount: z.number().int(),
    resumeCount: z.number().int(),
    context: z.record(z.string(), z.unknown()),
    legs: z.array(z.string()),
  })
  .passthrough()
  .openapi('Call');

export const StartCallBody = z
  .object({
    callId: id.optional(),
    channel: z.enum(CHANNELS),
    from: phone.optional(),
    to: phone.optional(),
    direction: z.enum(DIRECTIONS).default('inbound'),
    answered: z.boolean().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi('StartCall');

export const MessageBody = z.object({ text: z.string().trim().min(1).max(4000), messageId: key.optional() }).strict().openapi('ChatMessage');
export const MessageReplySchema = z.object({ reply: TurnSchema, call: CallViewSchema }).openapi('MessageReply');

export const VoiceTurnBody = z
  .object({ role: z.enum(ROLES), text: z.string().min(1).max(8000), eventId: key.optional(), at: time.optional() })
  .strict()
  .openapi('VoiceTurn');
export const DropBody = z.object({ reason: z.string().max(200).optional(), eventId: key.optional() }).strict().openapi('Drop');
export const ResumeBody = z.object({ eventId: key.optional() }).strict().openapi('Resume');
export const EndBody = z.object({ disposition: z.enum(DISPOSITIONS).optional(), reason: z.string().max(200).optional(), eventId: key.optional() }).strict().openapi('End');

export const TurnsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d{1,9}$/, 'a cursor from nextCursor').optional(),
});
export const TurnsPage = z.object({ turns: z.array(TurnSchema), nextCursor: z.string().nullable() }).openapi('TurnsPage');

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');
