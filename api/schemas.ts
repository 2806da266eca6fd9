// Request and response schemas: validation and the OpenAPI document come from the same source.
import { z } from '@hono/zod-openapi';
import { parseDuration } from '../config/duration.js';
import { CHANNELS, DIRECTIONS, DISPOSITIONS, RECORDED_EVENT_TYPES, ROLES, STATUSES, VOICE_MODES } from '../workflows/types.js';

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only');
export const phone = z
  .string()
  .min(3)
  .max(64)
  .regex(/^[+\w.@:-]+$/, 'a phone number or chat handle');
export const accountId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and - (not first)');
/** The platform key names the account it acts in or reads; an account's own key may name only its own. */
export const accountQuery = accountId
  .optional()
  .openapi({ description: "platform key: the account to act in or read (default: every account's reads, 'default' for writes)" });
// PostgreSQL text and jsonb refuse NUL: a NUL that got into a workflow would fail its record activity forever.
const NO_NUL = /^[^\u0000]*$/;
export const text = () => z.string().regex(NO_NUL, 'must not contain NUL (\\u0000)');
const key = text().min(1).max(200);
const MAX_DEPTH = 32;
/** What jsonb stores: no NUL in keys or strings, nesting no deeper than a person writes. */
function storable(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !value.includes('\u0000');
  if (value === null || typeof value !== 'object') return true;
  return depth < MAX_DEPTH && Object.entries(value).every(([k, v]) => !k.includes('\u0000') && storable(v, depth + 1));
}
const metadata = z.record(z.string(), z.unknown()).refine((m) => storable(m), `no NUL (\\u0000), at most ${MAX_DEPTH} levels deep`);
/**
 * An ISO 8601 time PostgreSQL's timestamptz can store. ISO allows offsets to ±23:59 and the year 0000;
 * PostgreSQL refuses both, and a time that passed here but not there would stop the call's recording.
 */
export const time = () =>
  z.string().datetime({ offset: true }).refine(storableTime, 'a time with a UTC offset within ±15:59 and a year from 0001 to 9999');

export function storableTime(iso: string): boolean {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(iso);
  if (offset && Number(offset[2]) * 60 + Number(offset[3]) > 15 * 60 + 59) return false;
  return /^\d{4}-/.test(iso) && Number(iso.slice(0, 4)) >= 1;
}

export const CallIdParam = z.object({ callId: id.openapi({ param: { name: 'callId', in: 'path' } }) });

export const TurnSchema = z.object({ seq: z.number().int(), role: z.enum(ROLES), text: z.string(), at: z.string() }).openapi('Turn');

export const CallViewSchema = z
  .object({
    callId: z.string(),
    accountId: z.string().openapi({ description: 'the account the call belongs to' }),
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
    agent: z
      .object({ agentId: z.string(), version: z.number().int(), name: z.string() })
      .nullable()
      .openapi({ description: 'the agent the call was started with' }),
    durationSeconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'answered to ended, in whole seconds; null while open or when never answered' }),
    recording: z
      .object({ url: z.string(), durationSeconds: z.number().int().nullable() })
      .nullable()
      .optional()
      .openapi({ description: "the provider's recording of the call (an agent with record: true), once it is ready" }),
  })
  .passthrough()
  .openapi('Call');

export const StartCallBody = z
  .object({
    callId: id.optional(),
    channel: z.enum(CHANNELS),
    from: phone
      .optional()
      .openapi({ description: "the caller: required with the operators' key (400 without); a chat token's own number when absent" }),
    to: phone.optional(),
    direction: z
      .enum(DIRECTIONS)
      .default('inbound')
      .openapi({
        description:
          'outbound: Callwright places the call through Twilio, from `from` to `to` ' +
          '(a voice call; operators only; 400 when outbound calling is not configured)',
      }),
    answered: z.boolean().optional(),
    metadata: metadata.optional(),
    agentId: id
      .optional()
      .openapi({ description: "the agent to answer the call; default: the agent of the call's own number (to, inbound; from, outbound)" }),
    accountId: accountQuery,
    new: z.boolean().optional().openapi({
      description:
        "a chat token's chat start resumes its caller's dropped chat call while its window is open (200, from any device); true starts a new call instead",
    }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.direction !== 'outbound') return;
    // Outbound means dialing someone's phone: it rings until they answer.
    if (b.channel !== 'voice') ctx.addIssue({ code: 'custom', path: ['channel'], message: 'an outbound call is a voice call' });
    if (!b.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'the number to dial is required for an outbound call' });
    if (b.answered) ctx.addIssue({ code: 'custom', path: ['answered'], message: 'an outbound call rings until it is answered' });
  })
  .openapi('StartCall');

