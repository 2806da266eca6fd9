// Vonage hosted voice: the application's answer_url, its input and connect event URLs and the record action's
// event. Every request is signed as the status events are (a JWT in Authorization); every answer is an NCCO within 5 s.
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { HostedInput, HostedReply } from '../../workflows/messages.js';
import type { TransferOutcome } from '../../workflows/types.js';
import type { CallGateway } from '../call-gateway.js';
import type { WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { router } from '../openapi.js';
import { e164, VonageAuthHeader, vonageSignature } from '../providers/vonage.js';
import { text } from '../schemas.js';
import { phoneNumber, webhookErrors } from '../webhooks/schemas.js';
import { publicUrls } from './public-url.js';
import { BUSY_WORDS, MAX_HOLDS, type VoiceConversation, type VoiceLeg } from './conversation.js';
import { digitsOf, utterance } from './speech.js';
import { hangupNcco, holdingNcco, nccoFor, type Ncco, type NccoUrls } from './vonage-ncco.js';

const uuid = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a Vonage call uuid');
const callId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);
const count = (max: number) => z.coerce.number().int().min(0).max(max);
const optional = { conversation_uuid: text().max(200).optional(), timestamp: text().max(100).optional() };

const Answer = z
  .object({ uuid, from: phoneNumber, to: phoneNumber.optional(), ...optional })
  .openapi('VonageAnswer', { description: 'the answer_url request (query for GET, JSON for POST); other fields are ignored' });
type Answer = z.infer<typeof Answer>;
const AnswerQuery = z.object({ callId: callId.optional(), wait: count(MAX_HOLDS).optional() });
type AnswerQuery = z.infer<typeof AnswerQuery>;
const InputEvent = z
  .object({
    uuid: uuid.optional(),
    speech: z
      .object({
        // Sanitized after validation: a caller's odd words are asked again, not refused.
        results: z.array(z.object({ text: z.string().max(100_000), confidence: z.union([z.string(), z.number()]).optional() })).optional(),
        timeout_reason: z.string().max(100).optional(),
        error: z.string().max(2000).optional(),
      })
      .optional(),
    dtmf: z.object({ digits: z.string().max(100).nullable().optional(), timed_out: z.boolean().optional() }).optional(),
    ...optional,
  })
  .openapi('VonageInputEvent', { description: "an input action's event (or a holding notify's payload); other fields are ignored" });
type InputEvent = z.infer<typeof InputEvent>;
/** What a held input was: its follow-up (a notify) carries no words, so its URL says which key it waits for. */
const HEARD = ['speech', 'silence', 'unheard'] as const;
const InputQuery = z.object({
  callId,
  leg: uuid,
  turn: count(100_000),
  silent: count(10).optional(),
  wait: count(MAX_HOLDS).optional(),
  heard: z.enum(HEARD).optional(),
});
type InputQuery = z.infer<typeof InputQuery>;
const ConnectEvent = z
  .object({ uuid: uuid.optional(), status: text().max(100).optional(), ...optional })
  .openapi('VonageConnectEvent', { description: "the transfer leg's call events; other fields are ignored" });
const ConnectQuery = z.object({ callId, leg: uuid, turn: count(100_000), attempt: count(1000), wait: count(MAX_HOLDS).optional() });
const RecordEvent = z
  .object({
    recording_url: z.string().url().max(2000),
    recording_uuid: uuid,
    start_time: text().max(100).optional(),
    end_time: text().max(100).optional(),
    ...optional,
  })
  .openapi('VonageRecordEvent', { description: "the record action's event; other fields are ignored" });

/** An NCCO as the document shows it (api/voice/vonage-ncco.ts types each action). */
const NccoSchema = {
  type: 'array' as const,
  items: {
    type: 'object' as const,
    required: ['action'],
    properties: { action: { type: 'string' as const, enum: ['talk', 'input', 'connect', 'record', 'notify'] } },
  },
};
// Typed as any route's responses, so a handler may answer an NCCO's JSON or an empty body.
const nccoResponses = (description: string): RouteConfig['responses'] => ({
  200: { description, content: { 'application/json': { schema: NccoSchema } } },
  ...webhookErrors,
});
const get = (settings: WebhookSettings, path: string, summary: string, query: z.ZodObject) =>
  createRoute({
    method: 'get',
    path,
    tags: ['voice'],
    summary,
    middleware: [vonageSignature(settings)],
    request: { query: query as typeof AnswerQuery, headers: VonageAuthHeader },
    responses: nccoResponses('NCCO'),
  });
