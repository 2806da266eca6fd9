// Open calls on one worker: N calls started and dropped through the API, each with a resume timer pending.
// Measures creation rate, the worker's peak RSS, how late each window's end is persisted, and the drain of a
// burst of deadlines falling in the same second. Starts its own private stack; not part of `npm test`.
//   npx tsx bench/open-calls.ts [--calls 10000] [--cache-size 1000] [--window 15m] [--burst 1000]
//                               [--concurrency 32] [--rate 0] [--pragmas journal_mode=wal,... | none] [--json FILE]
// --rate paces creation (calls per second; 0: as fast as the machine goes, which saturates it).
// The baseline: raw Temporal timers (bare workflows sleeping, their own worker) on the same server.
// The private stack is bench/stack.ts (the one `npm run bench` uses).
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { CallGateway } from '../api/call-gateway.js';
import { parseDuration } from '../config/duration.js';
import { callConfigOf, loadConfig } from '../config/env.js';
import { EMBEDDED_SQLITE_PRAGMAS } from '../scripts/services/temporal.js';
import { cpuDelta, groupCpu } from './cpu.js';
import { startRawTemporal } from './raw-temporal.js';
import { secrets, startBenchStack } from './stack.js';
import { timerStages } from './timer-stages.js';

const { values: flags } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000' },
    'cache-size': { type: 'string', default: '1000' },
    // Long enough that every call is still open when the last one is created (~20 calls/s on 2 cores).
    window: { type: 'string', default: '15m' },
    burst: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    rate: { type: 'string', default: '0' },
    json: { type: 'string' },
    // The Temporal dev server's SQLite pragmas: npm start's by default, `none` for SQLite's own.
    pragmas: { type: 'string', default: EMBEDDED_SQLITE_PRAGMAS.join(',') },
  },
});
// The baseline's worker logs only warnings; this process handles Ctrl+C itself.
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
const N = Number(flags.calls);
const BURST = Number(flags.burst);
const CONCURRENCY = Number(flags.concurrency);
const RATE = Number(flags.rate);
const WINDOW_MS = parseDuration(flags.window!) ?? fail(`--window ${flags.window} is not a duration`);
if (RATE > 0 && (N / RATE) * 1000 >= WINDOW_MS) fail(`--window must outlast creation (${N / RATE} s at --rate ${RATE})`);
const ADMIN = secrets.ADMIN_API_KEY;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;

// --- the shared private bench stack (bench/stack.ts); its product processes take these from our environment ---
Object.assign(process.env, { WORKER_CACHE_SIZE: flags['cache-size'], RESUME_WINDOW: flags.window, IDLE_TIMEOUT: '6h' });
const log = (line: string) => console.error(`open-calls: ${line}`);
const stack = await startBenchStack({ log, sqlitePragmas: flags.pragmas === 'none' ? [] : flags.pragmas!.split(',') });
const api = stack.apiUrl;
const workerPid = stack.groups.worker;
const stops: (() => Promise<void>)[] = [() => stack.stop()];
let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return; // tsx relays Ctrl+C, so it may arrive twice
  stopping = true;
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
const connection = await Connection.connect({ address: stack.temporalAddress });
const client = new Client({ connection });
stops.push(() => connection.close());
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
stops.push(() => db.end());

// --- the worker's RSS, sampled through every phase ---
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
let phase = 'idle';
const peaks: Record<string, number> = { idle: rssMb(workerPid) };
const loads: { at: number; load1: number }[] = [];
const sampler = setInterval(() => {
  const mb = rssMb(workerPid);
  peaks[phase] = Math.max(peaks[phase] ?? 0, mb);
  if (Date.now() - (loads.at(-1)?.at ?? 0) >= 5_000) loads.push({ at: Date.now(), load1: loadavg()[0] });
}, 250);
stops.push(async () => clearInterval(sampler));

