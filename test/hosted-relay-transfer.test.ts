// An operator transfers a ConversationRelay call: Twilio's call update replaces the relay with the
// <Dial>, which closes its socket. That close is the handoff, not the caller leaving: the call stays
// active, and a busy line returns the caller to the assistant.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventRows } from './support/assertions.js';
import { eventually, type Harness } from './support/harness.js';
import type { TwilioApi } from './support/twilio-api.js';
import { agentNumber, hostedHarness, newNumber } from './support/twilio-hosted.js';
import { RelayClient, serveWithRelay, type Served } from './support/twilio-relay.js';
import { readTwiml, TwilioCall } from './support/twilio-voice.js';

let h: Harness;
let twilio: TwilioApi;
let served: Served;
beforeAll(async () => {
  ({ h, twilio } = await hostedHarness());
  served = await serveWithRelay(h);
});
afterAll(async () => {
  served?.close();
  await h?.close();
  await twilio?.close();
});

it("keeps a relay call active through an operator's transfer and returns it to the assistant when the line is busy", async () => {
  const number = await agentNumber(h, { voice: { mode: 'relay' } });
  const call = new TwilioCall(h, newNumber(), number);
  expect((await call.dial()).connect).toBeDefined();
  const relay = await RelayClient.open(served.port);
  relay.setup(call.sid, call.from, number);
  relay.prompt('my name is Ada');
  await relay.reply();

  expect((await h.request('POST', `/calls/${call.sid}/transfer`, { to: '+15550142001' })).status).toBe(200);
  const update = await eventually(() => {
    const request = twilio.requests.find((r) => r.path.endsWith(`/Calls/${call.sid}.json`));
    expect(request).toBeDefined();
    return request!;
  });
  const dial = readTwiml(update.form.get('Twiml')!).dial!;
  // Twilio ends the relay session to run the new TwiML: the socket closes without an `end`.
  await relay.close();
  const busy = await call.post(dial.action, { DialCallStatus: 'busy' });
  // The conversation goes on over a new relay session, which opens with the apology.
  expect(busy.connect?.welcomeGreeting).toMatch(/^Sorry, the line was busy/);
  expect((await h.query(call.sid)).status).toBe('active');
  const drops = (await eventRows(h, call.sid)).filter((e) => e.type === 'drop');
  expect(drops.map((e) => [e.applied, e.payload.ignored])).toEqual([[false, 'the relay closed for a transfer being dialed']]);
});