export const MessageBody = z
  .object({ text: text().trim().min(1).max(4000), messageId: key.optional() })
  .strict()
  .openapi('ChatMessage');
export const MessageReplySchema = z.object({ reply: TurnSchema, call: CallViewSchema }).openapi('MessageReply');

export const VoiceTurnBody = z
  .object({ role: z.enum(ROLES), text: text().min(1).max(8000), eventId: key.optional(), at: time().optional() })
  .strict()
  .openapi('VoiceTurn');
export const DropBody = z
  .object({ reason: text().max(200).optional(), eventId: key.optional() })
  .strict()
  .openapi('Drop');
/** The drop as a closing page's beacon sends it: a form that carries its own token (RFC 6750 §2.2), since a beacon sets no headers. */
export const DropForm = z
  .object({
    access_token: z
      .string()
      .max(4096)
      .optional()
      .openapi({ description: "the chat client's JWT, when no Authorization header can be sent" }),
    reason: text().max(200).optional(),
    eventId: key.optional(),
  })
  .strict()
  .openapi('DropForm');
export const ResumeBody = z.object({ eventId: key.optional() }).strict().openapi('Resume');
export const EndBody = z
  .object({ disposition: z.enum(DISPOSITIONS).optional(), reason: text().max(200).optional(), eventId: key.optional() })
  .strict()
  .openapi('End');
/** Where a call is handed to a person: a phone number or a SIP address. */
const personAddress = z.string().regex(/^(\+[1-9][0-9]{6,14}|sip:[^\s<>]{3,200})$/, 'an E.164 number like +15551234567 or a sip: address');
export const TransferBody = z
  .object({ to: personAddress.openapi({ example: '+15551234567' }), eventId: key.optional() })
  .strict()
  .openapi('Transfer');

export const StreamHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d{1,9}$/, 'the id of the last turn event received')
    .optional()
    .openapi({ description: 'resume after this turn seq (EventSource sends it when it reconnects)', example: '12' }),
});
export const StreamSchema = z.string().openapi({
  description:
    'Server-Sent Events: `event: call` (data: the call view) whenever it changes; `event: turn` (data: a turn, ' +
    'id: its seq) for each turn; comment lines as heartbeats. Ends after a view whose status is ended, or when the call closes.',
  example: [
    'event: turn\ndata: {"seq":1,"role":"user","text":"hello","at":"2026-01-01T00:00:00.000Z"}\nid: 1\n',
    'event: call\ndata: {"callId":"c1","status":"active",...}\n\n',
  ].join('\n'),
});

/** The Idempotency-Key header stands in for eventId or messageId, with the same limits. */
export const IdempotencyHeaders = z.object({ 'idempotency-key': key.optional() });

export const TurnsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^\d{1,9}$/, 'a cursor from nextCursor')
      .optional()
      .openapi({
        description: 'the nextCursor of the previous page: turns after that sequence (0 starts from the first turn)',
        example: '50',
      }),
  })
  .strict();
export const TurnsPage = z.object({ turns: z.array(TurnSchema), nextCursor: z.string().nullable() }).openapi('TurnsPage');

export const ListCallsQuery = z
  .object({
    accountId: accountQuery,
    status: z.enum(STATUSES).optional(),
    channel: z.enum(CHANNELS).optional(),
    from: phone.optional().openapi({ description: 'caller number; URL-encode a leading + as %2B' }),
    since: time().optional().openapi({ description: 'started at or after (ISO 8601)' }),
    until: time().optional().openapi({ description: 'started before (ISO 8601)' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(400)
      .regex(/^[A-Za-z0-9_-]+$/, 'a cursor from nextCursor')
      .optional()
      .openapi({ description: 'opaque: the nextCursor of the previous page, as given (any other value is a 400)' }),
  })
  .strict()
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    message: 'since must be before until',
    path: ['until'],
  });
