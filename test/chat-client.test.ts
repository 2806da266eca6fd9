// The /chat page in headless Chromium against the API on a real port: a chat, a closed page (its drop sent
// as a beacon), a reopened page that resumes the same call with its history, and a page reopened after the
// resume window that starts a new call and says so. Screenshots go to a temporary folder; refresh the
// ones in docs/ with: SCREENSHOT_DIR=docs npx vitest run test/chat-client.test.ts
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEverywhere } from './support/assertions.js';
import { hasChromium, launchBrowser, type Browser } from './support/browser.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

const DOCS = `${process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'callwright-chat-'))}/`;
const UI_TIMEOUT = 20_000;

describe.skipIf(!hasChromium)('chat client (needs Chromium at /usr/bin/chromium; .ci/run installs it)', () => {
  let h: Harness;
  let browser: Browser;
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    [h, browser] = await Promise.all([createHarness(), launchBrowser({ width: 900, height: 640 })]);
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(DOCS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    if (server) await new Promise((done) => server.close(done));
    await h?.close();
  });

  const linkFor = async (subject: string) => `${base}/chat#token=${(await h.request('POST', '/auth/tokens', { subject })).body.token}`;
  const savedCall = (page: Page, subject: string) => page.evaluate((key) => localStorage.getItem(key), `callwright.chat.${subject}`);
  const bubble = (page: Page, role: string, text: string) => page.locator(`#transcript li[data-role="${role}"]`, { hasText: text });
  async function say(page: Page, text: string, reply: string) {
    await page.fill('#message', text);
    await page.press('#message', 'Enter');
    await bubble(page, 'assistant', reply).waitFor({ timeout: UI_TIMEOUT });
  }

  it('chats, reports a drop when the page closes, and resumes the same call with its history when reopened', async () => {
    const from = `+1557${randomInt(1_000_000, 10_000_000)}`;
    const link = await linkFor(from);
    const page = await browser.context.newPage();
    await page.goto(link);
    await page.locator('#status[data-status="active"]').waitFor({ timeout: UI_TIMEOUT });
    await page.locator('#live[data-live="true"]').waitFor({ timeout: UI_TIMEOUT });
    // The token leaves the address bar (and so history and screenshots).
    expect(page.url()).toBe(`${base}/chat`);
    await say(page, 'my name is Ada', 'Nice to meet you, Ada.');
    await bubble(page, 'user', 'my name is Ada').waitFor({ timeout: UI_TIMEOUT });
    const callId = (await savedCall(page, from))!;
    expect(callId).toBeTruthy();
    await expectEverywhere(h, callId, { status: 'active', from, turnCount: 2 });
    await page.screenshot({ path: `${DOCS}chat.png` });

    await page.close({ runBeforeUnload: true });
    await expectEverywhere(h, callId, { status: 'dropped', dropCount: 1 });
    const [row] = await h.rows('SELECT status, drop_count FROM calls WHERE call_id = $1', [callId]);
    expect(row).toEqual({ status: 'dropped', drop_count: 1 });
    const [drop] = await h.rows("SELECT payload FROM call_events WHERE call_id = $1 AND type = 'drop'", [callId]);
    expect(drop.payload).toMatchObject({ reason: 'chat page closed' });

    const again = await browser.context.newPage();
    await again.goto(link);
    await again.locator('#notice', { hasText: 'Welcome back' }).waitFor({ timeout: UI_TIMEOUT });
    await again.locator('#status[data-status="active"]').waitFor({ timeout: UI_TIMEOUT });
    // The earlier transcript is on screen before anything new is said.
    await bubble(again, 'user', 'my name is Ada').waitFor({ timeout: UI_TIMEOUT });
    await bubble(again, 'assistant', 'Nice to meet you, Ada.').waitFor({ timeout: UI_TIMEOUT });
    await say(again, 'what is my name?', 'Your name is Ada.');
    expect(await savedCall(again, from)).toBe(callId);
    expect(await again.locator('#transcript li').allInnerTexts()).toMatchObject([
      expect.stringContaining('my name is Ada'),
      expect.stringContaining('Nice to meet you, Ada.'),
      expect.stringContaining('what is my name?'),
      expect.stringContaining('Your name is Ada.'),
    ]);
    await expectEverywhere(h, callId, { status: 'active', resumeCount: 1, turnCount: 4 });
    await again.screenshot({ path: `${DOCS}chat-resumed.png` });
    await again.close();
  });

  it('on a second device (nothing saved in its browser), continues the dropped conversation with its history', async () => {
    const from = `+1557${randomInt(1_000_000, 10_000_000)}`;
    const first = await browser.context.newPage();
    await first.goto(await linkFor(from));
    await say(first, 'my name is Grace', 'Nice to meet you, Grace.');
    const callId = (await savedCall(first, from))!;
    await first.close({ runBeforeUnload: true });
    await expectEverywhere(h, callId, { status: 'dropped' });

    // Another device: a browser profile of its own.
    const device = await launchBrowser({ width: 900, height: 640 });
    try {
      const page = await device.context.newPage();
      await page.goto(await linkFor(from));
      await page.locator('#notice', { hasText: 'Welcome back' }).waitFor({ timeout: UI_TIMEOUT });
      await bubble(page, 'assistant', 'Nice to meet you, Grace.').waitFor({ timeout: UI_TIMEOUT });
      await say(page, 'what is my name?', 'Your name is Grace.');
      expect(await savedCall(page, from)).toBe(callId);
      await expectEverywhere(h, callId, { status: 'active', resumeCount: 1, turnCount: 4 });
    } finally {
      await device.close();
    }
  });

  it('after the resume window, starts a new call and says so', async () => {
    const from = `+1557${randomInt(1_000_000, 10_000_000)}`;
    const agentId = `quick-${newCallId()}`;
    expect((await h.request('POST', '/agents', { agentId, name: 'Quick', resumeWindow: '1s' })).status).toBe(201);
    const old = newCallId();
    expect((await h.request('POST', '/calls', { callId: old, channel: 'chat', from, agentId })).status).toBe(201);
    expect((await h.request('POST', `/calls/${old}/drop`, {})).status).toBe(200);
    await expectEverywhere(h, old, { status: 'ended', disposition: 'abandoned' });

    const page = await browser.context.newPage();
    // The page remembers the old call, as if it had been open before.
    await page.goto(`${base}/chat/chat.css`);
    await page.evaluate(([key, value]) => localStorage.setItem(key, value), [`callwright.chat.${from}`, old] as const);
    await page.goto(await linkFor(from));
    await page.locator('#notice', { hasText: 'expired' }).waitFor({ timeout: UI_TIMEOUT });
    await page.locator('#status[data-status="active"]').waitFor({ timeout: UI_TIMEOUT });
    const fresh = await eventually(async () => {
      const id = await savedCall(page, from);
      expect(id).not.toBe(old);
      return id!;
    });
    await expectEverywhere(h, fresh, { status: 'active', from, turnCount: 0 });
    await page.close();
  });
});
