// /docs in a real browser: Swagger UI lists every documented operation, and a try-it request from the
// page reaches the API. Refresh docs/api-reference.png with: SCREENSHOT_DIR=docs npx vitest run test/docs-browser.test.ts
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, type Browser } from './support/browser.js';
import { createHarness, type Harness } from './support/harness.js';

const SHOTS = process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'callwright-docs-'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

describe.skipIf(!hasChromium)('/docs in Chromium (needs /usr/bin/chromium; .ci/run installs it)', () => {
  let h: Harness;
  let browser: Browser;
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    [h, browser] = await Promise.all([createHarness({ noWorker: true }), launchBrowser({ width: 1400, height: 1000 })]);
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await h?.close();
  });

  it('lists every operation of /openapi.json and runs a try-it request against the API', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const count = Object.values(doc.paths).reduce((n, item) => n + METHODS.filter((m) => item[m]).length, 0);
    const page = await browser.context.newPage();
    const offsite: string[] = [];
    page.on('request', (req) => void (req.url().startsWith(base) || req.url().startsWith('data:') || offsite.push(req.url())));
    await page.goto(`${base}/docs`);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 20_000 }).toBe(count);

    const health = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path[data-path="/healthz"]') });
    await health.locator('.opblock-summary').click();
    const answered = page.waitForResponse((res) => res.url() === `${base}/healthz`);
    await health.getByRole('button', { name: 'Execute' }).click();
    expect((await answered).status()).toBe(200);
    await expect
      .poll(() => health.locator('.live-responses-table tbody .response-col_status').first().textContent(), { timeout: 10_000 })
      .toContain('200');

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'api-reference.png') });
    expect(offsite, 'requests that left the API').toEqual([]);
  });
});
