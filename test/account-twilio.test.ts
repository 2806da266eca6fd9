// An account that brought its own Twilio account: its outbound calls are placed, and hung up, with its own
// AccountSid and token (a stand-in plays Twilio's REST API); the default account's still use the platform's.
import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, twilioCallSettings } from '../config/env.js';
import { createHarness, eventually, PUBLIC_BASE_URL, TWILIO_TOKEN, type Harness } from './support/harness.js';
import { startTwilioApi, type TwilioApi } from './support/twilio-api.js';
import { postTwilio } from './support/twilio-signed.js';

const PLATFORM_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const OWN_SID = `AC${'fedcba9876543210'.repeat(2)}`;
const OWN_TOKEN = 'acme-own-twilio-auth-token-0123456789';

let twilio: TwilioApi;
let h: Harness;
beforeAll(async () => {
  twilio = await startTwilioApi();
  const env = { TWILIO_ACCOUNT_SID: PLATFORM_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, PUBLIC_BASE_URL, TWILIO_API_URL: twilio.url };
  h = await createHarness({ twilio: { ...twilioCallSettings(loadConfig(env))!, timeoutMs: 1000 } });
});
afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

const basic = (sid: string, token: string) => `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`;
const newNumber = () => `+1444${randomInt(1_000_000, 9_999_999)}`;

it("places and hangs up an account's outbound calls with its own Twilio account, the default account's with the platform's", async () => {
  const accountId = `tw-${randomUUID().slice(0, 8)}`;
  await h.request('POST', '/accounts', { accountId, name: 'Acme' });
  expect((await h.request('PUT', `/accounts/${accountId}/providers/twilio`, { accountSid: OWN_SID, authToken: OWN_TOKEN })).status).toBe(
    201,
  );
  const { key } = (await h.request('POST', `/accounts/${accountId}/keys`, { name: 'ops', role: 'operator' })).body;
  const operator = { authorization: `Bearer ${key}` };
  // The company number the account calls from is its own.
  const company = newNumber();
  const agent = (await h.request('POST', '/agents', { name: 'Desk' }, operator)).body.agentId;
  expect((await h.request('PUT', `/numbers/${encodeURIComponent(company)}`, { agentId: agent }, operator)).status).toBe(201);

  const own = await h.request('POST', '/calls', { channel: 'voice', direction: 'outbound', from: company, to: newNumber() }, operator);
  expect(own.status).toBe(201);
  const placed = await eventually(() => {
    const r = twilio.requests.find((x) => x.form.get('Url')?.includes(own.body.callId));
    expect(r).toBeDefined();
    return r!;
  });
  expect(placed.path).toBe(`/2010-04-01/Accounts/${OWN_SID}/Calls.json`);
  expect(placed.authorization).toBe(basic(OWN_SID, OWN_TOKEN));

  // Twilio's callbacks for the leg carry the account's AccountSid, signed with its own token.
  const sid = await eventually(async () => {
    const [row] = await h.rows('SELECT legs FROM calls WHERE call_id = $1', [own.body.callId]);
    const leg = row.legs.find((l: string) => l.startsWith('CA'));
    expect(leg).toBeDefined();
    return leg as string;
  });
  const params = {
    AccountSid: OWN_SID,
    CallSid: sid,
    CallStatus: 'ringing',
    Direction: 'outbound-api',
    From: company,
    To: newNumber(),
    SequenceNumber: '1',
  };
  const res = await postTwilio(h, `/v1/webhooks/twilio?callId=${own.body.callId}`, params, OWN_TOKEN);
  expect(res.status).toBe(200);
  await eventually(async () =>
    expect((await h.request('GET', `/calls/${own.body.callId}`, undefined, operator)).body.status).toBe('ringing'),
  );

  // Ended while it rings: canceled at Twilio, through the account's own account too.
  expect((await h.request('POST', `/calls/${own.body.callId}/end`, {}, operator)).status).toBe(200);
  const hangUp = await eventually(() => {
    const r = twilio.requests.find((x) => x.path.endsWith(`/Calls/${sid}.json`));
    expect(r).toBeDefined();
    return r!;
  });
  expect(hangUp.path).toBe(`/2010-04-01/Accounts/${OWN_SID}/Calls/${sid}.json`);
  expect(hangUp.authorization).toBe(basic(OWN_SID, OWN_TOKEN));

  const platform = await h.request('POST', '/calls', { channel: 'voice', direction: 'outbound', from: newNumber(), to: newNumber() });
  expect(platform.body.accountId).toBe('default');
  const viaPlatform = await eventually(() => {
    const r = twilio.requests.find((x) => x.form.get('Url')?.includes(platform.body.callId));
    expect(r).toBeDefined();
    return r!;
  });
  expect(viaPlatform.path).toBe(`/2010-04-01/Accounts/${PLATFORM_SID}/Calls.json`);
  expect(viaPlatform.authorization).toBe(basic(PLATFORM_SID, TWILIO_TOKEN));
});
