// Chat clients and operators: start, read, message, drop, resume, end; operators also transfer a hosted call.
import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { readCall, readTurns } from '../../store/call-reader.js';
import { reaches } from '../../store/scope.js';
import { selectDroppedChatOf, selectEvents } from '../../store/calls-table.js';
import type { CallEvent, CallView } from '../../workflows/types.js';
import { actingIn } from '../acting.js';
import { assertOwner, scopeOf, type AuthEnv, type Principal } from '../auth.js';
import { prepareStart, takeLineOrRefuse } from '../call-start.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { CallFeed } from '../live/call-feed.js';
import { openCallStream } from '../live/call-stream.js';
import { bearer, body, callErrors, errors, json, noAccount, router } from '../openapi.js';
import {
  CallIdParam,
  CallViewSchema,
  DropBody,
  DropForm,
  ErrorSchema,
  EventsPage,
  EventsQuery,
  EndBody,
  IdempotencyHeaders,
  MessageBody,
  MessageReplySchema,
  ResumeBody,
  StartCallBody,
  StreamHeaders,
  StreamSchema,
  TransferBody,
  TurnsPage,
  TurnsQuery,
  VoiceTurnBody,
} from '../schemas.js';

const tags = ['calls'];
const route = <R extends Parameters<typeof createRoute>[0]>(r: R) => createRoute({ tags, security: bearer, ...r });

const startRoute = route({
  method: 'post',
  path: '/',
  summary: 'Start a call (idempotent on callId)',
  request: { body: body(StartCallBody) },
  responses: {
    201: json(CallViewSchema, 'started'),
    200: json(CallViewSchema, "already exists; for a chat token's chat start, its dropped chat call resumed"),
    ...noAccount,
    409: json(ErrorSchema, 'the callId is in use by another account'),
    ...errors,
  },
});
const getRoute = route({
  method: 'get',
  path: '/{callId}',
  summary: 'The call view',
  request: { params: CallIdParam },
  responses: { 200: json(CallViewSchema), ...callErrors },
});
const turnsRoute = route({
  method: 'get',
  path: '/{callId}/turns',
  summary: 'The transcript, oldest first, cursor-paginated',
  request: { params: CallIdParam, query: TurnsQuery },
  responses: { 200: json(TurnsPage), ...callErrors },
});
const eventsRoute = route({
  method: 'get',
  path: '/{callId}/events',
  summary: "The call's audit trail, oldest first, cursor-paginated",
  request: { params: CallIdParam, query: EventsQuery },
  responses: { 200: json(EventsPage), ...callErrors },
});
const messageRoute = route({
  method: 'post',
  path: '/{callId}/messages',
  summary: "Send a chat message; returns the assistant's reply",
  request: { params: CallIdParam, headers: IdempotencyHeaders, body: body(MessageBody) },
  responses: { 200: json(MessageReplySchema), 410: json(ErrorSchema, 'resume window expired'), ...callErrors },
});
const voiceTurnRoute = route({
  method: 'post',
  path: '/{callId}/turns',
  summary: 'Record a transcribed voice turn',
  request: { params: CallIdParam, headers: IdempotencyHeaders, body: body(VoiceTurnBody) },
  responses: { 202: json(CallViewSchema.pick({ callId: true }), 'accepted'), ...callErrors },
});
const streamRoute = route({
  method: 'get',
  path: '/{callId}/stream',
  summary: 'Live updates as Server-Sent Events (call views and turns; Last-Event-ID resumes after a turn)',
  request: { params: CallIdParam, headers: StreamHeaders },
  responses: { 200: { description: 'an event stream', content: { 'text/event-stream': { schema: StreamSchema } } }, ...callErrors },
});
const dropRoute = route({
  method: 'post',
  path: '/{callId}/drop',
  summary: 'Report a disconnect (JSON, or a form with access_token from a closing page)',
  request: {
    params: CallIdParam,
    headers: IdempotencyHeaders,
    body: {
      content: { 'application/json': { schema: DropBody }, 'application/x-www-form-urlencoded': { schema: DropForm } },
      required: false,
    },
  },
  responses: { 200: json(CallViewSchema), ...callErrors },
});
const resumeRoute = route({
  method: 'post',
  path: '/{callId}/resume',
  summary: 'Resume a dropped call within its window',
  request: { params: CallIdParam, headers: IdempotencyHeaders, body: body(ResumeBody, false) },
  responses: { 200: json(CallViewSchema), 410: json(ErrorSchema, 'resume window expired'), ...callErrors },
});
const endRoute = route({
  method: 'post',
  path: '/{callId}/end',
  summary: 'End the call with a disposition',
  request: { params: CallIdParam, headers: IdempotencyHeaders, body: body(EndBody, false) },
  responses: { 200: json(CallViewSchema), ...callErrors },
});

