// The side-by-side table, the profile that explains it, and the JSON for machines.
import type { HistoryProfile } from './history.js';
import type { Latency, Throughput } from './stats.js';

export interface Figures {
  meta: Record<string, unknown>;
  raw: {
    updateLatency: Latency;
    /** Not a goal: the floor of a turn answered after one write (an Update that awaits one no-op local activity). */
    writtenUpdateLatency: Latency;
    signalAck: Latency;
    updateThroughput: Throughput;
    signalsProcessed: Throughput;
    startQueryUpdate: Throughput;
  };
  product: {
    chatTurn: Latency;
    webhookAck: Latency;
    /** Not a goal: GET /healthz, so Signal + this is the floor of a webhook ack. */
    httpHop: Latency;
    concurrentChats: Throughput;
    voiceTurns: Throughput & { ackedSeconds: number };
    startDrop: Throughput;
  };
  phases: Phase[];
  history: { rawUpdate: HistoryProfile; chatTurn: HistoryProfile };
}

export interface Phase {
  name: string;
  ops: number;
  seconds: number;
  /** CPU seconds per process group during the phase. */
  cpu: Record<string, number>;
}

export interface Goal {
  path: string;
  raw: number;
  product: number;
  ratio: number;
  goal: string;
  met: boolean;
}

/** Latency goals cap the ratio (lower is better); throughput goals floor it. */
export function goals(f: Figures, concurrency: number): Goal[] {
  const { raw, product } = f;
  const row = (path: string, r: number, p: number, kind: 'at most' | 'at least', factor: number): Goal => {
    const ratio = p / r;
    return {
      path,
      raw: r,
      product: p,
      ratio,
      goal: `${kind === 'at most' ? '<=' : '>='} ${factor}x`,
      met: kind === 'at most' ? ratio <= factor : ratio >= factor,
    };
  };
  return [
    row('chat turn p50 (ms) vs no-op Update', raw.updateLatency.p50, product.chatTurn.p50, 'at most', 1.5),
    row('chat turn p99 (ms) vs no-op Update', raw.updateLatency.p99, product.chatTurn.p99, 'at most', 2),
    row('webhook ack p50 (ms) vs Signal', raw.signalAck.p50, product.webhookAck.p50, 'at most', 1.5),
    row(
      `${concurrency} concurrent chats (turns/s) vs Updates/s`,
      raw.updateThroughput.perSecond,
      product.concurrentChats.perSecond,
      'at least',
      0.7,
    ),
    row('voice turns persisted (/s) vs Signals processed/s', raw.signalsProcessed.perSecond, product.voiceTurns.perSecond, 'at least', 0.8),
    row('start + drop (/s) vs start+query+Update/s', raw.startQueryUpdate.perSecond, product.startDrop.perSecond, 'at least', 0.7),
  ];
}

export function printReport(f: Figures, rows: Goal[]): void {
  const num = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  table(
    ['path', 'raw Temporal', 'Callwright', 'ratio', 'goal', 'met?'],
    rows.map((g) => [g.path, num(g.raw), num(g.product), `${g.ratio.toFixed(2)}x`, g.goal, g.met ? 'yes' : 'NO']),
  );
  const { raw, product } = f;
  const floor = raw.writtenUpdateLatency;
  console.log(
    `\nfloor of a written turn: raw Update + 1 no-op local activity p50 ${num(floor.p50)} ms, p99 ${num(floor.p99)} ms ` +
      `(${(floor.p50 / raw.updateLatency.p50).toFixed(2)}x the no-op Update; the chat turn is ${(product.chatTurn.p50 / floor.p50).toFixed(2)}x this floor)`,
  );
  const hop = product.httpHop.p50;
  const webhookFloor = raw.signalAck.p50 + hop;
  console.log(
    `floor of a webhook ack: raw Signal + the API's HTTP hop (GET /healthz p50 ${num(hop)} ms) = ${num(webhookFloor)} ms ` +
      `(${(webhookFloor / raw.signalAck.p50).toFixed(2)}x the Signal; the webhook ack is ${(product.webhookAck.p50 / webhookFloor).toFixed(2)}x this floor)`,
  );
  console.log(
    `under load: raw Update p50 ${num(raw.updateThroughput.latency!.p50)} ms and chat turn p50 ` +
      `${num(product.concurrentChats.latency!.p50)} ms, concurrently; start+query+Update p50 ${num(raw.startQueryUpdate.latency!.p50)} ms, ` +
      `start+drop p50 ${num(product.startDrop.latency!.p50)} ms; voice turns all acked after ${product.voiceTurns.ackedSeconds.toFixed(1)} s, ` +
      `persisted after ${product.voiceTurns.seconds.toFixed(1)} s`,
  );

  console.log("\nCPU seconds per phase (process groups; ms/op is the Temporal server's CPU per operation)");
  const groups = ['temporal', 'postgres', 'redis', 'worker', 'api', 'bench'];
  table(
    ['phase', 'ops', 'wall s', ...groups, 'temporal ms/op'],
    f.phases.map((p) => [
      p.name,
      String(p.ops),
      p.seconds.toFixed(1),
      ...groups.map((g) => (p.cpu[g] ?? 0).toFixed(1)),
      ((p.cpu.temporal * 1000) / p.ops).toFixed(1),
    ]),
  );

  const { rawUpdate, chatTurn } = f.history;
  const top = (h: HistoryProfile) =>
    Object.entries(h.byTypePerOp)
      .filter(([, n]) => n >= 0.05)
      .map(([name, n]) => `${name.toLowerCase()} ${n.toFixed(1)}`)
      .join(', ');
  console.log(
    `\nhistory events per op: raw no-op Update ${rawUpdate.eventsPerOp.toFixed(1)}; chat turn ${chatTurn.eventsPerOp.toFixed(1)} (${chatTurn.events} events in ${chatTurn.runs} run(s) / ${chatTurn.operations} turns)`,
  );
  console.log(`activity tasks per chat turn (scheduled + local markers): ${chatTurn.activityTasksPerOp.toFixed(1)}`);
  console.log(`  chat turn: ${top(chatTurn)}`);
  console.log(`  raw Update: ${top(rawUpdate)}`);
}

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
}
