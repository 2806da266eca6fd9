// Vonage Voice API: JSON event webhooks signed by a JWT (HS256, VONAGE_SIGNATURE_SECRET) whose
// payload_hash is the SHA-256 of the body; ordered by timestamp.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { decodeJwt, jwtVerify } from 'jose';
import type { WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { router } from '../openapi.js';
import { text } from '../schemas.js';
import { phoneNumber, webhookErrors } from '../webhooks/schemas.js';
import type { Deliver } from './delivery.js';
import { auditTime, timeOrder, type Phase, type StatusCallback } from './lifecycle.js';

/** What each call status means, and its rank among statuses stamped at the same time. */
const STATUSES: Record<string, [Phase, number]> = {
  started: ['ringing', 0],
  ringing: ['ringing', 1],
  answered: ['answered', 2],
  completed: ['hangup', 3],
  busy: ['busy', 3],
  // An outgoing call cancelled by its originator before it was answered.
  cancelled: ['canceled', 3],
  // The recipient was unreachable or declined, or rang past the ringing timeout: nobody answered.
  unanswered: ['no_answer', 3],
  timeout: ['no_answer', 3],
  // Vonage refused to place the call, or it could not be connected.
  rejected: ['failed', 3],
  failed: ['failed', 3],
};
const CALL_STATUSES = Object.keys(STATUSES);
const isCallStatus = (status: string | undefined): status is string => status !== undefined && Object.hasOwn(STATUSES, status);

const VonageEvent = z
  .object({
    uuid: z
      .string()
      .regex(/^[A-Za-z0-9-]{8,64}$/, 'a Vonage call uuid')
      .optional()
      .openapi({ description: 'the leg; required with a call status' }),
    conversation_uuid: text().max(200).optional(),
    status: text()
      .max(100)
      .optional()
      .openapi({
        description:
          `a call status (${CALL_STATUSES.join(', ')}) moves the call; events without one ` +
          '(input, record, transfer, human/machine, errors) are accepted and change nothing',
        example: 'answered',
      }),
    from: phoneNumber.optional().openapi({ description: 'required with a call status', example: '447700900000' }),
    to: phoneNumber.optional().openapi({ example: '447700900001' }),
    direction: text().max(40).optional().openapi({ example: 'inbound' }),
    timestamp: text().max(100).optional().openapi({ example: '2020-01-01T12:00:00.000Z' }),
  })
  .superRefine((e, ctx) => {
    if (!isCallStatus(e.status)) return;
    if (!e.uuid) ctx.addIssue({ code: 'custom', path: ['uuid'], message: `required with status ${e.status}` });
    if (!e.from) ctx.addIssue({ code: 'custom', path: ['from'], message: `required with status ${e.status}` });
  })
  .openapi('VonageEvent', { description: 'Voice API event webhook; other fields are accepted and ignored' });
type VonageEvent = z.infer<typeof VonageEvent>;

export const VonageAuthHeader = z.object({
  authorization: z.string().openapi({
    description:
      'Bearer JWT signed HS256 with the signature secret of the account owning the number (else VONAGE_SIGNATURE_SECRET); its payload_hash claim is the hex SHA-256 of the body',
    example: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.signature',
  }),
});

/** Vonage writes E.164 without the +; with it, a number matches the numbers assigned to agents and other providers' callers. */
export const e164 = (n: string) => (/^[1-9]\d{6,14}$/.test(n) ? `+${n}` : n);

/** The callback for an event with a call status; null for the events that only inform. */
function toCallback(e: VonageEvent): StatusCallback | null {
  if (!isCallStatus(e.status)) return null;
  const [phase, rank] = STATUSES[e.status]!;
  const at = e.timestamp ? new Date(e.timestamp) : undefined;
  return {
    provider: 'vonage',
    sid: e.uuid!,
    status: e.status,
    phase,
    from: e164(e.from!),
    to: e.to ? e164(e.to) : null,
    direction: e.direction === 'outbound' ? 'outbound' : 'inbound',
    order: timeOrder(at, rank),
    at: auditTime(at),
  };
}

/** A signed webhook's token older than this is refused (a replay), as Vonage's own signatures expire. */
const MAX_TOKEN_AGE = '5m';

/** What payload_hash covers: the body, or for a GET (an answer_url) its query as a JSON object in order, as Vonage documents. */
async function signedPayload(c: Context): Promise<Uint8Array | string> {
  if (c.req.method !== 'GET') return new Uint8Array(await c.req.arrayBuffer());
  return JSON.stringify(Object.fromEntries(new URL(c.req.url).searchParams));
}

const utf8 = new TextDecoder();

/** The request's own fields, unverified: a GET's query, else the JSON body (nothing when it is not JSON). */
function namedFields(c: Context, payload: Uint8Array | string): Record<string, unknown> {
  if (typeof payload === 'string') return Object.fromEntries(new URL(c.req.url).searchParams);
  try {
    const value: unknown = JSON.parse(utf8.decode(payload));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The secrets that may have signed a request: the one of the account owning the number it names
 * (inbound `to`, outbound `from`), or, naming none (input and record events), the one of the account whose
 * API key the token's `api_key` claim carries; then the environment's, the platform's own application's.
 * An account's secret so vouches only for its own numbers.
 */
async function signingSecrets(settings: WebhookSettings, c: Context, payload: Uint8Array | string, token: string): Promise<string[]> {
  const secrets: string[] = [];
  const accounts = settings.accounts;
  if (accounts) {
    const fields = namedFields(c, payload);
    const number = fields.direction === 'outbound' ? fields.from : fields.to;
    if (typeof number === 'string' && number) {
      const own = await accounts.forNumber('vonage', e164(number));
      if (own) secrets.push(own.credentials.signatureSecret);
    } else {
      let apiKey: unknown;
      try {
        apiKey = decodeJwt(token).api_key;
      } catch {
        // not a JWT: refused below
      }
      const own = typeof apiKey === 'string' && apiKey ? await accounts.byLookup('vonage', apiKey) : null;
      if (own) secrets.push(own.credentials.signatureSecret);
    }
  }
  if (settings.vonageSignatureSecret) secrets.push(settings.vonageSignatureSecret);
  return secrets;
}

/**
 * Verifies the JWT and the body's hash before the route's validator reads the body (it is read unverified
 * only to find whose secret applies); without a secret every request is refused.
 */
export function vonageSignature(settings: WebhookSettings): MiddlewareHandler {
  return async function vonageSignature(c, next) {
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!token) throw new ApiError('unauthorized', 'missing bearer token');
    const payload = await signedPayload(c);
    const secrets = await signingSecrets(settings, c, payload, token);
    if (!secrets.length) throw new ApiError('unauthorized', 'Vonage webhooks are not configured (VONAGE_SIGNATURE_SECRET)');
    let claims: Record<string, unknown> | undefined;
    for (const secret of secrets) {
      try {
        const verified = await jwtVerify(token, new TextEncoder().encode(secret), {
          algorithms: ['HS256'],
          maxTokenAge: MAX_TOKEN_AGE,
          clockTolerance: '30s',
        });
        claims = verified.payload;
        break;
      } catch {
        // the next secret, if any
      }
    }
    if (!claims) throw new ApiError('unauthorized', 'invalid or expired signature token');
    // A GET has no body: its token may carry no payload_hash, and its signature still holds.
    if (c.req.method === 'GET' && claims.payload_hash === undefined) return next();
    const hash = createHash('sha256').update(payload).digest();
    const claimed =
      typeof claims.payload_hash === 'string' && /^[0-9a-f]{64}$/i.test(claims.payload_hash)
        ? Buffer.from(claims.payload_hash, 'hex')
        : null;
    if (!claimed || !timingSafeEqual(claimed, hash)) throw new ApiError('unauthorized', 'payload_hash does not match the body');
    await next();
  };
}

export function vonageRoutes(settings: WebhookSettings, deliver: Deliver) {
  const route = createRoute({
    method: 'post',
    path: '/vonage',
    tags: ['webhooks'],
    summary: 'Vonage Voice API event webhook',
    middleware: [vonageSignature(settings)],
    request: { headers: VonageAuthHeader, body: { content: { 'application/json': { schema: VonageEvent } }, required: true } },
    // Vonage may read an event webhook's answer as a new NCCO (after an input action): the body stays empty.
    responses: { 200: { description: 'accepted (empty body)' }, ...webhookErrors },
  });
  return router().openapi(route, async (c) => {
    const cb = toCallback(c.req.valid('json'));
    if (cb) await deliver(cb);
    return c.body(null, 200);
  });
}
