// The operator's view in the real Temporal Web UI: a dropped call is found by its search attributes,
// and its page shows who called and until when they can resume. Screenshots go to a temporary folder;
// refresh the ones in docs/ with: SCREENSHOT_DIR=docs npx vitest run test/temporal-ui.test.ts
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { workflowIdFor } from '../workflows/messages.js';
import { hasChromium, launchBrowser, markdownPanel, presetWorkflowColumns, type Browser } from './support/browser.js';
import { createHarness, eventually, newCallId, type Harness } from './support/harness.js';

const DOCS = `${process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : mkdtempSync(join(tmpdir(), 'callwright-ui-'))}/`;
const UI_TIMEOUT = 20_000;

describe.skipIf(!hasChromium)('Temporal UI (needs Chromium at /usr/bin/chromium; .ci/run installs it)', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    // The default 10-minute resume window keeps the call dropped while the browser looks at it.
    [h, browser] = await Promise.all([createHarness(), launchBrowser()]);
    await presetWorkflowColumns(browser.context, 'default', [
      'Status',
      'Workflow ID',
      'CallerNumber',
      'CallChannel',
      'TurnCount',
      'DropCount',
      'Start',
    ]);
    mkdirSync(DOCS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('lists a dropped call under CallStatus="dropped" and shows its summary and current details', async () => {
    const id = newCallId();
    const workflowId = workflowIdFor(id);
    const from = `+1559${randomInt(1_000_000, 10_000_000)}`;
    expect((await h.request('POST', '/calls', { callId: id, channel: 'chat', from })).status).toBe(201);
    expect((await h.request('POST', `/calls/${id}/messages`, { text: 'my name is Ada' })).status).toBe(200);
    const { resumeDeadline } = (await h.request('POST', `/calls/${id}/drop`, { reason: 'network' })).body;
    await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of h.client.workflow.list({ query: `CallStatus="dropped" AND CallerNumber="${from}"` })) ids.push(wf.workflowId);
      expect(ids).toEqual([workflowId]);
    });

    const page = await browser.context.newPage();
    const list = `${inject('temporalUiUrl')}/namespaces/default/workflows?query=${encodeURIComponent('CallStatus="dropped"')}`;
    const link = page.getByRole('link', { name: workflowId, exact: true });
    // The UI loads the list once per visit: reload until the freshly indexed call is in it.
    await eventually(async () => {
      await page.goto(list);
      await link.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    }, 60_000);
    const row = page.getByRole('row').filter({ has: link });
    await row.getByText(from, { exact: true }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.screenshot({ path: `${DOCS}temporal-ui-dropped-calls.png` });

    await link.click();
    await page.waitForURL(new RegExp(`/workflows/${workflowId}/[^/]+/`), { timeout: UI_TIMEOUT });
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const summary = markdownPanel(page, 'Summary').getByText(`chat call from ${from}`);
    await summary.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const details = markdownPanel(page, 'Current Details');
    await details.getByText(`Resume by: ${resumeDeadline}`).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await expect(details.locator('body').textContent()).resolves.toMatch(/Status:\s*dropped/);
    await page.getByText('resume window: 10m').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await page.screenshot({ path: `${DOCS}temporal-ui-call.png`, fullPage: true });

    for (const shot of ['temporal-ui-dropped-calls.png', 'temporal-ui-call.png'])
      expect(statSync(`${DOCS}${shot}`).size).toBeGreaterThan(10_000);
  }, 120_000);
});
