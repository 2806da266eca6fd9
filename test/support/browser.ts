// Debian's Chromium driven by playwright-core (no browser download), and what the tests know about
// the Temporal Web UI's DOM (UI 2.42.1, bundled with the pinned Temporal CLI).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a throwaway profile; `close` removes the profile too. */
export async function launchBrowser(viewport = { width: 1600, height: 1000 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'callwright-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, viewport, colorScheme: 'light' });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Sets the workflow table's columns, as an operator would with the UI's column settings (which it
 * keeps in localStorage); custom search attributes are shown by name.
 */
export async function presetWorkflowColumns(context: BrowserContext, namespace: string, labels: string[]): Promise<void> {
  const columns = labels.map((label, i) => ({ label, pinned: i < 2 }));
  await context.addInitScript(([key, value]) => localStorage.setItem(key, value), [
    'namespace-workflow-table-columns',
    JSON.stringify({ [namespace]: columns }),
  ] as const);
}

/** The markdown under a heading of the workflow's User Metadata tab; the UI renders it in an iframe. */
export function markdownPanel(page: Page, heading: 'Summary' | 'Details' | 'Current Details'): FrameLocator {
  return page
    .locator(
      `xpath=//h3[normalize-space()="${heading}"]/ancestor::div[contains(@class,"surface-information")][1]/following-sibling::*[1]//iframe`,
    )
    .contentFrame();
}