export const CallsPage = z.object({ calls: z.array(CallViewSchema), nextCursor: z.string().nullable() }).openapi('CallsPage');

export const StatsQuery = z
  .object({
    accountId: accountQuery,
    days: z.coerce.number().int().min(1).max(31).default(7).openapi({ description: 'window in UTC days, today included' }),
  })
  .strict();
const rate = z.number().nullable().openapi({ description: 'between 0 and 1; null when nothing to measure' });
const seconds = z.number().nullable();
const ChannelStats = z.object({
  calls: z.number().int(),
  active: z.number().int(),
  droppedNow: z.number().int(),
  avgDurationSeconds: seconds,
});
export const StatsSchema = z
  .object({
    active: z.number().int().openapi({ description: 'calls active now' }),
    ringing: z.number().int(),
    droppedNow: z.number().int().openapi({ description: 'calls dropped now, waiting for a callback' }),
    resumeRate: rate.openapi({ description: 'resumed drops / drops no longer waiting, in the window' }),
    abandonRate: rate.openapi({ description: 'abandoned / ended calls, in the window' }),
    avgDurationSeconds: seconds.openapi({ description: 'ended calls in the window, start to end' }),
    p95DurationSeconds: seconds,
    avgTurnsPerCall: z.number().nullable(),
    callsPerDay: z.array(z.object({ day: z.string(), voice: z.number().int(), chat: z.number().int(), total: z.number().int() })),
    byChannel: z.object({ voice: ChannelStats, chat: ChannelStats }),
    window: z.object({ since: z.string(), until: z.string(), days: z.number().int() }),
    platform: z
      .object({
        accountsByStatus: z.object({ active: z.number().int(), suspended: z.number().int() }),
        accounts: z.array(
          z.object({
            accountId: z.string(),
            name: z.string(),
            status: z.enum(['active', 'suspended']),
            active: z.number().int(),
            ringing: z.number().int(),
            droppedNow: z.number().int(),
            calls: z.number().int().openapi({ description: 'calls started in the window' }),
          }),
        ),
      })
      .optional()
      .openapi({ description: 'the platform key reading every account: accounts by status and each one beside the others' }),
  })
  .openapi('Stats');

export const TokenRequest = z
  .object({ subject: phone.openapi({ description: "the caller number the token's holder may act as" }) })
  .strict()
  .openapi('TokenRequest');
export const TokenSchema = z.object({ token: z.string(), expiresAt: z.string() }).openapi('Token');

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

export const NumberParam = z.object({
  number: phone.openapi({
    param: { name: 'number', in: 'path' },
    description: 'the caller number; URL-encode a leading + as %2B',
    example: '+15551234567',
  }),
});
const profileFields = {
  name: text().trim().min(1).max(200).nullable().optional(),
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag like en or pt-BR')
    .nullable()
    .optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'a locale like en-US')
    .nullable()
    .optional(),
  tags: z.array(text().min(1).max(64)).max(50).optional(),
  metadata: metadata.optional(),
};
export const CallerBody = z.object(profileFields).strict().openapi('CallerProfile');
export const CallerPatch = z
  .object(profileFields)
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'give at least one field to change' })
  .openapi('CallerPatch');
