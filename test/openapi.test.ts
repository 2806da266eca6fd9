// The OpenAPI document and the routes the app serves are the same set; the docs page shows all of it.
import { describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import type { ApiDeps } from '../api/deps.js';
import { ADMIN_KEY, auth, PUBLIC_BASE_URL, TWILIO_TOKEN, WEBHOOK_SECRET } from './support/harness.js';

// Building the app connects nothing: these tests never reach a handler that would use the stores.
const unused = new Proxy(
  {},
  {
    get: () => {
      throw new Error('not connected in this test');
    },
  },
);
const app = createApp({
  gateway: unused as ApiDeps['gateway'],
  stores: { pool: unused, redis: unused } as ApiDeps['stores'],
  auth,
  webhooks: { twilioAuthToken: TWILIO_TOKEN, publicBaseUrl: PUBLIC_BASE_URL, secret: WEBHOOK_SECRET, toleranceSeconds: 300 },
  rateLimit: { perCaller: 0, perIp: 0, windowSeconds: 60 },
  checks: {},
});

/** Served but deliberately not operations of the API: the documents themselves, Prometheus' scrape and the chat client's page. */
const NOT_DOCUMENTED = [
  '/openapi.json',
  '/docs',
  '/docs/assets/start.js',
  '/docs/assets/:name',
  '/metrics',
  '/chat',
  '/chat/chat.js',
  '/chat/chat.css',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

async function document() {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as {
    openapi: string;
    paths: Record<string, Record<string, any>>;
    components: Record<string, Record<string, unknown>>;
  };
}
const operations = (doc: Awaited<ReturnType<typeof document>>) =>
  Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] })));

describe('OpenAPI', () => {
  it('every served route is documented with the same method, and every documented operation is served', async () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && !NOT_DOCUMENTED.includes(r.path))
        .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    const documented = new Set(operations(await document()).map((o) => `${o.method.toUpperCase()} ${o.path}`));
    expect([...served].sort()).toEqual([...documented].sort());
    // The contract's table, as far as this part of the API goes.
    for (const route of [
      'POST /v1/calls',
      'GET /v1/calls',
      'GET /v1/calls/{callId}',
      'GET /v1/calls/{callId}/turns',
      'POST /v1/calls/{callId}/messages',
      'POST /v1/calls/{callId}/turns',
      'POST /v1/calls/{callId}/drop',
      'POST /v1/calls/{callId}/resume',
      'POST /v1/calls/{callId}/end',
      'GET /v1/stats',
      'POST /v1/auth/tokens',
      'GET /healthz',
      'GET /readyz',
    ]) {
      expect(documented, route).toContain(route);
    }
    for (const path of NOT_DOCUMENTED)
      expect(
        app.routes.some((r) => r.path === path && r.method === 'GET'),
        path,
      ).toBe(true);
  });

  it('is OpenAPI 3.1 with a summary, responses and declared path parameters for every operation, and no dangling $ref', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    for (const { path, method, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
      const declared = (op.parameters ?? [])
        .filter((p: { in: string }) => p.in === 'path')
        .map((p: { name: string }) => p.name)
        .sort();
      expect(declared, where).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      if (path.startsWith('/v1/') && !/^\/v1\/(webhooks|voice)\//.test(path)) expect(op.security, where).toEqual([{ bearerAuth: [] }]);
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(0);
    for (const [, kind, name] of refs) expect(doc.components[kind!]?.[name!], `${kind}/${name}`).toBeDefined();
    expect(doc.components.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('every error response declares the error shape the server answers with; header examples are ASCII', async () => {
    const doc = await document();
    const errorRef = '#/components/schemas/Error';
    for (const { path, method, op } of operations(doc)) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        if (Number(status) < 400) continue;
        expect(response.content?.['application/json']?.schema?.$ref, `${method.toUpperCase()} ${path} ${status}`).toBe(errorRef);
      }
      for (const param of op.parameters ?? []) {
        if (param.in !== 'header') continue;
        const text = JSON.stringify([param.example, param.schema?.example, param.description]);
        expect(/^[\x20-\x7e]*$/.test(text), `${path} header ${param.name}`).toBe(true);
      }
    }
  });

  it('a known path asked with another method is a 405 with Allow; an unknown path a 404', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/v1/calls/some-id', 'GET, HEAD'],
      ['GET', '/v1/calls/some-id/messages', 'POST'],
      ['PUT', '/v1/calls', 'GET, HEAD, POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const) {
      const res = await app.request(path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect((await res.json()).error.code).toBe('method_not_allowed');
    }
    const missing = await app.request('/v1/nothing-here', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('allow')).toBeNull();
  });

  it('every documented /v1 operation except webhooks refuses a request without credentials', async () => {
    for (const { path, method } of operations(await document())) {
      if (!path.startsWith('/v1/') || path.startsWith('/v1/webhooks')) continue;
      const res = await app.request(path.replace(/\{\w+\}/g, 'some-id'), { method: method.toUpperCase() });
      expect(res.status, `${method.toUpperCase()} ${path}`).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
  });
});

describe('GET /docs', () => {
  it('is Swagger UI on /openapi.json with every asset served by the API itself (no CDN, no inline script)', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(html).not.toMatch(/<script>/);
    for (const ref of refs) {
      expect(ref, 'same origin').toMatch(/^\/(?!\/)/);
      const asset = await app.request(ref);
      expect(asset.status, ref).toBe(200);
      if (ref.endsWith('.js')) expect(asset.headers.get('content-type'), ref).toMatch(/^text\/javascript/);
    }
    expect(await (await app.request('/docs/assets/start.js')).text()).toContain("url: '/openapi.json'");
    expect((await app.request('/docs/assets/package.json')).status).toBe(404);
  });
});