const post = (settings: WebhookSettings, path: string, summary: string, query: z.ZodObject, body: z.ZodObject) =>
  createRoute({
    method: 'post',
    path,
    tags: ['voice'],
    summary,
    middleware: [vonageSignature(settings)],
    request: {
      query: query as typeof AnswerQuery,
      headers: VonageAuthHeader,
      body: { content: { 'application/json': { schema: body as typeof Answer } }, required: true },
    },
    responses: nccoResponses(/\/(answer|input)$/.test(path) ? 'NCCO' : 'NCCO, or empty: nothing changes'),
  });

/** The connect leg's final statuses in Callwright's words; `answered` (and its `completed`) mean a person took the call. */
const OUTCOMES: Record<string, TransferOutcome> = {
  answered: 'answered',
  completed: 'answered',
  busy: 'busy',
  timeout: 'no-answer',
  unanswered: 'no-answer',
  cancelled: 'canceled',
  rejected: 'failed',
  failed: 'failed',
};

const TROUBLE = 'Sorry, we are having trouble. Please call back in a moment.';
const ENDED = ['call_ended', 'not_found', 'invalid_state'];

/** What an input event heard: words (or keys), silence, or something that cannot be an utterance (asked again). */
function heardOf(e: InputEvent): { heard: Heard; said: string; digits?: string } {
  const said = utterance(e.speech?.results?.[0]?.text);
  const digits = digitsOf(e.dtmf?.digits ?? undefined);
  if (said === null) return { heard: 'unheard', said: '' };
  return { heard: said || digits ? 'speech' : 'silence', said, ...(digits ? { digits } : {}) };
}

type Heard = (typeof HEARD)[number];
/** The turn's input, what it was, and how many silent prompts in a row it leaves (the next input's silence counts on). */
function inputOf(q: InputQuery, e: InputEvent): { input: HostedInput; heard: Heard; silent: number } {
  const { leg } = q;
  const key = `vonage:${leg}:turn:${q.turn}`;
  const k = q.silent ?? 1;
  const { heard, said, digits } = q.wait && q.heard ? { heard: q.heard, said: '', digits: undefined } : heardOf(e);
  if (heard === 'unheard') return { input: { kind: 'silence', leg, key: `${key}:unheard`, count: 1 }, heard, silent: k - 1 };
  if (heard === 'silence') return { input: { kind: 'silence', leg, key: `${key}:silent:${k}`, count: k }, heard, silent: k };
  // A held turn's follow-up carries no words: its kept input answers, or else the first answer of its key.
  const input: HostedInput =
    said || digits ? { kind: 'speech', leg, key, text: said, ...(digits ? { digits } : {}) } : { kind: 'silence', leg, key, count: 1 };
  return { input, heard, silent: 0 };
}

function seconds(start?: string, end?: string): number | null {
  const ms = Date.parse(end ?? '') - Date.parse(start ?? '');
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : null;
}

