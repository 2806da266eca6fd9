// Twilio hosted voice: the number's Voice URL, its Gather and Dial actions, the ConversationRelay
// connect action and recording callbacks. Every request is signed; every answer is TwiML within 5 s.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { HostedInput, HostedReply } from '../../workflows/messages.js';
import { TRANSFER_OUTCOMES, type TransferOutcome } from '../../workflows/types.js';
import type { CallGateway } from '../call-gateway.js';
import type { WebhookSettings } from '../deps.js';
import { ApiError } from '../errors.js';
import { router } from '../openapi.js';
import { text } from '../schemas.js';
import { twilioSignature, TwilioSignatureHeader } from '../providers/twilio.js';
import { phoneNumber, webhookErrors } from '../webhooks/schemas.js';
import { publicBase, publicUrls } from './public-url.js';
import { MAX_HOLDS, type VoiceConversation, type VoiceLeg } from './conversation.js';
import { socketUrlFor } from './relay-server.js';
import { digitsOf, utterance } from './speech.js';
import { emptyTwiml, hangupTwiml, holdingTwiml, rejectTwiml, twimlFor, type TwimlUrls } from './twilio-twiml.js';

const sid = z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'a Twilio sid');
const count = (max: number) => z.coerce.number().int().min(0).max(max);
const VoiceRequest = z
  .object({
    CallSid: sid,
    AccountSid: sid.optional(),
    From: phoneNumber,
    To: phoneNumber.optional(),
    Direction: text().max(40).optional(),
    SpeechResult: z.string().max(100_000).optional(),
    Confidence: z.string().max(40).optional(),
    Digits: z.string().max(100).optional(),
    DialCallStatus: z.string().max(40).optional(),
  })
  .openapi('TwilioVoiceRequest', { description: "Twilio's voice request; other parameters are accepted and ignored" });
type VoiceForm = z.infer<typeof VoiceRequest>;
const CallQuery = z.object({
  callId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional(),
  wait: count(MAX_HOLDS).optional(),
});
const TurnQuery = z.object({
  callId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  leg: sid,
  turn: count(100_000),
  silent: count(10).optional(),
  attempt: count(1000).optional(),
  wait: count(MAX_HOLDS).optional(),
});
type Turn = z.infer<typeof TurnQuery>;
const RecordingCallback = z.object({
  RecordingSid: sid,
  RecordingUrl: z.string().url().max(2000),
  RecordingStatus: z.string().max(40),
  RecordingDuration: z.coerce.number().int().min(0).max(1_000_000).optional(),
  CallSid: sid.optional(),
});

const TWIML = { 'content-type': 'text/xml; charset=utf-8' };
const twimlResponse = { 200: { description: 'TwiML', content: { 'text/xml': { schema: { type: 'string' as const } } } }, ...webhookErrors };
const form = <T extends z.ZodType>(schema: T) => ({ content: { 'application/x-www-form-urlencoded': { schema } }, required: true });
const post = (path: string, summary: string, query: z.ZodType, body: z.ZodType, settings: WebhookSettings) =>
  createRoute({
    method: 'post',
    path,
    tags: ['voice'],
    summary,
    middleware: [twilioSignature(settings)],
    request: { query: query as typeof CallQuery, headers: TwilioSignatureHeader, body: form(body as typeof VoiceRequest) },
    responses: twimlResponse,
  });

/** Twilio's Dial outcomes in Callwright's words; `completed` and `answered` mean a person took the call. */
function dialOutcome(status: string | undefined): TransferOutcome {
  if (status === 'completed' || status === 'answered') return 'answered';
  return (TRANSFER_OUTCOMES as readonly string[]).includes(status ?? '') ? (status as TransferOutcome) : 'failed';
}

