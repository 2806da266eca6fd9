// GET /chat: the web chat client (web/chat). Its TypeScript is bundled by esbuild on the first request and
// served from memory with the page and its styles; nothing comes from a CDN.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Hono, type Context } from 'hono';

const SOURCE = fileURLToPath(new URL('../web/chat/', import.meta.url));

// Only this origin's script, styles and API: the token the page holds cannot be sent anywhere else.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Assets {
  html: string;
  css: string;
  js: string;
}

async function load(): Promise<Assets> {
  const [html, css, bundle] = await Promise.all([
    readFile(`${SOURCE}index.html`, 'utf8'),
    readFile(`${SOURCE}chat.css`, 'utf8'),
    build({
      entryPoints: [`${SOURCE}chat.ts`],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    }),
  ]);
  return { html, css, js: bundle.outputFiles[0]!.text };
}

export function chatPage(): Hono {
  let assets: Promise<Assets> | undefined;
  // Built once; a failed build is tried again on the next request.
  const get = () =>
    (assets ??= load().catch((err) => {
      assets = undefined;
      throw err;
    }));
  const send = (type: string, pick: (a: Assets) => string) => async (c: Context) =>
    c.body(pick(await get()), 200, {
      'content-type': type,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    });
  return new Hono()
    .get(
      '/chat',
      send('text/html; charset=utf-8', (a) => a.html),
    )
    .get(
      '/chat/chat.js',
      send('text/javascript; charset=utf-8', (a) => a.js),
    )
    .get(
      '/chat/chat.css',
      send('text/css; charset=utf-8', (a) => a.css),
    );
}
