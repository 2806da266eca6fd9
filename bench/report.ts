// The side-by-side table, the profile that explains it, and the JSON for machines.
import type { HistoryProfile } from './history.js';
import type { Latency, Throughput } from './stats.js';

/** One round: every raw baseline and the product path it bounds, measured back to back. */
export interface Round {
  raw: {
    updateLatency: Latency;
    /** Not a goal: the floor of a turn answered after one write (an Update that awaits one no-op local activity). */
    writtenUpdateLatency: Latency;
    signalAck: Latency;
    updateThroughput: Throughput;
    /** Not a goal: Updates that each await one no-op local activity, at the chats' concurrency: their floor. */
    writtenUpdateThroughput: Throughput;
    signalsProcessed: Throughput;
    /** Not a goal: the same signals written by one no-op local activity per batch: the voice turns' floor. */
    signalsWritten: Throughput;
    startQueryUpdate: Throughput;
  };
  product: {
    chatTurn: Latency;
    webhookAck: Latency;
    /** Not a goal: GET /healthz, so Signal + this is the floor of a webhook ack. */
    httpHop: Latency;
    concurrentChats: Throughput;
    voiceTurns: Throughput & { ackedSeconds: number };
    /** Local-activity writes of the voice calls (each also wrote its start and answer): how much the turns batched. */
    voiceWrites: { calls: number; events: number; writes: number };
    startDrop: Throughput;
    /** A hosted voice turn: a signed Twilio Gather action to its TwiML. */
    hostedTurn: Latency;
    /** A ConversationRelay turn: a final prompt to the reply's last text token. */
    relayTurn: Latency;
  };
}

export interface Figures {
  meta: Record<string, unknown>;
  rounds: Round[];
  /** Every phase of every round, in the order they ran. */
  phases: Phase[];
  history: { rawUpdate: HistoryProfile; chatTurn: HistoryProfile };
  /** Not a goal: how long a caller who hung up and called back waits for the voice URL's "Welcome back". */
  redial?: Latency;
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
  /** Latency goals cap the ratio, throughput goals floor it. */
  kind: 'at most' | 'at least';
  met: boolean;
  /** Every round's ratio, in the order the rounds ran. */
  ratios: number[];
}

