// GET /metrics is Prometheus text, and its counters move with traffic.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, newCallId, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h?.close());

type Sample = { name: string; labels: Record<string, string>; value: number };

/** A strict reading of the exposition format: every line is a comment or `name{labels} value`. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape() {
  const res = await h.app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const samples = parse(await res.text());
  return (name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
}

it('counts requests per route and status, failed webhook signatures and calls by status', async () => {
  const before = await scrape();
  const id = newCallId();
  expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from: '+15550004321' })).status).toBe(201);
  await h.request('GET', `/calls/${id}`);
  await h.request('GET', '/calls/no-such-call');
  const bad = await h.app.request('/v1/webhooks/events', {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json', 'x-signature': 't=1,v1=00' },
  });
  expect(bad.status).toBe(401);
  const after = await scrape();

  const created = { method: 'POST', route: '/v1/calls', status: '201' };
  expect(after('callwright_http_requests_total', created) - before('callwright_http_requests_total', created)).toBe(1);
  expect(
    after('callwright_http_request_duration_seconds_count', created) - before('callwright_http_request_duration_seconds_count', created),
  ).toBe(1);
  const viewed = { method: 'GET', route: '/v1/calls/:callId' };
  expect(
    after('callwright_http_requests_total', { ...viewed, status: '200' }) -
      before('callwright_http_requests_total', { ...viewed, status: '200' }),
  ).toBe(1);
  expect(
    after('callwright_http_requests_total', { ...viewed, status: '404' }) -
      before('callwright_http_requests_total', { ...viewed, status: '404' }),
  ).toBe(1);
  expect(
    after('callwright_webhook_verifications_failed_total', { provider: 'events' }) -
      before('callwright_webhook_verifications_failed_total', { provider: 'events' }),
  ).toBe(1);
  // Other test files change these counts concurrently: the new call is among them, and every status is reported.
  expect(after('callwright_calls', { status: 'active' })).toBeGreaterThanOrEqual(1);
  const text = await (await h.app.request('/metrics')).text();
  for (const status of ['ringing', 'dropped', 'ended']) expect(text, status).toContain(`callwright_calls{status="${status}"}`);
  expect(after('callwright_api_process_cpu_seconds_total')).toBeGreaterThan(0);
});
