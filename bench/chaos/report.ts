// The chaos run's figures: one table row per scenario, then what was injected and what went wrong.
import type { Figures, TaskTimeouts } from './verify.js';

export interface ScenarioResult {
  name: string;
  title: string;
  /** Failed attempts by kind, over the scenario's requests (setup included). */
  errors: Record<string, number>;
  clientBugs: string[];
  /** What the fault injector did, with offsets from the load's start. */
  faults: string[];
  /** What should not have happened: unplanned exits, a stack that did not recover, a store that disagrees. */
  incidents: string[];
  viewMismatches: string[];
  figures: Figures | null;
  /** Workflow tasks that timed out in the calls' histories: what a killed worker's calls waited for. */
  taskTimeouts: TaskTimeouts | null;
  goalsMissed: string[];
}

/** The goals a scenario must meet; each miss is named. */
export function goalsMissed(r: Omit<ScenarioResult, 'goalsMissed'>): string[] {
  const f = r.figures;
  if (!f) return ['not verified'];
  const missed: string[] = [];
  if (f.lost) missed.push(`${f.lost} lost`);
  if (f.doubled) missed.push(`${f.doubled} doubled`);
  if (f.gaps) missed.push(`${f.gaps} seq gaps`);
  if (f.misordered) missed.push(`${f.misordered} misordered`);
  if (f.accepted < f.sent) missed.push(`${f.sent - f.accepted} never accepted`);
  if (f.setupFailed) missed.push(`${f.setupFailed} calls not started`);
  if (r.clientBugs.length) missed.push(`${r.clientBugs.length} client 4xx`);
  if (r.viewMismatches.length) missed.push(`${r.viewMismatches.length} API views differ from PostgreSQL`);
  if (r.incidents.length) missed.push(`${r.incidents.length} incidents`);
  return missed;
}

const clip = (text: string) => {
  const lines = text.split('\n');
  return lines.length > 12 ? [lines[0]!, '...', ...lines.slice(-10)] : lines;
};
const ms = (x: number | undefined) => (x === undefined ? '-' : x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(2)} s`);
const pair = (l: Figures['latencyMs']['all']) => (l ? `${ms(l.p50)} / ${ms(l.p99)}` : '-');

export function renderTable(results: ScenarioResult[], header: string): string {
  const head = [
    'scenario',
    'sent',
    'accepted',
    'lost',
    'doubled',
    'seq gaps',
    'misordered',
    'p50',
    'p99',
    'chat p50 / p99',
    'feed p50 / p99',
    'client errors (attempts, by kind)',
    'goals',
  ];
  const rows = results.map((r) => {
    const f = r.figures;
    const errors =
      Object.entries(r.errors)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} x${n}`)
        .join(', ') || 'none';
    const n = (x: number | undefined) => (x === undefined ? '-' : String(x));
    return [
      r.name,
      n(f?.sent),
      n(f?.accepted),
      n(f?.lost),
      n(f?.doubled),
      n(f?.gaps),
      n(f?.misordered),
      ms(f?.latencyMs.all?.p50),
      ms(f?.latencyMs.all?.p99),
      pair(f?.latencyMs.chat ?? null),
      pair(f?.latencyMs.voice ?? null),
      errors,
      r.goalsMissed.length ? `MISSED: ${r.goalsMissed.join(', ')}` : 'met',
    ];
  });
  const lines = [header, '', `| ${head.join(' | ')} |`, `|${head.map((h, i) => (i && i < 11 ? '---:' : '---')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
  for (const r of results) {
    lines.push(`**${r.name}**: ${r.title}`);
    if (r.faults.length) lines.push(`- faults: ${r.faults.join('; ')}`);
    const f = r.figures;
    if (f) {
      const extra = [`${f.conversations} conversations`];
      if (f.replyMismatch) extra.push(`${f.replyMismatch} chat replies differ from PostgreSQL`);
      if (f.foreign) extra.push(`${f.foreign} turns nobody sent`);
      if (f.storedUnaccepted) extra.push(`${f.storedUnaccepted} stored though never accepted`);
      const slowest = (['chat', 'voice'] as const).map((c) => `${c === 'chat' ? 'chat' : 'feed'} ${ms(f.latencyMs[c]?.max)}`);
      extra.push(`slowest ${slowest.join(', ')}`);
      lines.push(`- ${extra.join(', ')}`);
      for (const e of f.examples) lines.push(`- finding: ${e}`);
    }
    const t = r.taskTimeouts;
    if (t)
      lines.push(
        `- workflow tasks timed out: ${t.scheduleToStart} on a sticky queue (schedule-to-start), ${t.startToClose} started (start-to-close)`,
      );
    for (const v of r.viewMismatches.slice(0, 10)) lines.push(`- view: ${v}`);
    for (const bug of r.clientBugs.slice(0, 5)) lines.push(`- client 4xx: ${bug}`);
    // The full tail of a process's output is in the JSON and the log file; the table keeps its last lines.
    for (const i of r.incidents) lines.push(`- INCIDENT: ${clip(i).join('\n      ')}`);
  }
  return lines.join('\n');
}