/** Latency goals cap the ratio (lower is better); throughput goals floor it. */
function roundGoals({ raw, product }: Round, concurrency: number): Goal[] {
  const row = (path: string, r: number, p: number, kind: 'at most' | 'at least', factor: number): Goal => {
    const ratio = p / r;
    return {
      path,
      raw: r,
      product: p,
      ratio,
      goal: `${kind === 'at most' ? '<=' : '>='} ${factor}x`,
      kind,
      met: kind === 'at most' ? ratio <= factor : ratio >= factor,
      ratios: [ratio],
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
    // Measured against the product's own chat turn: a hosted turn is a chat turn rendered as TwiML.
    row('hosted voice turn p50 (ms) vs chat turn p50', product.chatTurn.p50, product.hostedTurn.p50, 'at most', 1.2),
    row('hosted voice turn p99 (ms) vs chat turn p99', product.chatTurn.p99, product.hostedTurn.p99, 'at most', 1.2),
    row('relay prompt to last token p50 (ms) vs chat turn p50', product.chatTurn.p50, product.relayTurn.p50, 'at most', 1.2),
    row('relay prompt to last token p99 (ms) vs chat turn p99', product.chatTurn.p99, product.relayTurn.p99, 'at most', 1.2),
  ];
}

/**
 * Each goal from the round with the median ratio, so its raw and product figures were measured together.
 * With an even number of rounds the worse of the two middle ones counts.
 */
export function goals(f: Figures, concurrency: number): Goal[] {
  const perRound = f.rounds.map((r) => roundGoals(r, concurrency));
  return perRound[0].map((_, i) => {
    const rows = perRound.map((goals) => goals[i]);
    const worseFirst = [...rows].sort((a, b) => (a.kind === 'at most' ? b.ratio - a.ratio : a.ratio - b.ratio));
    return { ...worseFirst[Math.floor((rows.length - 1) / 2)], ratios: rows.map((g) => g.ratio) };
  });
}

/** The median of each round's value. */
function median(f: Figures, value: (r: Round) => number): number {
  const s = f.rounds.map(value).sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** What raw Temporal reaches doing one no-op write per path (medians of the rounds), against raw and against the product. */
export interface Floor {
  path: string;
  floor: number;
  floorOfRaw: number;
  productOfFloor: number;
}

export function floors(f: Figures): Floor[] {
  const row = (path: string, floor: (r: Round) => number, raw: (r: Round) => number, product: (r: Round) => number): Floor => ({
    path,
    floor: median(f, floor),
    floorOfRaw: median(f, (r) => floor(r) / raw(r)),
    productOfFloor: median(f, (r) => product(r) / floor(r)),
  });
  return [
    row(
      'written turn p50 (ms): Update + 1 no-op local activity',
      (r) => r.raw.writtenUpdateLatency.p50,
      (r) => r.raw.updateLatency.p50,
      (r) => r.product.chatTurn.p50,
    ),
    row(
      'hosted voice turn p50 (ms): Update + 1 no-op local activity',
      (r) => r.raw.writtenUpdateLatency.p50,
      (r) => r.raw.updateLatency.p50,
      (r) => r.product.hostedTurn.p50,
    ),
    row(
      'webhook ack p50 (ms): Signal + GET /healthz',
      (r) => r.raw.signalAck.p50 + r.product.httpHop.p50,
      (r) => r.raw.signalAck.p50,
      (r) => r.product.webhookAck.p50,
    ),
    row(
      'concurrent chats (/s): Updates + 1 no-op local activity',
      (r) => r.raw.writtenUpdateThroughput.perSecond,
      (r) => r.raw.updateThroughput.perSecond,
      (r) => r.product.concurrentChats.perSecond,
    ),
    row(
      'voice turns (/s): Signals written by one no-op local activity per batch',
      (r) => r.raw.signalsWritten.perSecond,
      (r) => r.raw.signalsProcessed.perSecond,
      (r) => r.product.voiceTurns.perSecond,
    ),
  ];
}

export function printReport(f: Figures, rows: Goal[]): void {
  const num = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const x = (n: number) => `${n.toFixed(2)}x`;
  const several = f.rounds.length > 1;
  table(
    ['path', 'raw Temporal', 'Callwright', 'ratio', ...(several ? ['rounds'] : []), 'goal', 'met?'],
    rows.map((g) => [
      g.path,
      num(g.raw),
      num(g.product),
      x(g.ratio),
      ...(several ? [`${x(Math.min(...g.ratios))}-${x(Math.max(...g.ratios))}`] : []),
      g.goal,
      g.met ? 'yes' : 'NO',
    ]),
  );
  if (several) console.log(`(${f.rounds.length} rounds; each row is the round with the median ratio, "rounds" the range)`);
  const of = several ? ` (medians of ${f.rounds.length} rounds)` : '';
  const [turn, hosted, webhook, chats, voice] = floors(f);
  console.log(
    `\nfloor of a written turn: raw Update + 1 no-op local activity p50 ${num(turn.floor)} ms${of}, ` +
      `${x(turn.floorOfRaw)} the no-op Update; the chat turn is ${x(turn.productOfFloor)} this floor, ` +
      `the hosted voice turn ${x(hosted.productOfFloor)}`,
  );
  console.log(
    `floor of a webhook ack: raw Signal + the API's HTTP hop (GET /healthz p50 ${num(median(f, (r) => r.product.httpHop.p50))} ms) = ` +
      `${num(webhook.floor)} ms, ${x(webhook.floorOfRaw)} the Signal; the webhook ack is ${x(webhook.productOfFloor)} this floor`,
  );
  console.log(
    `floor of concurrent chats: raw Updates + 1 no-op local activity ${num(chats.floor)}/s, ` +
      `${chats.floorOfRaw.toFixed(2)} of the no-op Updates; the chats are ${chats.productOfFloor.toFixed(2)} of this floor`,
  );
  console.log(
    `floor of voice turns: raw Signals written by one no-op local activity per batch ${num(voice.floor)}/s, ` +
      `${voice.floorOfRaw.toFixed(2)} of the Signals processed; the voice turns are ${voice.productOfFloor.toFixed(2)} of this floor`,
  );
  const p50 = (t: (r: Round) => Throughput) => num(median(f, (r) => t(r).latency!.p50));
  console.log(
    `under load${of}: raw Update p50 ${p50((r) => r.raw.updateThroughput)} ms and chat turn p50 ` +
      `${p50((r) => r.product.concurrentChats)} ms, concurrently; start+query+Update p50 ${p50((r) => r.raw.startQueryUpdate)} ms, ` +
      `start+drop p50 ${p50((r) => r.product.startDrop)} ms; ` +
      `voice turns all acked after ${median(f, (r) => r.product.voiceTurns.ackedSeconds).toFixed(1)} s, ` +
      `persisted after ${median(f, (r) => r.product.voiceTurns.seconds).toFixed(1)} s`,
  );
  if (f.redial)
    console.log(
      `a caller who hung up and called back hears "Welcome back" after the voice URL's answer: ` +
        `p50 ${num(f.redial.p50)} ms, p99 ${num(f.redial.p99)} ms (${f.redial.n} redials)`,
    );

  const summed = several ? `, summed over ${f.rounds.length} rounds` : '';
  console.log(`\nCPU seconds per phase${summed} (process groups; ms/op is the Temporal server's CPU per operation)`);
  const groups = ['temporal', 'postgres', 'redis', 'worker', 'api', 'raw worker', 'bench'];
  table(
    ['phase', 'ops', 'wall s', ...groups, 'temporal ms/op'],
    sumByName(f.phases).map((p) => [
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
  const perTurn = `${chatTurn.eventsPerOp.toFixed(1)} (${chatTurn.events} events in ${chatTurn.runs} run(s) / ${chatTurn.operations} turns)`;
  console.log(`\nhistory events per op: raw no-op Update ${rawUpdate.eventsPerOp.toFixed(1)}; chat turn ${perTurn}`);
  console.log(`activity tasks per chat turn (scheduled + local markers): ${chatTurn.activityTasksPerOp.toFixed(1)}`);
  const batching = f.rounds.map(({ product: { voiceWrites: v } }) => `${(v.events / v.writes).toFixed(2)} (${v.events} in ${v.writes})`);
  console.log(`voice calls' events per local-activity write, by round: ${batching.join(', ')}`);
  console.log(`  chat turn: ${top(chatTurn)}`);
  console.log(`  raw Update: ${top(rawUpdate)}`);
}

/** The same phase of every round as one row, in the order the phases first ran. */
function sumByName(phases: Phase[]): Phase[] {
  const byName = new Map<string, Phase>();
  for (const p of phases) {
    const sum = byName.get(p.name) ?? { name: p.name, ops: 0, seconds: 0, cpu: {} };
    sum.ops += p.ops;
    sum.seconds += p.seconds;
    for (const [group, seconds] of Object.entries(p.cpu)) sum.cpu[group] = (sum.cpu[group] ?? 0) + seconds;
    byName.set(p.name, sum);
  }
  return [...byName.values()];
}

function table(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
}
