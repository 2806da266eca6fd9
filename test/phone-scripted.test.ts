// The terminal phone against a scripted TwiML server: every verb it follows, the requests it signs (over
// PUBLIC_BASE_URL, sent to --url), its status callbacks and its exits. test/phone.test.ts runs it against Callwright.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPhone } from './support/phone-process.js';

const TOKEN = 'scripted-twilio-token';
const PUBLIC = 'https://phone.example.com';

interface Seen {
  path: string;
  params: Record<string, string>;
  signed: boolean;
}
type Script = (path: string, params: Record<string, string>) => { status?: number; body: string };

let server: Server;
let url: string;
let script: Script = () => ({ body: '<Response/>' });
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const signed = validateRequest(TOKEN, String(req.headers['x-twilio-signature']), PUBLIC + req.url, params);
      seen.push({ path: req.url!, params, signed });
      const answer = signed ? script(req.url!, params) : { status: 401, body: '{"error":{"code":"unauthorized"}}' };
      res.writeHead(answer.status ?? 200, { 'content-type': 'text/xml' }).end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((done) => server?.close(done)));

const twiml = (verbs: string) => ({ body: `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs}</Response>` });
const phone = (args: string[] = [], token = TOKEN) =>
  startPhone(['--url', url, '--from', '+15550109999', ...args], { PUBLIC_BASE_URL: PUBLIC, TWILIO_AUTH_TOKEN: token });
const since = (start: number) => seen.slice(start);

