// The OpenAPI document against the live server: every documented operation is called (successes and the
// errors a client meets), and every answer must be a status the document declares for that operation,
// with a body valid against the schema declared for that status. A generated client relies on exactly this.
import { createHash, randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SignJWT } from 'jose';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signFeedBody } from '../common/feed-signature.js';
import { expectEverywhere } from './support/assertions.js';
import {
  ADMIN_KEY,
  createHarness,
  EXOTEL_PASSWORD,
  EXOTEL_USER,
  newCallId,
  PUBLIC_BASE_URL,
  TWILIO_TOKEN,
  VONAGE_SECRET,
  WEBHOOK_SECRET,
  type Harness,
} from './support/harness.js';

let h: Harness;
let doc: { paths: Record<string, Record<string, any>>; components: Record<string, unknown> };
beforeAll(async () => {
  h = await createHarness();
  doc = await (await h.app.request('/openapi.json')).json();
});
afterAll(() => h?.close());

const ajv = new Ajv2020({ strict: false, allErrors: true });
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
/** Validates a body against a response schema; `$ref`s point into the document's components. */
function validate(key: string, schema: object, body: unknown): string | null {
  let check = validators.get(key);
  if (!check) validators.set(key, (check = ajv.compile({ ...schema, components: doc.components })));
  return check(body) ? null : ajv.errorsText(check.errors);
}

interface Call {
  /** The documented operation: method and templated path. */
  op: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}
const seen = new Map<string, Set<string>>();

