// Latency of the hot paths against a running stack (`npm start` in another terminal):
//   npx tsx bench/latency.ts [iterations]
// Measures a signed Twilio status callback, a signed generic feed event and a chat message round trip.
import { randomUUID } from 'node:crypto';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks.js';
import { signFeedBody } from '../common/feed-signature.js';

const api = process.env.API_URL ?? 'http://localhost:3000';
const admin = process.env.ADMIN_API_KEY ?? 'dev-admin-key-change-me';
const twilioToken = process.env.TWILIO_AUTH_TOKEN ?? 'dev-twilio-auth-token';
const feedSecret = process.env.WEBHOOK_SECRET ?? 'dev-webhook-secret-change-me';
const n = Number(process.argv[2] ?? 50);

async function time(label: string, fn: (i: number) => Promise<Response>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fn(i);
    await res.arrayBuffer();
    times.push(performance.now() - t);
    if (res.status >= 300) throw new Error(`${label}: HTTP ${res.status}`);
  }
  const s = [...times].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  const avg = (times.reduce((a, b) => a + b, 0) / n).toFixed(1);
  console.log(`${label.padEnd(28)} n=${n}  avg ${avg} ms  p50 ${pct(0.5)}  p95 ${pct(0.95)}  max ${s.at(-1)!.toFixed(1)}`);
}

const json = { 'content-type': 'application/json', authorization: `Bearer ${admin}` };

// Twilio: one call, repeated ringing callbacks with rising sequence numbers.
const sid = `CA${randomUUID().replace(/-/g, '')}`;
const from = `+1555${String(Date.now()).slice(-7)}`;
await time('twilio status callback', (i) => {
  const params = { CallSid: sid, CallStatus: 'ringing', From: from, To: '+15550000000', Direction: 'inbound', SequenceNumber: String(i) };
  const url = `${api}/v1/webhooks/twilio`;
  return fetch(url, {
    method: 'POST',
    body: new URLSearchParams(params),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(twilioToken, url, params),
    },
  });
});

// Generic feed: voice turns on a call started through the feed.
const feedCall = `bench-${randomUUID()}`;
const post = (event: object) => {
  const body = JSON.stringify(event);
  return fetch(`${api}/v1/webhooks/events`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': signFeedBody(feedSecret, body) },
  });
};
await (
  await post({
    eventId: `${feedCall}-start`,
    type: 'call.started',
    callId: feedCall,
    data: { channel: 'voice', from, to: '+15550000000', direction: 'inbound' },
  })
).text();
await time('generic feed call.turn', (i) =>
  post({ eventId: `${feedCall}-${i}`, type: 'call.turn', callId: feedCall, data: { role: 'user', text: `turn ${i}` } }),
);

// Chat: a message round trip runs the Update, two persistence activities and the responder.
const chat = await (
  await fetch(`${api}/v1/calls`, { method: 'POST', headers: json, body: JSON.stringify({ channel: 'chat', from }) })
).json();
await time('chat message round trip', (i) =>
  fetch(`${api}/v1/calls/${chat.callId}/messages`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ text: i === 0 ? 'my name is Ada' : 'what is my name?' }),
  }),
);