describe('npm run phone, against a scripted server', () => {
  it('follows Say, Gather (speech, keys, silence), relative URLs, Pause, Dial and Hangup, then redials from the same number', async () => {
    let calls = 0;
    script = (path) => {
      if (path === '/v1/voice/twilio') {
        calls += 1;
        if (calls === 2) return twiml('<Reject reason="busy"/>');
        return twiml('<Say>Hi there.</Say><Gather input="speech" action="turn?n=1"><Say>Say something.</Say></Gather>');
      }
      if (path === '/v1/voice/turn?n=1') return twiml(`<Say>You said it.</Say><Gather input="speech dtmf" action="${PUBLIC}/keys"/>`);
      if (path === '/keys')
        return twiml('<Gather input="speech"><Say>Quiet now.</Say></Gather><Pause length="2"/><Redirect>/after</Redirect>');
      if (path === '/after') return twiml('<Say>Heard nothing.</Say><Dial action="/dialed" timeout="20">+15550001111</Dial>');
      if (path === '/dialed') return twiml('<Say>Line busy.</Say><Hangup/><Say>never said</Say>');
      return { body: '<Response/>' };
    };
    const start = seen.length;
    const p = phone();
    let at = await p.waitFor('assistant: Hi there.\nassistant: Say something.\nyou: ');
    p.say('hello');
    at = await p.waitFor('assistant: You said it.\nyou: ', at);
    p.say('/digits 12#');
    at = await p.waitFor('assistant: Quiet now.\nyou: ', at);
    p.say('/digits 5');
    at = await p.waitFor('does not listen for keys (input="speech")', at);
    p.say('');
    at = await p.waitFor('assistant: Heard nothing.\ndialing +15550001111 (rings for up to 20 s)\noutcome?', at);
    p.say('busy');
    at = await p.waitFor('assistant: Line busy.\ncall ended: /redial calls again, /quit leaves\n', at);
    at = await p.waitFor('> ', at);
    expect(p.output()).not.toContain('never said');
    p.say('/redial');
    at = await p.waitFor('call rejected (busy): /redial', at);
    await p.waitFor('> ', at);
    p.say('/quit');
    expect(await p.exited()).toBe(0);

    const requests = since(start);
    expect(requests.every((r) => r.signed)).toBe(true);
    expect(requests.map((r) => r.path)).toEqual([
      '/v1/voice/twilio',
      '/v1/voice/turn?n=1',
      '/keys',
      '/after',
      '/dialed',
      '/v1/webhooks/twilio',
      '/v1/voice/twilio',
      '/v1/webhooks/twilio',
    ]);
    const [first, turn, keys, redirect, dialed, ended, second, rejected] = requests.map((r) => r.params);
    expect(first).toMatchObject({ CallStatus: 'ringing', Direction: 'inbound', From: '+15550109999', To: '+15550100002' });
    expect(first).toMatchObject({ Caller: '+15550109999', Called: '+15550100002', ApiVersion: '2010-04-01' });
    expect(first.AccountSid).toMatch(/^AC[0-9a-f]{32}$/);
    expect(first.CallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(turn).toMatchObject({ CallSid: first.CallSid, CallStatus: 'in-progress', SpeechResult: 'hello', Confidence: '0.9' });
    expect(keys).toMatchObject({ CallSid: first.CallSid, Digits: '12#' });
    expect(keys.SpeechResult).toBeUndefined();
    expect(redirect.SpeechResult ?? redirect.Digits).toBeUndefined();
    expect(dialed).toMatchObject({ DialCallStatus: 'busy' });
    expect(ended).toMatchObject({ CallSid: first.CallSid, CallStatus: 'completed', SequenceNumber: '0', From: '+15550109999' });
    expect(ended.CallDuration).toMatch(/^\d+$/);
    expect(ended.Timestamp).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(second).toMatchObject({ CallStatus: 'ringing', From: '+15550109999', To: '+15550100002' });
    expect(second.CallSid).not.toBe(first.CallSid);
    expect(rejected).toMatchObject({ CallSid: second.CallSid, CallStatus: 'busy', CallDuration: '0' });
  });

  it('reports an answered transfer, and a <Connect> it cannot simulate, then leaves at the end of input', async () => {
    script = (path) => {
      if (path === '/v1/voice/twilio') return twiml('<Dial action="/dialed">+15550001111</Dial>');
      return twiml('<Connect><ConversationRelay url="wss://phone.example.com/relay"/></Connect>');
    };
    const start = seen.length;
    const p = phone();
    const at = await p.waitFor('outcome?');
    p.say('');
    await p.waitFor('ConversationRelay is not simulated', at);
    await p.waitFor('> ', at);
    expect(await p.exited()).toBe(0);
    const [, dialed, ended] = since(start).map((r) => r.params);
    expect(dialed).toMatchObject({ DialCallStatus: 'completed', DialCallDuration: expect.stringMatching(/^\d+$/) });
    expect(dialed.DialCallSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(ended.CallStatus).toBe('completed');
  });

  it('hangs up mid-conversation with /hangup, and again when input ends in a call', async () => {
    script = () => twiml('<Gather input="speech" action="/turn"><Say>Hello?</Say></Gather>');
    const start = seen.length;
    const p = phone();
    let at = await p.waitFor('you: ');
    p.say('/hangup');
    at = await p.waitFor('you hung up: /redial calls again, /quit leaves\n', at);
    p.say('/redial');
    await p.waitFor('you: ', at);
    expect(await p.exited()).toBe(0);
    const statuses = since(start).map((r) => `${r.path} ${r.params.CallStatus}`);
    expect(statuses).toEqual([
      '/v1/voice/twilio ringing',
      '/v1/webhooks/twilio completed',
      '/v1/voice/twilio ringing',
      '/v1/webhooks/twilio completed',
    ]);
  });

  it('exits 1 with the reason when the signature is refused, the answer is not TwiML, or nothing listens', async () => {
    const refused = phone([], 'wrong-token');
    expect(await refused.exited()).toBe(1);
    expect(refused.errors()).toContain('phone: POST /v1/voice/twilio answered 401: {"error":{"code":"unauthorized"}}');
    expect(refused.errors()).toContain('set TWILIO_AUTH_TOKEN (or --token), and PUBLIC_BASE_URL');

    script = () => ({ body: '<html><body>hello</body></html>' });
    const html = phone();
    expect(await html.exited()).toBe(1);
    expect(html.errors()).toContain('phone: /v1/voice/twilio answered not TwiML: the root element is <html>, not <Response>');

    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const nobody = startPhone(['--url', `http://127.0.0.1:${port}`]);
    expect(await nobody.exited()).toBe(1);
    expect(nobody.errors()).toContain(`phone: no Callwright at http://127.0.0.1:${port}: run npm start`);
  });

  it('refuses a number that is not E.164, and explains itself with --help', async () => {
    const bad = startPhone(['--from', '5550100']);
    expect(await bad.exited()).toBe(2);
    expect(bad.errors()).toContain('--from must be an E.164 number');
    const help = startPhone(['--help']);
    expect(await help.exited()).toBe(0);
    expect(help.output()).toContain('/hangup');
  });
});