export const CallerSchema = z
  .object({
    number: z.string(),
    name: z.string().nullable(),
    language: z.string().nullable(),
    locale: z.string().nullable(),
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Caller');
export const EraseQuery = z
  .object({
    accountId: accountQuery,
    erase: z.enum(['transcripts']).optional().openapi({
      description: "also replace the text of every turn of the caller's ended calls with [erased] and delete their recordings",
    }),
  })
  .strict();
export const Erased = z
  .object({ erased: z.object({ calls: z.number().int(), turns: z.number().int(), recordings: z.number().int() }) })
  .openapi('Erased');

export const EventsQuery = z
  .object({
    type: z.enum(RECORDED_EVENT_TYPES).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .regex(/^\d{1,9}$/, 'a cursor from nextCursor')
      .optional()
      .openapi({ description: 'the nextCursor of the previous page: events after that sequence' }),
  })
  .strict();
export const EventSchema = z
  .object({
    seq: z.number().int(),
    key: z.string(),
    type: z.string(),
    applied: z.boolean(),
    occurredAt: z.string(),
    recordedAt: z.string(),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi('CallEvent');
export const EventsPage = z.object({ events: z.array(EventSchema), nextCursor: z.string().nullable() }).openapi('EventsPage');

const duration = z
  .string()
  .max(20)
  .refine((d) => parseDuration(d) !== null, 'a duration like 90s, 10m or 1h')
  .openapi({ example: '10m' });
const responderConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('scripted') }).strict(),
  z
    .object({
      kind: z.literal('openai'),
      model: text().min(1).max(100),
      temperature: z.number().min(0).max(2).optional(),
      maxTokens: z.number().int().min(1).max(32_000).optional(),
    })
    .strict(),
]);
const agentFields = {
  prompt: text().max(8000),
  firstMessage: text().min(1).max(2000),
  language: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag like en or pt-BR'),
  responder: responderConfig,
  script: z
    .object({
      slots: z
        .array(z.object({ name: z.string().regex(/^\w{1,40}$/, 'letters, digits, _'), ask: text().min(1).max(500) }).strict())
        .min(1)
        .max(20),
      done: text().max(2000).optional(),
    })
    .strict(),
  topics: z.array(text().min(1).max(60)).max(100),
  resumeWindow: duration,
  idleTimeout: duration,
  reportUrl: z
    .string()
    .max(2000)
    .refine((u) => URL.canParse(u) && ['http:', 'https:'].includes(new URL(u).protocol), 'an http:// or https:// URL')
    .openapi({
      description: 'where the end-of-call report is POSTed (over REPORT_URL)',
      example: 'https://example.com/callwright/reports',
    }),
  voice: z
    .object({ mode: z.enum(VOICE_MODES) })
    .strict()
    .openapi({ description: 'how a hosted voice call converses: Twilio <Gather> (default) or ConversationRelay' }),
  transfer: z
    .object({
      to: personAddress,
      phrases: z.array(text().trim().min(1).max(60)).min(1).max(20).optional(),
      digit: z
        .string()
        .regex(/^[0-9*#]$/, 'one key: 0-9, * or #')
        .optional(),
    })
    .strict()
    .openapi({ description: 'hand the caller to a person when they ask (phrases) or press digit' }),
  record: z.boolean().openapi({ description: "record the agent's calls at the provider" }),
};
type AgentFields = typeof agentFields;
const optional = <T extends Record<string, z.ZodType>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
const removable = <T extends Record<string, z.ZodType>>(fields: T) =>
  Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.nullable().optional()])) as {
    [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>>;
  };
export const AgentIdParam = z.object({ agentId: id.openapi({ param: { name: 'agentId', in: 'path' } }) });
export const AgentBody = z
  .object({ agentId: id.optional(), accountId: accountQuery, name: text().trim().min(1).max(200), ...optional<AgentFields>(agentFields) })
  .strict()
  .openapi('NewAgent');
export const AgentPatch = z
  .object({ name: text().trim().min(1).max(200).optional(), ...removable<AgentFields>(agentFields) })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'give at least one field to change (null removes one)' })
  .openapi('AgentPatch');
export const AgentSchema = z
  .object({
    agentId: z.string(),
    accountId: z.string(),
    version: z.number().int(),
    name: z.string(),
    ...optional<AgentFields>(agentFields),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Agent');
export const AgentList = z.object({ agents: z.array(AgentSchema) }).openapi('AgentList');
/** A phone number a provider routes to an agent: E.164, a + and up to 15 digits. */
export const E164Param = z.object({
  number: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 phone number like +15551234567')
    .openapi({ param: { name: 'number', in: 'path' }, description: 'URL-encode the leading + as %2B', example: '+15551234567' }),
});
export const NumberBody = z
  .object({ agentId: id, tags: z.array(text().min(1).max(64)).max(50).optional() })
  .strict()
  .openapi('NumberAssignment');
export const NumberSchema = z
  .object({
    number: z.string(),
    accountId: z.string(),
    agentId: z.string(),
    tags: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Number');
export const NumberList = z.object({ numbers: z.array(NumberSchema) }).openapi('NumberList');
