// /docs: Swagger UI rendered in the browser from /openapi.json, with try-it requests against this API.
// Its assets come from the swagger-ui-dist package and are served here: nothing loads from the internet.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono } from 'hono';
import { ApiError } from './errors.js';

export const OPENAPI_CONFIG = {
  openapi: '3.1.0',
  info: { title: 'Callwright API', version: '1.0.0', description: 'Durable call lifecycles on Temporal' },
};

const require = createRequire(import.meta.url);
const DIST: string = require('swagger-ui-dist').getAbsoluteFSPath();
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

// Inline scripts stay forbidden: the page's own start-up script is a file like the others.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'";

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${OPENAPI_CONFIG.info.title}</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head><body>
<noscript>This reference needs JavaScript; the machine-readable document is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body></html>`;

// Operators paste ADMIN_API_KEY (or a chat client's JWT) into "Authorize"; it is kept across reloads.
const START = `window.ui = SwaggerUIBundle({
  url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true,
  tryItOutEnabled: true, displayRequestDuration: true, filter: true,
  presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout',
});`;

/** GET /docs and its assets, read once from the package and kept in memory. */
export function docsRoutes(): Hono {
  const cache = new Map<string, Promise<Buffer>>();
  const asset = (name: string) => {
    if (!cache.has(name)) cache.set(name, readFile(join(DIST, name)));
    return cache.get(name)!;
  };
  return new Hono()
    .get('/', (c) => {
      c.header('content-security-policy', CSP);
      return c.html(PAGE);
    })
    .get('/assets/start.js', (c) => c.body(START, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
    .get('/assets/:name', async (c) => {
      const type = ASSETS[c.req.param('name')];
      if (!type) throw new ApiError('not_found', `no asset ${c.req.param('name')}`);
      const body = await asset(c.req.param('name'));
      return c.body(new Uint8Array(body), 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
    });
}