/** Runs fn over 0..n-1 with at most `concurrency` at once. */
async function pooled(n: number, concurrency: number, fn: (i: number) => Promise<void>, perSecond = 0): Promise<void> {
  let next = 0;
  const from = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        if (perSecond > 0) await sleep(from + (i * 1000) / perSecond - Date.now());
        await fn(i);
      }
    }),
  );
}
/** A client's retry of 5xx and connection errors; anything else is a bug in the run. */
async function post(path: string, body?: object): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${api}/v1${path}`, {
        method: 'POST',
        body: body && JSON.stringify(body),
        headers: { authorization: `Bearer ${ADMIN}`, ...(body && { 'content-type': 'application/json' }) },
      });
      const json = await res.json();
      if (res.status < 300) return json;
      if (res.status < 500 || attempt >= 5) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    } catch (err) {
      if (attempt >= 5) throw err;
    }
    retries++;
    await sleep(200 * attempt);
  }
}
let retries = 0;

/** Waits until every call is persisted ended, printing progress; returns when the last one ended. */
async function allEnded(prefix: string, n: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let last = 0; ; await sleep(500)) {
    const {
      rows: [r],
    } = await db.query(`SELECT count(*)::int AS ended FROM calls WHERE call_id LIKE $1 AND status = 'ended'`, [`${prefix}%`]);
    if (r.ended >= n) return;
    if (Date.now() > deadline) throw new Error(`${prefix}: only ${r.ended}/${n} calls ended in time`);
    if (Date.now() - last > 15_000) {
      last = Date.now();
      console.error(`  ${prefix} ended ${r.ended}/${n}, worker RSS ${rssMb(workerPid).toFixed(0)} MB, load ${load()}`);
    }
  }
}

/** Per call: when its timer fired (ended_at) and when its end was persisted (the timeout event), minus its deadline. */
async function lateness(prefix: string, deadlines: Map<string, number>) {
  const { rows } = await db.query(
    `SELECT e.call_id, extract(epoch FROM e.recorded_at) * 1000 AS recorded, extract(epoch FROM c.ended_at) * 1000 AS ended, c.disposition
       FROM call_events e JOIN calls c USING (call_id) WHERE e.type = 'timeout' AND e.call_id LIKE $1`,
    [`${prefix}%`],
  );
  const persisted = rows.map((r) => Number(r.recorded) - deadlines.get(r.call_id)!);
  const fired = rows.map((r) => Number(r.ended) - deadlines.get(r.call_id)!);
  const stat = (xs: number[]) => ({ p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: Math.max(...xs) });
  // Lateness by 30 s of deadlines, beside the machine's load then: a backlog shows where it began.
  const first = Math.min(...deadlines.values());
  const slots = new Map<number, number[]>();
  for (const [i, r] of rows.entries()) {
    const slot = Math.floor((deadlines.get(r.call_id)! - first) / 30_000);
    slots.set(slot, [...(slots.get(slot) ?? []), persisted[i]]);
  }
  const timeline = [...slots]
    .sort(([a], [b]) => a - b)
    .map(([slot, xs]) => ({
      fromS: slot * 30,
      n: xs.length,
      ...stat(xs),
      load1: loads.find((l) => l.at >= first + slot * 30_000)?.load1,
    }));
  return {
    n: rows.length,
    abandoned: rows.filter((r) => r.disposition === 'abandoned').length,
    persisted: stat(persisted),
    fired: stat(fired),
    lastRecordedMs: Math.max(...rows.map((r) => Number(r.recorded))),
    timeline,
  };
}

const report: Record<string, unknown> = {
  calls: N,
  cacheSize: Number(flags['cache-size']),
  window: flags.window,
  burst: BURST,
  concurrency: CONCURRENCY,
  rate: RATE,
  loadBefore: load(),
};
const crashed = stack.crashed;
try {
  await Promise.race([crashed, run()]);
  printTable(report);
  if (flags.json) writeFileSync(flags.json, JSON.stringify(report, null, 2));
} catch (err) {
  if (!stopping) console.error(err);
  await shutdown(1);
}
await shutdown(0);

async function run(): Promise<void> {
  // 0. The baseline: bare timers at the creation rate (20/s when unpaced), on the quiet server.
  const raw = await startRawTemporal(stack.temporalAddress);
  stops.push(() => raw.close());
  report.rawTimers = await raw.timerLateness(200, RATE || 20, 20_000);

  // 1. N open calls through the API: start (chat, or voice already answered), then drop.
  phase = 'create';
  const deadlines = new Map<string, number>();
  const createStart = performance.now();
  let created = 0;
  const progress = setInterval(
    () => console.error(`  created ${created}/${N}, worker RSS ${rssMb(workerPid).toFixed(0)} MB, load ${load()}`),
    15_000,
  );
  await pooled(
    N,
    CONCURRENCY,
    async (i) => {
      const callId = `main-${i}`;
      const channel = i % 2 ? 'voice' : 'chat';
      await post('/calls', { callId, channel, answered: true, from: `+1666${String(i).padStart(7, '0')}` });
      const dropped = await post(`/calls/${callId}/drop`, { eventId: `drop-${callId}` });
      deadlines.set(callId, Date.parse(dropped.resumeDeadline));
      created++;
    },
    RATE,
  );
  clearInterval(progress);
  const createS = (performance.now() - createStart) / 1000;
  // Calls end only after their deadline: the open count peaks as the last one is created.
  const {
    rows: [open],
  } = await db.query(`SELECT count(*)::int AS n FROM calls WHERE call_id LIKE 'main-%' AND status = 'dropped'`);
  report.create = { seconds: createS, callsPerSecond: N / createS, openAtPeak: open.n, retries, loadAfter: load() };

  // 2 and 3. The windows pass; every call ends abandoned and is persisted.
  phase = 'timers';
  await allEnded('main-', N, Math.max(...deadlines.values()) - Date.now() + 600_000);
  phase = 'after';
  report.main = { ...(await lateness('main-', deadlines)), stages: await timerStages(client, db, deadlines), loadAfter: load() };

  // 4. A burst: BURST deadlines in the same second. A call's window is fixed when it starts and its deadline
  // counts from its drop, so: start every call first with its own window (through the gateway POST /v1/calls
  // runs), then drop each at a planned moment, paced under the measured rate, window = target - that moment.
  phase = 'burst';
  const rate = N / createS; // start + drop through the API; a drop alone costs less
  const dropsFrom = Date.now() + (BURST / rate) * 1500 + 10_000;
  const dropAt = (i: number) => dropsFrom + (i / rate) * 1000;
  const target = dropAt(BURST) + 5_000;
  await pooled(BURST, CONCURRENCY, async (i) => {
    const callId = `burst-${i}`;
    const call = callConfigOf(loadConfig({ RESUME_WINDOW: `${Math.round(target - dropAt(i))}ms`, IDLE_TIMEOUT: '6h' }));
    const gateway = new CallGateway(client, { taskQueue: stack.taskQueue, call }, async () => false);
    await gateway.start({
      callId,
      channel: 'chat',
      direction: 'inbound',
      from: `+1777${String(i).padStart(7, '0')}`,
      to: null,
      provider: null,
      answered: true,
      metadata: {},
      key: `start:${callId}`,
    });
  });
  if (Date.now() > dropsFrom) log(`burst: starting took longer than planned; deadlines will spread by the overrun`);
  const dropper = new CallGateway(client, { taskQueue: stack.taskQueue, call: callConfigOf(loadConfig({})) }, async () => false);
  const burstDeadlines = new Map<string, number>();
  await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      await sleep(dropAt(i) - Date.now());
      const dropped = await dropper.update(`burst-${i}`, { type: 'drop', key: `drop:burst-${i}` });
      burstDeadlines.set(`burst-${i}`, Date.parse(dropped.resumeDeadline!));
    }),
  );
  const bd = [...burstDeadlines.values()];
  // Where the drain's work goes: CPU per process group from the first deadline until every end is persisted.
  await sleep(Math.min(...bd) - Date.now());
  const cpuBefore = groupCpu(stack.groups);
  await allEnded('burst-', BURST, Math.max(...bd) - Date.now() + 600_000);
  const drainCpu = cpuDelta(cpuBefore, groupCpu(stack.groups));
  const burst = await lateness('burst-', burstDeadlines);
  report.burst = {
    ...burst,
    drainCpuSeconds: drainCpu,
    deadlineSpreadMs: Math.max(...bd) - Math.min(...bd),
    drainMs: burst.lastRecordedMs - Math.min(...bd),
    loadAfter: load(),
  };
  report.rssMb = { ...peaks, final: rssMb(workerPid) };
}

/** The lateness taken apart, from a sample of histories (bench/timer-stages.ts). */
function stageRows(st: any): [string, string, string][] {
  const p = (x: { p50: number; p99: number }) => `${Math.round(x.p50)} / ${Math.round(x.p99)} ms`;
  return [
    [`  of which, p50 / p99 (${st.sampled} histories):`, '', ''],
    ['  timer set late (due past the told deadline)', p(st.setLate), ''],
    ['  server fired it late', p(st.fireLate), ''],
    ['  task started after the fire', p(st.pickup), ''],
    ['  task start to end persisted (replay, write)', p(st.write), ''],
  ];
}

function printTable(r: any): void {
  const ms = (x: number) => `${Math.round(x)} ms`;
  const worst = (t: { fromS: number; p99: number; load1?: number }[]) => {
    const w = t.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    return `${ms(w.p99)} at +${w.fromS} s (load ${w.load1?.toFixed(1) ?? '?'})`;
  };
  const rows: [string, string, string][] = [
    ['calls created (start + drop)', `${r.calls} in ${r.create.seconds.toFixed(1)} s`, ''],
    ['creation rate', `${r.create.callsPerSecond.toFixed(1)} calls/s`, ''],
    ['open at once (dropped, timer pending)', String(r.create.openAtPeak), `${r.calls}`],
    ['worker RSS before load', `${r.rssMb.idle.toFixed(0)} MB`, ''],
    ['worker RSS peak, creating', `${r.rssMb.create.toFixed(0)} MB`, '<= 1024 MB'],
    ['worker RSS peak, timers firing', `${r.rssMb.timers.toFixed(0)} MB`, '<= 1024 MB'],
    ['worker RSS peak, burst / final', `${r.rssMb.burst.toFixed(0)} / ${r.rssMb.final.toFixed(0)} MB`, ''],
    ['ended abandoned', `${r.main.abandoned}/${r.calls}`, `${r.calls}`],
    [
      'end persisted late p50 / p99 / max',
      `${ms(r.main.persisted.p50)} / ${ms(r.main.persisted.p99)} / ${ms(r.main.persisted.max)}`,
      'p99 <= 1000 ms',
    ],
    ['worst 30 s of deadlines: p99 late (load)', worst(r.main.timeline), ''],
    ['timer fired late p50 / p99 / max', `${ms(r.main.fired.p50)} / ${ms(r.main.fired.p99)} / ${ms(r.main.fired.max)}`, ''],
    [
      `  raw Temporal timer, ${r.rawTimers.n} quiet: p50 / p99`,
      `${ms(r.rawTimers.p50)} / ${ms(r.rawTimers.p99)} (x${(r.main.fired.p99 / r.rawTimers.p99).toFixed(1)} at p99)`,
      '',
    ],
    ...stageRows(r.main.stages),
    [`burst: ${r.burst.n} deadlines within`, ms(r.burst.deadlineSpreadMs), '~1 s'],
    ['burst drain (first deadline to last end persisted)', ms(r.burst.drainMs), ''],
    [
      '  CPU s during the drain, by process',
      Object.entries(r.burst.drainCpuSeconds as Record<string, number>)
        .map(([group, s]) => `${group} ${s.toFixed(1)}`)
        .join(', '),
      '',
    ],
    [
      'burst persisted late p50 / p99 / max',
      `${ms(r.burst.persisted.p50)} / ${ms(r.burst.persisted.p99)} / ${ms(r.burst.persisted.max)}`,
      '',
    ],
    ['client retries (5xx)', String(retries), '0'],
    ['load average before / after', `${r.loadBefore} / ${r.burst.loadAfter}`, ''],
  ];
  const w = [Math.max(...rows.map((x) => x[0].length)), Math.max(...rows.map((x) => x[1].length))];
  const sizes = `--burst ${r.burst.n} --concurrency ${r.concurrency} --rate ${r.rate}`;
  console.log(`\nopen calls: --calls ${r.calls} --cache-size ${r.cacheSize} --window ${r.window} ${sizes}`);
  for (const [k, v, g] of rows) console.log(`${k.padEnd(w[0])}  ${v.padEnd(w[1])}  ${g}`);
}