async function conforms({ op, path, body, headers = {} }: Call): Promise<number> {
  const [method, template] = op.split(' ') as [string, string];
  const operation = doc.paths[template]?.[method.toLowerCase()];
  expect(operation, `${op} is documented`).toBeDefined();
  const res = await h.app.request(path, { method, body, headers });
  const text = await res.text();
  const declared = operation.responses[String(res.status)];
  expect(declared, `${op} answered ${res.status}, which it does not declare: ${text.slice(0, 200)}`).toBeDefined();
  const schema = declared.content?.[res.headers.get('content-type')?.split(';')[0] ?? '']?.schema;
  if (schema && res.headers.get('content-type')?.startsWith('application/json')) {
    const problem = validate(`${op} ${res.status}`, schema, JSON.parse(text));
    expect(problem, `${op} ${res.status} body ${text.slice(0, 300)}`).toBeNull();
  }
  seen.set(op, (seen.get(op) ?? new Set()).add(String(res.status)));
  return res.status;
}

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const json = (extra: Record<string, string> = {}) => ({ ...admin, 'content-type': 'application/json', ...extra });
const feed = (event: object) => {
  const body = JSON.stringify(event);
  return { body, headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(WEBHOOK_SECRET, body) } };
};
const twilio = (params: Record<string, string>, path = '/v1/webhooks/twilio') => {
  const body = new URLSearchParams(params).toString();
  const signature = getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_BASE_URL}${path}`, params);
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
};

/** Twilio's hosted voice requests: the voice URL, a Gather action, a Dial action, the relay's connect action, a recording. */
function hostedVoice() {
  const sid = 'CAconformance0009';
  const voice = { CallSid: sid, From: '+15550009309', To: '+15550000000', Direction: 'inbound', CallStatus: 'ringing' };
  const at = (path: string, params: Record<string, string>, op = path) => ({ op: `POST ${op}`, path, ...twilio(params, path) });
  const turn = `callId=${sid}&leg=${sid}`;
  return [
    at('/v1/voice/twilio', voice),
    at('/v1/voice/twilio', { ...voice, CallSid: 'not a sid' }),
    at(`/v1/voice/twilio/gather?${turn}&turn=1`, { ...voice, SpeechResult: 'hello' }, '/v1/voice/twilio/gather'),
    at(`/v1/voice/twilio/dial?${turn}&turn=1&attempt=1`, { ...voice, DialCallStatus: 'busy' }, '/v1/voice/twilio/dial'),
    at(`/v1/voice/twilio/connect?${turn}`, voice, '/v1/voice/twilio/connect'),
    at(
      `/v1/voice/twilio/recording?callId=${sid}`,
      { CallSid: sid, RecordingSid: 'REconformance0001', RecordingUrl: 'https://api.twilio.com/rec/RE1', RecordingStatus: 'completed' },
      '/v1/voice/twilio/recording',
    ),
    {
      op: 'POST /v1/voice/twilio',
      path: '/v1/voice/twilio',
      body: 'CallSid=CA1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
  ];
}

const exotel = (params: Record<string, string>, password = EXOTEL_PASSWORD) => ({
  body: new URLSearchParams(params).toString(),
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${EXOTEL_USER}:${password}`).toString('base64')}`,
  },
});
const vonage = async (event: object, secret = VONAGE_SECRET) => {
  const body = JSON.stringify(event);
  const token = await new SignJWT({ payload_hash: createHash('sha256').update(body).digest('hex') })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .sign(new TextEncoder().encode(secret));
  return { body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } };
};

/** Vonage's hosted voice requests: the answer_url (GET, signed over its query, and POST), an input, a connect and a record event. */
async function vonageHostedVoice(): Promise<Call[]> {
  const uuid = '7c0a9f7e-0000-4000-8000-000000009310';
  const fields = { from: '15550009310', to: '15550000000', uuid, conversation_uuid: `CON-${uuid}` };
  const query = `/v1/voice/vonage/answer?${new URLSearchParams(fields)}`;
  const { headers } = await vonage(fields);
  const at = async (path: string, event: object) => ({ op: `POST ${path.split('?')[0]}`, path, ...(await vonage(event)) });
  const turn = `callId=${uuid}&leg=${uuid}&turn=1`;
  return [
    { op: 'GET /v1/voice/vonage/answer', path: query, headers: { authorization: headers.authorization } },
    { op: 'GET /v1/voice/vonage/answer', path: query },
    await at('/v1/voice/vonage/answer', fields),
    await at('/v1/voice/vonage/answer', { ...fields, uuid: 'not a uuid!' }),
    await at(`/v1/voice/vonage/input?${turn}&silent=1`, { uuid, speech: { results: [{ text: 'hello', confidence: '0.9' }] } }),
    await at(`/v1/voice/vonage/connect?${turn}&attempt=1`, { uuid: randomUUID(), status: 'ringing' }),
    await at(`/v1/voice/vonage/recording?callId=${uuid}`, {
      recording_url: 'https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
      recording_uuid: 'bbbbbbbb-aaaa-cccc-dddd-0123456789ab',
      start_time: '2026-01-15T12:00:00Z',
      end_time: '2026-01-15T12:01:00Z',
    }),
  ];
}

describe('OpenAPI conformance of live answers', () => {
  it('every operation, in success and in the errors clients meet, answers as documented', async () => {
    const chat = newCallId();
    const caller = '+15550009301';
    const token = { authorization: await h.tokenFor(caller), 'content-type': 'application/json' };
    const other = { authorization: await h.tokenFor('+15550009302'), 'content-type': 'application/json' };
    const missing = newCallId();
    const calls: Call[] = [
      { op: 'GET /healthz', path: '/healthz' },
      { op: 'GET /readyz', path: '/readyz' },
      // Start, as operator and as a chat client; repeated; invalid; unauthenticated; someone else's number.
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ callId: chat, channel: 'chat', from: caller }), headers: json() },
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ callId: chat, channel: 'chat', from: caller }), headers: json() },
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ channel: 'chat' }), headers: token },
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ channel: 'fax' }), headers: json() },
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ channel: 'chat', from: caller }) },
      { op: 'POST /v1/calls', path: '/v1/calls', body: JSON.stringify({ channel: 'chat', from: caller }), headers: other },
      {
        op: 'POST /v1/calls',
        path: '/v1/calls',
        body: JSON.stringify({ channel: 'chat', from: caller, metadata: { pad: 'x'.repeat(70_000) } }),
        headers: json(),
      },
      { op: 'GET /v1/calls/{callId}', path: `/v1/calls/${chat}`, headers: admin },
      { op: 'GET /v1/calls/{callId}', path: `/v1/calls/${missing}`, headers: admin },
      { op: 'GET /v1/calls/{callId}', path: `/v1/calls/${chat}`, headers: other },
      {
        op: 'POST /v1/calls/{callId}/messages',
        path: `/v1/calls/${chat}/messages`,
        body: JSON.stringify({ text: 'my name is Ada' }),
        headers: token,
      },
      { op: 'POST /v1/calls/{callId}/messages', path: `/v1/calls/${chat}/messages`, body: JSON.stringify({ text: '' }), headers: token },
      {
        op: 'POST /v1/calls/{callId}/messages',
        path: `/v1/calls/${missing}/messages`,
        body: JSON.stringify({ text: 'hi' }),
        headers: json(),
      },
      { op: 'GET /v1/calls/{callId}/turns', path: `/v1/calls/${chat}/turns?limit=1`, headers: admin },
      { op: 'GET /v1/calls/{callId}/turns', path: `/v1/calls/${chat}/turns?limit=0`, headers: admin },
      {
        op: 'POST /v1/calls/{callId}/turns',
        path: `/v1/calls/${chat}/turns`,
        body: JSON.stringify({ role: 'system', text: 'note', eventId: 'n1' }),
        headers: json(),
      },
      {
        op: 'POST /v1/calls/{callId}/turns',
        path: `/v1/calls/${chat}/turns`,
        body: JSON.stringify({ role: 'user', text: 'hi', at: '2026-01-01T00:00:00+20:00' }),
        headers: json(),
      },
      { op: 'POST /v1/calls/{callId}/resume', path: `/v1/calls/${chat}/resume`, body: '{}', headers: json() },
      { op: 'POST /v1/calls/{callId}/drop', path: `/v1/calls/${chat}/drop`, body: '{}', headers: json() },
      { op: 'POST /v1/calls/{callId}/drop', path: `/v1/calls/${chat}/drop`, body: '{}', headers: json() },
      { op: 'POST /v1/calls/{callId}/resume', path: `/v1/calls/${chat}/resume`, body: '{}', headers: json() },
      {
        op: 'POST /v1/calls/{callId}/end',
        path: `/v1/calls/${chat}/end`,
        body: JSON.stringify({ disposition: 'exploded' }),
        headers: json(),
      },
      { op: 'POST /v1/calls/{callId}/end', path: `/v1/calls/${chat}/end`, body: '{}', headers: json() },
      {
        op: 'POST /v1/calls/{callId}/messages',
        path: `/v1/calls/${chat}/messages`,
        body: JSON.stringify({ text: 'still there?' }),
        headers: token,
      },
      { op: 'POST /v1/calls/{callId}/end', path: `/v1/calls/${missing}/end`, body: '{}', headers: json() },
      // Transfers: operators only, a person's number or SIP address, and Twilio configured (this harness has none).
      ...[
        { body: { to: '+15550009310' }, headers: json() },
        { body: { to: '+15550009310' }, headers: token },
        { body: { to: 'a person' }, headers: json() },
      ].map(({ body, headers }) => ({
        op: 'POST /v1/calls/{callId}/transfer',
        path: `/v1/calls/${chat}/transfer`,
        body: JSON.stringify(body),
        headers,
      })),
      { op: 'GET /v1/calls/{callId}/events', path: `/v1/calls/${chat}/events?limit=2`, headers: admin },
      { op: 'GET /v1/calls/{callId}/events', path: `/v1/calls/${chat}/events?type=exploded`, headers: admin },
      { op: 'GET /v1/calls/{callId}/events', path: `/v1/calls/${missing}/events`, headers: admin },
      { op: 'GET /v1/calls', path: `/v1/calls?from=${encodeURIComponent(caller)}&limit=5`, headers: admin },
      { op: 'GET /v1/calls', path: '/v1/calls?limit=0', headers: admin },
      { op: 'GET /v1/calls', path: '/v1/calls', headers: other },
      { op: 'GET /v1/stats', path: '/v1/stats?days=3', headers: admin },
      { op: 'GET /v1/stats', path: '/v1/stats?days=0', headers: admin },
      { op: 'GET /v1/stats', path: '/v1/stats', headers: other },
      { op: 'POST /v1/auth/tokens', path: '/v1/auth/tokens', body: JSON.stringify({ subject: caller }), headers: json() },
      { op: 'POST /v1/auth/tokens', path: '/v1/auth/tokens', body: JSON.stringify({ subject: caller }), headers: other },
      { op: 'POST /v1/auth/tokens', path: '/v1/auth/tokens', body: '{"subject":', headers: json() },
    ];
    for (const call of calls) await conforms(call);
    // The checker itself rejects what the document does not allow.
    const viewSchema = doc.paths['/v1/calls/{callId}']!.get.responses['200'].content['application/json'].schema;
    expect(validate('probe', viewSchema, { callId: chat })).not.toBeNull();
    await expectEverywhere(h, chat, { status: 'ended' });
    // The stream of an ended call sends its transcript and last view, then ends; a closing page's drop (a form with its token) comes too late.
    const jwt = token.authorization.replace(/^Bearer /, '');
    const live: Call[] = [
      { op: 'GET /v1/calls/{callId}/stream', path: `/v1/calls/${chat}/stream`, headers: { authorization: token.authorization } },
      { op: 'GET /v1/calls/{callId}/stream', path: `/v1/calls/${chat}/stream`, headers: { ...admin, 'last-event-id': 'latest' } },
      { op: 'GET /v1/calls/{callId}/stream', path: `/v1/calls/${missing}/stream`, headers: admin },
      { op: 'GET /v1/calls/{callId}/stream', path: `/v1/calls/${chat}/stream`, headers: other },
      {
        op: 'POST /v1/calls/{callId}/drop',
        path: `/v1/calls/${chat}/drop`,
        body: new URLSearchParams({ access_token: jwt }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ];
    for (const call of live) await conforms(call);
    // Profiles last: erasing the caller's transcripts drops the ended call's cached view.
    const profiles: Call[] = [
      {
        op: 'PUT /v1/callers/{number}',
        path: `/v1/callers/${encodeURIComponent(caller)}`,
        body: JSON.stringify({ name: 'Ada' }),
        headers: token,
      },
      {
        op: 'PUT /v1/callers/{number}',
        path: `/v1/callers/${encodeURIComponent(caller)}`,
        body: JSON.stringify({ name: 'Ada', language: 'en' }),
        headers: json(),
      },
      {
        op: 'PUT /v1/callers/{number}',
        path: `/v1/callers/${encodeURIComponent(caller)}`,
        body: JSON.stringify({ name: 7 }),
        headers: json(),
      },
      {
        op: 'PUT /v1/callers/{number}',
        path: `/v1/callers/${encodeURIComponent(caller)}`,
        body: JSON.stringify({ name: 'Eve' }),
        headers: other,
      },
      {
        op: 'PATCH /v1/callers/{number}',
        path: `/v1/callers/${encodeURIComponent(caller)}`,
        body: JSON.stringify({ locale: 'en-US' }),
        headers: json(),
      },
      { op: 'PATCH /v1/callers/{number}', path: '/v1/callers/%2B15550009399', body: JSON.stringify({ locale: 'en-US' }), headers: json() },
      { op: 'GET /v1/callers/{number}', path: `/v1/callers/${encodeURIComponent(caller)}`, headers: token },
      { op: 'GET /v1/callers/{number}', path: '/v1/callers/%2B15550009399', headers: admin },
      { op: 'DELETE /v1/callers/{number}', path: `/v1/callers/${encodeURIComponent(caller)}`, headers: admin },
      { op: 'DELETE /v1/callers/{number}', path: `/v1/callers/${encodeURIComponent(caller)}`, headers: admin },
      { op: 'DELETE /v1/callers/{number}', path: `/v1/callers/${encodeURIComponent(caller)}?erase=transcripts`, headers: admin },
      {
        op: 'POST /v1/agents',
        path: '/v1/agents',
        body: JSON.stringify({ agentId: `${chat}-agent`, name: 'Desk', firstMessage: 'Hello!', responder: { kind: 'scripted' } }),
        headers: json(),
      },
      { op: 'POST /v1/agents', path: '/v1/agents', body: JSON.stringify({ agentId: `${chat}-agent`, name: 'Desk' }), headers: json() },
      { op: 'POST /v1/agents', path: '/v1/agents', body: JSON.stringify({ name: 'Desk' }), headers: token },
      { op: 'POST /v1/agents', path: '/v1/agents', body: JSON.stringify({ name: '' }), headers: json() },
      { op: 'GET /v1/agents', path: '/v1/agents', headers: admin },
      { op: 'GET /v1/agents/{agentId}', path: `/v1/agents/${chat}-agent`, headers: admin },
      { op: 'GET /v1/agents/{agentId}', path: '/v1/agents/nobody', headers: admin },
      {
        op: 'PATCH /v1/agents/{agentId}',
        path: `/v1/agents/${chat}-agent`,
        body: JSON.stringify({ firstMessage: null, topics: ['x'] }),
        headers: json(),
      },
      { op: 'PATCH /v1/agents/{agentId}', path: '/v1/agents/nobody', body: JSON.stringify({ name: 'x' }), headers: json() },
      {
        op: 'PUT /v1/numbers/{number}',
        path: '/v1/numbers/%2B15550009398',
        body: JSON.stringify({ agentId: `${chat}-agent` }),
        headers: json(),
      },
      {
        op: 'PUT /v1/numbers/{number}',
        path: '/v1/numbers/%2B15550009398',
        body: JSON.stringify({ agentId: `${chat}-agent`, tags: ['a'] }),
        headers: json(),
      },
      { op: 'PUT /v1/numbers/{number}', path: '/v1/numbers/%2B15550009397', body: JSON.stringify({ agentId: 'nobody' }), headers: json() },
      { op: 'GET /v1/numbers', path: '/v1/numbers', headers: admin },
      { op: 'GET /v1/numbers/{number}', path: '/v1/numbers/%2B15550009398', headers: admin },
      { op: 'GET /v1/numbers/{number}', path: '/v1/numbers/%2B15550009397', headers: admin },
      { op: 'DELETE /v1/agents/{agentId}', path: `/v1/agents/${chat}-agent`, headers: admin },
      { op: 'DELETE /v1/numbers/{number}', path: '/v1/numbers/%2B15550009398', headers: admin },
      { op: 'DELETE /v1/numbers/{number}', path: '/v1/numbers/%2B15550009398', headers: admin },
      { op: 'DELETE /v1/agents/{agentId}', path: `/v1/agents/${chat}-agent`, headers: admin },
      { op: 'DELETE /v1/agents/{agentId}', path: `/v1/agents/${chat}-agent`, headers: admin },
    ];
    for (const call of profiles) await conforms(call);

    // Accounts and keys: created, read, changed, a key made and revoked; a duplicate, an unknown account, a forbidden role.
    const acc = `conf-${chat.slice(0, 8).toLowerCase()}`;
    await conforms({
      op: 'POST /v1/accounts',
      path: '/v1/accounts',
      body: JSON.stringify({ accountId: acc, name: 'Conf' }),
      headers: json(),
    });
    await conforms({
      op: 'POST /v1/accounts',
      path: '/v1/accounts',
      body: JSON.stringify({ accountId: acc, name: 'Conf' }),
      headers: json(),
    });
    await conforms({ op: 'POST /v1/accounts', path: '/v1/accounts', body: JSON.stringify({ name: '' }), headers: json() });
    await conforms({ op: 'GET /v1/accounts', path: '/v1/accounts', headers: admin });
    await conforms({ op: 'GET /v1/accounts/{accountId}', path: `/v1/accounts/${acc}`, headers: admin });
    await conforms({ op: 'GET /v1/accounts/{accountId}', path: '/v1/accounts/nobody', headers: admin });
    const patchAccount = { op: 'PATCH /v1/accounts/{accountId}', path: `/v1/accounts/${acc}`, headers: json() };
    await conforms({ ...patchAccount, body: JSON.stringify({ limits: { concurrentCalls: 5 } }) });
    await conforms({ ...patchAccount, body: JSON.stringify({}) });
    const keys = `/v1/accounts/${acc}/keys`;
    const made = await h.app.request(keys, { method: 'POST', headers: json(), body: JSON.stringify({ name: 'viewer', role: 'viewer' }) });
    const viewer = (await made.json()) as { keyId: string; key: string };
    await conforms({
      op: 'POST /v1/accounts/{accountId}/keys',
      path: keys,
      body: JSON.stringify({ name: 'ops', role: 'operator' }),
      headers: json(),
    });
    await conforms({
      op: 'POST /v1/accounts/{accountId}/keys',
      path: keys,
      body: JSON.stringify({ name: 'ops', role: 'operator' }),
      headers: { authorization: `Bearer ${viewer.key}`, 'content-type': 'application/json' },
    });
    await conforms({ op: 'GET /v1/accounts/{accountId}/keys', path: keys, headers: admin });
    await conforms({ op: 'DELETE /v1/accounts/{accountId}/keys/{keyId}', path: `${keys}/${viewer.keyId}`, headers: admin });
    await conforms({ op: 'DELETE /v1/accounts/{accountId}/keys/{keyId}', path: `${keys}/nokey`, headers: admin });
    // Provider credentials: set, replaced, refused (a bad body, an unknown account, an AccountSid another account has), listed, removed.
    const putProvider = {
      op: 'PUT /v1/accounts/{accountId}/providers/{provider}',
      path: `/v1/accounts/${acc}/providers/twilio`,
      headers: json(),
    };
    const twilioCredentials = { accountSid: `AC${randomUUID().replaceAll('-', '')}`, authToken: randomUUID().replaceAll('-', '') };
    await conforms({ ...putProvider, body: JSON.stringify(twilioCredentials) });
    await conforms({ ...putProvider, body: JSON.stringify(twilioCredentials) });
    await conforms({ ...putProvider, body: JSON.stringify({ accountSid: twilioCredentials.accountSid }) });
    await conforms({ ...putProvider, path: '/v1/accounts/nobody/providers/twilio', body: JSON.stringify(twilioCredentials) });
    await h.app.request('/v1/accounts', { method: 'POST', headers: json(), body: JSON.stringify({ accountId: `${acc}-b`, name: 'B' }) });
    await conforms({ ...putProvider, path: `/v1/accounts/${acc}-b/providers/twilio`, body: JSON.stringify(twilioCredentials) });
    await conforms({ op: 'GET /v1/accounts/{accountId}/providers', path: `/v1/accounts/${acc}/providers`, headers: admin });
    await conforms({ op: 'GET /v1/accounts/{accountId}/providers', path: '/v1/accounts/nobody/providers', headers: admin });
    const deleteProvider = { op: 'DELETE /v1/accounts/{accountId}/providers/{provider}', path: putProvider.path, headers: admin };
    await conforms(deleteProvider);
    await conforms(deleteProvider);
    await conforms({ op: 'DELETE /v1/accounts/{accountId}', path: `/v1/accounts/${acc}`, headers: admin });
    await conforms({ op: 'DELETE /v1/accounts/{accountId}', path: '/v1/accounts/nobody', headers: admin });

    // Webhooks: a feed conversation, a bad signature, a bad event, an event for an unknown call; Twilio likewise.
    const voice = newCallId();
    const events: Call[] = [
      {
        op: 'POST /v1/webhooks/events',
        path: '/v1/webhooks/events',
        ...feed({
          eventId: `${voice}-s`,
          type: 'call.started',
          callId: voice,
          data: { channel: 'voice', from: '+15550009303', to: '+15550000000' },
        }),
      },
      {
        op: 'POST /v1/webhooks/events',
        path: '/v1/webhooks/events',
        ...feed({ eventId: `${voice}-t`, type: 'call.turn', callId: voice, data: { role: 'user', text: 'hello' } }),
      },
      {
        op: 'POST /v1/webhooks/events',
        path: '/v1/webhooks/events',
        ...feed({ eventId: 'e', type: 'call.exploded', callId: voice, data: {} }),
      },
      {
        op: 'POST /v1/webhooks/events',
        path: '/v1/webhooks/events',
        body: '{}',
        headers: { 'content-type': 'application/json', 'x-signature': 't=1,v1=00' },
      },
      {
        op: 'POST /v1/webhooks/events',
        path: '/v1/webhooks/events',
        ...feed({ eventId: 'u', type: 'call.turn', callId: newCallId(), data: { role: 'user', text: 'hi' } }),
      },
      {
        op: 'POST /v1/webhooks/twilio',
        path: '/v1/webhooks/twilio',
        ...twilio({ CallSid: 'CAconformance0001', CallStatus: 'ringing', From: '+15550009304', To: '+15550000000', Direction: 'inbound' }),
      },
      {
        op: 'POST /v1/webhooks/twilio',
        path: '/v1/webhooks/twilio',
        ...twilio({ CallSid: 'not a sid', CallStatus: 'ringing', From: '+15550009304' }),
      },
      {
        op: 'POST /v1/webhooks/twilio',
        path: '/v1/webhooks/twilio',
        body: 'CallSid=CA1',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' },
      },
      {
        op: 'POST /v1/webhooks/exotel',
        path: '/v1/webhooks/exotel',
        ...exotel({
          CallSid: 'exconformance0001',
          Status: 'ringing',
          CallFrom: '09876509305',
          CallTo: '08030752400',
          Direction: 'incoming',
        }),
      },
      { op: 'POST /v1/webhooks/exotel', path: '/v1/webhooks/exotel', ...exotel({ CallSid: 'exconformance0002', Status: 'ringing' }) },
      {
        op: 'POST /v1/webhooks/exotel',
        path: '/v1/webhooks/exotel',
        ...exotel({ CallSid: 'exconformance0003', Status: 'ringing', From: '09876509305' }, 'wrong'),
      },
      {
        op: 'POST /v1/webhooks/vonage',
        path: '/v1/webhooks/vonage',
        ...(await vonage({
          uuid: '7c0a9f7e-0000-4000-8000-000000009306',
          status: 'started',
          from: '15550009306',
          to: '15550000000',
          direction: 'inbound',
          timestamp: new Date().toISOString(),
        })),
      },
      { op: 'POST /v1/webhooks/vonage', path: '/v1/webhooks/vonage', ...(await vonage({ status: 'answered', from: '15550009306' })) },
      { op: 'POST /v1/webhooks/vonage', path: '/v1/webhooks/vonage', ...(await vonage({ status: 'started' }, 'another-secret')) },
      ...hostedVoice(),
      ...(await vonageHostedVoice()),
    ];
    for (const call of events) await conforms(call);

    // Every documented operation was exercised, and the errors clients meet most were among the answers.
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect([...seen.keys()].sort()).toEqual(documented.sort());
    const statuses = new Set([...seen.values()].flatMap((s) => [...s]));
    for (const status of ['200', '201', '202', '204', '400', '401', '403', '404', '409', '413']) expect(statuses, status).toContain(status);
  });
});