export function vonageVoiceRoutes(settings: WebhookSettings, conversation: VoiceConversation, gateway: CallGateway) {
  const urlOf = publicUrls(settings, '/v1/voice/vonage');
  const urls = (c: Context, callId: string, leg: string): NccoUrls => ({
    leg,
    input: (turn, silent) => urlOf(c, '/input', { callId, leg, turn, silent }),
    connect: (attempt, turn) => urlOf(c, '/connect', { callId, leg, attempt, turn }),
    recording: urlOf(c, '/recording', { callId }),
  });
  const ncco = (c: Context, body: Ncco | string) =>
    c.body(typeof body === 'string' ? body : JSON.stringify(body), 200, { 'content-type': 'application/json; charset=utf-8' });

  /** Renders the answer, or holds (a notify asks `again`); a call's last words are kept for a retry after it closed. */
  async function respond(c: Context, key: string, reply: HostedReply | null, wait: number, render: (r: HostedReply) => Ncco, again: Hold) {
    if (!reply) return ncco(c, wait >= MAX_HOLDS ? hangupNcco(TROUBLE) : holdingNcco(again.url(wait + 1), again.payload));
    const rendered = render(reply);
    if (reply.next === 'hangup') await conversation.keepFinal(key, JSON.stringify(rendered));
    return ncco(c, rendered);
  }

  /** A turn's event: answered by the call, or hung up (the same last words, for a retry) once it has ended. */
  async function turn(c: Context, callId: string, input: HostedInput, wait: number, render: (r: HostedReply) => Ncco, again: Hold) {
    const key = 'key' in input ? input.key : '';
    try {
      const held = wait ? await conversation.held(key) : null;
      return await respond(c, key, await conversation.hear(callId, held ?? input), wait, render, again);
    } catch (err) {
      if (err instanceof ApiError && ENDED.includes(err.code)) return ncco(c, (await conversation.final(key)) ?? hangupNcco());
      throw err;
    }
  }

  async function answer(c: Context, a: Answer, q: AnswerQuery) {
    const leg: VoiceLeg = {
      provider: 'vonage',
      sid: a.uuid,
      from: e164(a.from),
      to: a.to ? e164(a.to) : null,
      direction: q.callId ? 'outbound' : 'inbound',
      ...(q.callId ? { placedFor: q.callId } : {}),
    };
    const payload = { uuid: a.uuid, from: a.from, ...(a.to ? { to: a.to } : {}) };
    const again: Hold = { url: (wait) => urlOf(c, '/answer', { callId: q.callId, wait }), payload };
    try {
      const heard = await conversation.answer(leg);
      const render = (r: HostedReply) => nccoFor(r, urls(c, heard.callId, a.uuid), 0, 0, r.voice.record);
      return await respond(c, `vonage:${a.uuid}:greet`, heard.reply, q.wait ?? 0, render, again);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'call_ended') return ncco(c, hangupNcco());
      // Vonage has no rejection once it asked for the NCCO: the caller hears why, and the call ends.
      const refused = conversation.refusal(err);
      if (refused) return ncco(c, hangupNcco(refused === 'busy' ? BUSY_WORDS : undefined));
      throw err;
    }
  }

  const summary = {
    answer: 'answer_url: answers (or resumes) the call with its greeting',
    input: "An input action's event: what the caller said (or silence)",
    connect: "A transfer's connect events: how the dial went",
    recording: "The record action's event: the call's recording",
  };
  const answerGet = get(settings, '/vonage/answer', summary.answer, AnswerQuery.extend(Answer.shape));
  const answerPost = post(settings, '/vonage/answer', summary.answer, AnswerQuery, Answer);
  const inputRoute = post(settings, '/vonage/input', summary.input, InputQuery, InputEvent);
  const connectRoute = post(settings, '/vonage/connect', summary.connect, ConnectQuery, ConnectEvent);
  const recordingRoute = post(settings, '/vonage/recording', summary.recording, z.object({ callId }), RecordEvent);

  return router()
    .openapi(answerGet, async (c) => {
      const { callId: placedFor, wait, ...a } = c.req.valid('query') as unknown as Answer & AnswerQuery;
      return answer(c, a, { callId: placedFor, wait });
    })
    .openapi(answerPost, async (c) => answer(c, c.req.valid('json') as unknown as Answer, c.req.valid('query') as unknown as AnswerQuery))
    .openapi(inputRoute, async (c) => {
      const q = c.req.valid('query') as unknown as InputQuery;
      const { input, heard, silent } = inputOf(q, c.req.valid('json') as unknown as InputEvent);
      const again: Hold = { url: (wait) => urlOf(c, '/input', { ...q, wait, heard }), payload: { uuid: q.leg } };
      const render = (r: HostedReply) => nccoFor(r, urls(c, q.callId, q.leg), q.turn, silent);
      return turn(c, q.callId, input, q.wait ?? 0, render, again);
    })
    .openapi(connectRoute, async (c) => {
      const q = c.req.valid('query') as unknown as z.infer<typeof ConnectQuery>;
      const { status = '' } = c.req.valid('json') as unknown as z.infer<typeof ConnectEvent>;
      const outcome = OUTCOMES[status];
      // Started, ringing and the like only inform: an empty answer lets the NCCO go on.
      if (!outcome) return c.body(null, 200);
      const input: HostedInput = { kind: 'dial', leg: q.leg, key: `vonage:${q.leg}:dial:${q.attempt}`, attempt: q.attempt, outcome };
      if (outcome === 'answered') {
        // The caller now talks to the person: record the outcome (ending the call `transferred`) and change nothing at Vonage.
        // The person's `completed` hears it again, so an answer that was held still lands; its key records it once.
        await conversation.hear(q.callId, input).catch((err: unknown) => {
          if (!(err instanceof ApiError && ENDED.includes(err.code))) throw err;
        });
        return c.body(null, 200);
      }
      const again: Hold = { url: (wait) => urlOf(c, '/connect', { ...q, wait }), payload: { uuid: q.leg, status } };
      const render = (r: HostedReply) => nccoFor(r, urls(c, q.callId, q.leg), q.turn);
      return turn(c, q.callId, input, q.wait ?? 0, render, again);
    })
    .openapi(recordingRoute, async (c) => {
      const r = c.req.valid('json') as unknown as z.infer<typeof RecordEvent>;
      const recording = { url: r.recording_url, durationSeconds: seconds(r.start_time, r.end_time) };
      await gateway.signal((c.req.valid('query') as unknown as { callId: string }).callId, {
        type: 'recording',
        key: `vonage:recording:${r.recording_uuid}`,
        recording,
      });
      return c.body(null, 200);
    });
}

/** Where a held request asks again, and what its notify posts there. */
interface Hold {
  url(wait: number): string;
  payload: Record<string, string>;
}