const transferRoute = route({
  method: 'post',
  path: '/{callId}/transfer',
  summary: 'Hand a live hosted Twilio call to a person (operators): Twilio says a line and dials `to`',
  request: { params: CallIdParam, headers: IdempotencyHeaders, body: body(TransferBody) },
  responses: { 200: json(CallViewSchema), ...callErrors },
});

/** A client-supplied key, or the Idempotency-Key header, or a fresh one: every event carries a key. */
function eventKey(given: string | undefined, header: string | undefined, kind: string): string {
  return given ?? (header ? `${kind}:${header}` : `${kind}:${randomUUID()}`);
}

const HEARTBEAT_MS = 15_000;

export function callRoutes({
  gateway,
  stores,
  outboundCalls,
  logger,
  feed = new CallFeed(stores.redis, logger),
  streamHeartbeatMs = HEARTBEAT_MS,
}: ApiDeps): OpenAPIHono<AuthEnv> {
  const streams = { stores, feed, logger, heartbeatMs: streamHeartbeatMs, isRunning: (callId: string) => gateway.isRunning(callId) };
  /** Loads the call and checks the principal may reach it: another account's call is a 404, as if absent. */
  async function owned(principal: Principal, callId: string): Promise<CallView> {
    const scope = scopeOf(principal);
    // Calls a webhook just started may not be persisted yet: the workflow knows them.
    const call = (await readCall(stores, scope, callId)) ?? (await gateway.unrecordedView(callId));
    if (!reaches(scope, call.accountId)) throw new ApiError('not_found', `no call ${callId}`);
    assertOwner(principal, call.from);
    return call;
  }
  /** Before an update: the platform key reaches every call, and the workflow answers 404 or 410 itself, so only others cost a read. */
  const authorize = async (principal: Principal, callId: string) => {
    if (principal.kind !== 'platform') await owned(principal, callId);
  };
  const update = async (principal: Principal, callId: string, event: CallEvent) => {
    await authorize(principal, callId);
    return gateway.update(callId, event);
  };

  /** Resumes the caller's dropped chat call, if one is in its window; null when none is (or it closed meanwhile). */
  async function resumeDropped(accountId: string, number: string): Promise<CallView | null> {
    const callId = await selectDroppedChatOf(stores.pool, accountId, number);
    if (!callId) return null;
    await takeLineOrRefuse(stores.pool, accountId, callId);
    try {
      return await gateway.update(callId, { type: 'resume', key: `resume:start:${randomUUID()}` });
    } catch (err) {
      if (err instanceof ApiError && ['resume_window_expired', 'call_ended', 'invalid_state', 'not_found'].includes(err.code)) return null;
      throw err;
    }
  }

  const r = router<AuthEnv>();
  r.openapi(startRoute, async (c) => {
    const input = c.req.valid('json');
    const principal = c.get('principal');
    const dial = input.direction === 'outbound';
    if (dial) {
      // Dialing reaches any number at the account's expense: operators only.
      if (principal.kind === 'caller') throw new ApiError('forbidden', 'only operators place outbound calls');
      if (!outboundCalls) throw new ApiError('invalid_request', 'outbound calling is not configured');
    }
    const from = input.from ?? (principal.kind === 'caller' ? principal.number : undefined);
    if (!from) throw new ApiError('invalid_request', 'from is required', [{ path: 'from', message: 'Required' }]);
    assertOwner(principal, from);
    const accountId = await actingIn(c, stores.pool, input.accountId);
    // A chat client that starts again continues its dropped conversation, on this device or another.
    if (principal.kind === 'caller' && input.channel === 'chat' && !input.callId && !input.new) {
      const resumed = await resumeDropped(principal.accountId, principal.number);
      if (resumed) return c.json(resumed, 200);
    }
    const callId = input.callId ?? randomUUID();
    const existing = input.callId ? await readCall(stores, scopeOf(principal), callId) : null;
    if (existing) assertOwner(principal, existing.from);
    // The caller's profile and the call's agent come with it; a repeat of an existing call ignores them.
    const prepared = await prepareStart(
      stores,
      {
        callId,
        accountId,
        channel: input.channel,
        direction: input.direction,
        from,
        to: input.to ?? null,
        provider: dial ? 'twilio' : null,
        answered: input.answered ?? input.channel === 'chat',
        metadata: input.metadata ?? {},
        key: `start:${callId}`,
        ...(dial ? { dial } : {}),
      },
      input.agentId,
    );
    const { created, call } = await gateway.start(prepared.start, prepared.config);
    // Call ids are global: one another account already uses cannot be this account's.
    if (!reaches({ accountId }, call.accountId)) throw new ApiError('invalid_state', `call id ${callId} is in use; choose another`);
    assertOwner(principal, call.from);
    return c.json(call, created ? 201 : 200);
  })
    .openapi(getRoute, async (c) => c.json(await owned(c.get('principal'), c.req.valid('param').callId), 200))
    .openapi(turnsRoute, async (c) => {
      const call = await owned(c.get('principal'), c.req.valid('param').callId);
      const { limit, cursor } = c.req.valid('query');
      const turns = await readTurns(stores, call, Number(cursor ?? 0), limit);
      const last = turns.at(-1)?.seq;
      return c.json({ turns, nextCursor: last !== undefined && last < call.turnCount ? String(last) : null }, 200);
    })
    .openapi(eventsRoute, async (c) => {
      const call = await owned(c.get('principal'), c.req.valid('param').callId);
      const { limit, cursor, type } = c.req.valid('query');
      const events = await selectEvents(stores.pool, call, { afterSeq: Number(cursor ?? 0), limit, type });
      // A full page may have more after it; the next request answers an empty page at worst.
      return c.json({ events, nextCursor: events.length === limit ? String(events.at(-1)!.seq) : null }, 200);
    })
    .openapi(messageRoute, async (c) => {
      const { callId } = c.req.valid('param');
      const { text, messageId } = c.req.valid('json');
      await authorize(c.get('principal'), callId);
      const id = messageId ?? c.req.header('idempotency-key') ?? randomUUID();
      return c.json(await gateway.message(callId, { text, messageId: id }), 200);
    })
    .openapi(voiceTurnRoute, async (c) => {
      const { callId } = c.req.valid('param');
      const { role, text, eventId, at } = c.req.valid('json');
      await owned(c.get('principal'), callId);
      const key = eventKey(eventId, c.req.header('idempotency-key'), 'turn');
      if (!(await gateway.signal(callId, { type: 'turn', key, role, text, at }))) throw new ApiError('call_ended', 'the call has ended');
      return c.json({ callId }, 202);
    })
    .openapi(streamRoute, async (c) => {
      const call = await owned(c.get('principal'), c.req.valid('param').callId);
      // HEAD is answered by this handler too: its body is never read, so it must not open a stream.
      if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream' });
      // Subscribed before the response starts: a Redis that is down is a 503, not a stream that never moves.
      const live = await openCallStream(streams, call, Number(c.req.valid('header')['last-event-id'] ?? 0));
      return streamSSE(c, (sse) => live.run(sse));
    })
    .openapi(dropRoute, async (c) => {
      const { callId } = c.req.valid('param');
      // One of the two is the body as sent (the other is {}); the form's token was used by authenticate.
      const { reason, eventId } = { ...c.req.valid('json'), ...c.req.valid('form') };
      const key = eventKey(eventId, c.req.header('idempotency-key'), 'drop');
      return c.json(await update(c.get('principal'), callId, { type: 'drop', key, reason }), 200);
    })
    .openapi(resumeRoute, async (c) => {
      const { callId } = c.req.valid('param');
      const principal = c.get('principal');
      const call = await owned(principal, callId);
      if (call.disposition === 'abandoned') throw new ApiError('resume_window_expired', 'the resume window has passed');
      // A resumed call is open again: it takes one of its account's lines.
      if (call.status === 'dropped') await takeLineOrRefuse(stores.pool, call.accountId, callId);
      const key = eventKey(c.req.valid('json').eventId, c.req.header('idempotency-key'), 'resume');
      // Always through the workflow, which orders it after events not yet applied (a drop just signalled)
      // and remembers its key, so a repeat after a later drop cannot resume the call again.
      try {
        return c.json(await gateway.update(callId, { type: 'resume', key }), 200);
      } catch (err) {
        // Resuming an active call changes nothing: it is answered as it is.
        const now = err instanceof ApiError && err.code === 'invalid_state' ? await readCall(stores, scopeOf(principal), callId) : null;
        if (now?.status === 'active') return c.json(now, 200);
        throw err;
      }
    })
    .openapi(endRoute, async (c) => {
      const { callId } = c.req.valid('param');
      const { disposition, reason, eventId } = c.req.valid('json');
      const key = eventKey(eventId, c.req.header('idempotency-key'), 'end');
      return c.json(await update(c.get('principal'), callId, { type: 'end', key, disposition, reason }), 200);
    })
    .openapi(transferRoute, async (c) => {
      const { callId } = c.req.valid('param');
      const { to, eventId } = c.req.valid('json');
      // Dialing reaches any number at the account's expense, as an outbound call does: operators only.
      if (c.get('principal').kind === 'caller') throw new ApiError('forbidden', 'only operators transfer calls');
      await authorize(c.get('principal'), callId);
      // The worker redirects the call through Twilio's REST API: without an account it could only fail.
      if (!outboundCalls) throw new ApiError('invalid_request', 'transfers need TWILIO_ACCOUNT_SID');
      const key = eventKey(eventId, c.req.header('idempotency-key'), 'transfer');
      return c.json(await gateway.transfer(callId, { to, key }), 200);
    });
  return r;
}
