// What the demo prints: masked numbers, the table of calls as the API reads them back, where to look next.
import { settings, type CallView } from './client.js';
import type { Expected, Scenario } from './scenarios.js';

/** Every digit but the last four hidden: +15551234567 → +*******4567. */
export function mask(number: string | null): string {
  if (!number) return '-';
  let left = number.replace(/\D/g, '').length;
  return number.replace(/\d/g, (d) => (left-- > 4 ? '*' : d));
}

export const short = (sid: string) => (sid.length > 14 ? `${sid.slice(0, 6)}…${sid.slice(-4)}` : sid);

/** Local clock time and how far away it is. */
export function time(iso: string | null): string {
  if (!iso) return '-';
  const at = new Date(iso);
  const s = Math.round((at.getTime() - Date.now()) / 1000);
  const rel = `${Math.floor(Math.abs(s) / 60)}m ${String(Math.abs(s) % 60).padStart(2, '0')}s`;
  return `${at.toLocaleTimeString('en-GB')} (${s >= 0 ? `in ${rel}` : `${rel} ago`})`;
}

const state = (status: string, disposition: string | null) => (disposition ? `${status}/${disposition}` : status);

export interface Row {
  scenario: Scenario;
  call: CallView | null;
  ok: boolean;
}

export function printTable(rows: Row[]): void {
  const head = ['', 'call id', 'channel', 'caller', 'scenario', 'status/disposition', 'turns', 'drops', 'resumes'];
  const body = rows.map(({ scenario, call, ok }) => [
    ok ? '✓' : '✗',
    scenario.callId,
    call?.channel ?? '?',
    mask(call?.from ?? null),
    scenario.name,
    call ? state(call.status, call.disposition) : 'not found',
    String(call?.turnCount ?? '-'),
    String(call?.dropCount ?? '-'),
    String(call?.resumeCount ?? '-'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = (i: number) => i >= 6;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(`\n${line(head)}\n${widths.map((w) => '─'.repeat(w)).join('  ')}`);
  for (const r of body) console.log(line(r));
  for (const { scenario, call, ok } of rows) {
    if (!ok)
      console.log(
        `✗ ${scenario.callId}: expected ${describe(scenario.expected)}; the API says ${call ? describe(actual(call)) : 'no such call'}`,
      );
  }
}

const actual = (c: CallView): Expected => ({
  status: c.status,
  disposition: c.disposition,
  turns: c.turnCount,
  drops: c.dropCount,
  resumes: c.resumeCount,
  legs: c.legs.length,
});
const describe = (e: Expected) =>
  `${state(e.status, e.disposition)}, ${e.turns} turns, ${e.drops} drops, ${e.resumes} resumes${e.legs === undefined ? '' : `, ${e.legs} legs`}`;

const workflows = () => `${settings.temporalUi}/namespaces/${encodeURIComponent(settings.namespace)}/workflows`;

export const workflowUrl = (call: CallView) => `${workflows()}/${encodeURIComponent(call.workflowId ?? `call-${call.callId}`)}`;

export function printLinks(links: [label: string, url: string][]): void {
  const dropped = `${workflows()}?query=${encodeURIComponent('CallStatus="dropped"')}`;
  const all: [string, string][] = [['Temporal UI, calls waiting for a callback', dropped], ...links, ['API docs', `${settings.api}/docs`]];
  const width = Math.max(...all.map(([label]) => label.length));
  console.log('\nWhere to look');
  for (const [label, url] of all) console.log(`  ${label.padEnd(width)}  ${url}`);
}