export function twilioVoiceRoutes(settings: WebhookSettings, conversation: VoiceConversation, gateway: CallGateway) {
  const base = (c: Context) => publicBase(settings, c);
  const urlOf = publicUrls(settings, '/v1/voice/twilio');
  const urls = (c: Context, callId: string, leg: string): TwimlUrls => ({
    gather: (turn) => urlOf(c, '/gather', { callId, leg, turn }),
    silence: (turn, silent) => urlOf(c, '/gather', { callId, leg, turn, silent }),
    dial: (attempt, turn) => urlOf(c, '/dial', { callId, leg, attempt, turn }),
    relay: {
      socket: socketUrlFor(base(c)),
      action: urlOf(c, '/connect', { callId, leg }),
    },
  });
  const xml = (c: Context, body: string) => c.body(body, 200, TWIML);

  /** Renders the answer, or holds; the last words of a call are kept for a retry that comes after it closed. */
  async function answer(c: Context, key: string, reply: HostedReply | null, q: Turn, again: () => string) {
    if (!reply) {
      if ((q.wait ?? 0) >= MAX_HOLDS) return xml(c, hangupTwiml('Sorry, we are having trouble. Please call back in a moment.'));
      return xml(c, holdingTwiml(again()));
    }
    const rendered = twimlFor(reply, urls(c, q.callId, q.leg), q.turn, q.silent);
    if (reply.next === 'hangup') await conversation.keepFinal(key, rendered);
    return xml(c, rendered);
  }

  /** A turn's request: answered by the call, or `<Hangup/>` (the same last words, for a retry) once it has ended. */
  async function turn(c: Context, q: Turn, input: HostedInput) {
    const key = 'key' in input ? input.key : '';
    const again = () => urlOf(c, c.req.path.endsWith('/dial') ? '/dial' : '/gather', { ...q, wait: (q.wait ?? 0) + 1 });
    try {
      const held = q.wait ? await conversation.held(key) : null;
      return await answer(c, key, await conversation.hear(q.callId, held ?? input), q, again);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'call_ended' || err.code === 'not_found' || err.code === 'invalid_state'))
        return xml(c, (await conversation.final(key)) ?? hangupTwiml());
      throw err;
    }
  }

  const voiceRoute = post('/twilio', 'Voice URL: answers (or resumes) the call with its greeting', CallQuery, VoiceRequest, settings);
  const gatherRoute = post('/twilio/gather', 'Gather action: what the caller said (or silence)', TurnQuery, VoiceRequest, settings);
  const dialRoute = post('/twilio/dial', "A transfer's Dial action: DialCallStatus", TurnQuery, VoiceRequest, settings);
  const connectQuery = TurnQuery.pick({ callId: true, leg: true });
  const connectRoute = post('/twilio/connect', 'ConversationRelay ended: what follows', connectQuery, VoiceRequest, settings);
  const recordingRoute = post('/twilio/recording', 'RecordingStatusCallback', CallQuery, RecordingCallback, settings);

  return router()
    .openapi(voiceRoute, async (c) => {
      const f = c.req.valid('form') as VoiceForm;
      const { callId: placedFor, wait } = c.req.valid('query');
      const leg: VoiceLeg = {
        provider: 'twilio',
        sid: f.CallSid,
        from: f.From,
        to: f.To || null,
        direction: f.Direction?.startsWith('outbound') ? 'outbound' : 'inbound',
        ...(placedFor ? { placedFor } : {}),
      };
      const q: Turn = { callId: f.CallSid, leg: f.CallSid, turn: 0, wait };
      try {
        const heard = await conversation.answer(leg);
        return await answer(c, `twilio:${f.CallSid}:greet`, heard.reply, { ...q, callId: heard.callId }, () =>
          urlOf(c, '', { callId: placedFor, wait: (wait ?? 0) + 1 }),
        );
      } catch (err) {
        if (err instanceof ApiError && err.code === 'call_ended') return xml(c, hangupTwiml());
        const refused = conversation.refusal(err);
        if (refused) return xml(c, rejectTwiml(refused));
        throw err;
      }
    })
    .openapi(gatherRoute, async (c) => {
      const f = c.req.valid('form') as VoiceForm;
      const q = c.req.valid('query') as Turn;
      const key = `twilio:${q.leg}:turn:${q.turn}${q.silent ? `:silent:${q.silent}` : ''}`;
      const said = utterance(f.SpeechResult);
      const digits = digitsOf(f.Digits);
      // Too long to be an utterance: asked again, as if unheard, and nothing is recorded.
      if (said === null) return turn(c, { ...q, silent: q.silent ?? 1 }, { kind: 'silence', leg: q.leg, key: `${key}:unheard`, count: 1 });
      // A held request's follow-up carries nothing: its input was kept (else the caller is asked again).
      const input: HostedInput =
        said || digits
          ? { kind: 'speech', leg: q.leg, key, text: said, ...(digits ? { digits } : {}) }
          : { kind: 'silence', leg: q.leg, key, count: q.silent ?? 1 };
      return turn(c, q, input);
    })
    .openapi(dialRoute, async (c) => {
      const f = c.req.valid('form') as VoiceForm;
      const q = c.req.valid('query') as Turn;
      const key = `twilio:${q.leg}:dial:${q.attempt ?? 0}`;
      return turn(c, q, { kind: 'dial', leg: q.leg, key, attempt: q.attempt ?? 0, outcome: dialOutcome(f.DialCallStatus) });
    })
    .openapi(connectRoute, async (c) => {
      const q = { ...(c.req.valid('query') as Pick<Turn, 'callId' | 'leg'>), turn: 0 };
      return turn(c, q, { kind: 'connected', leg: q.leg, key: `twilio:${q.leg}:connected` });
    })
    .openapi(recordingRoute, async (c) => {
      const r = c.req.valid('form') as unknown as z.infer<typeof RecordingCallback>;
      const { callId } = c.req.valid('query');
      if (callId && r.RecordingStatus === 'completed') {
        const recording = { url: r.RecordingUrl, durationSeconds: r.RecordingDuration ?? null };
        await gateway.signal(callId, { type: 'recording', key: `twilio:recording:${r.RecordingSid}`, recording, sid: r.RecordingSid });
      }
      return xml(c, emptyTwiml());
    });
}
