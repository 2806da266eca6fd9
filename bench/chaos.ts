// `npm run chaos`: chat and voice conversations run against a private stack while each fault is injected in
// turn (worker and API SIGKILL, PostgreSQL, Redis and Temporal restarts, two workers losing one); then every
// conversation is compared with PostgreSQL. Goal per scenario: nothing lost, doubled or out of sequence, and
// every message accepted in the end. Minutes long; not part of `npm test`. See `--help`.
import { randomUUID } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { parseDuration } from '../config/duration.js';
import { runChat, runVoice, Tally, type Conversation, type LoadSettings } from './chaos/client.js';
import { Products } from './chaos/products.js';
import { goalsMissed, renderTable, type ScenarioResult } from './chaos/report.js';
import { SCENARIOS, type Scenario } from './chaos/scenarios.js';
import { settle, taskTimeouts, verify, viewMismatches, type Figures, type TaskTimeouts } from './chaos/verify.js';
import { secrets, startBenchStack, type BenchStack } from './stack.js';

const usage = `npm run chaos -- [--chats 20] [--voices 20] [--duration 60s] [--think 2s] [--down 5s]
                     [--drain 180s] [--settle 60s] [--scenarios ${SCENARIOS.map((s) => s.name).join(',')}]
                     [--json FILE] [--log FILE]
  --think   average pause between a message's acceptance and the conversation's next one
  --down    how long a restarted server (PostgreSQL, Redis, Temporal) stays down
  --drain   how long after the load a client keeps retrying its last message
  --settle  how long to wait for accepted voice turns to reach PostgreSQL
  --log     the worker's, the API's and the fault injector's lines (default: a file in the temp dir)`;

const { values: flags } = parseArgs({
  options: {
    chats: { type: 'string', default: '20' },
    voices: { type: 'string', default: '20' },
    duration: { type: 'string', default: '60s' },
    think: { type: 'string', default: '2s' },
    down: { type: 'string', default: '5s' },
    drain: { type: 'string', default: '180s' },
    settle: { type: 'string', default: '60s' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    json: { type: 'string' },
    log: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}
const count = (name: 'chats' | 'voices') => {
  const n = Number(flags[name]);
  return Number.isInteger(n) && n >= 0 ? n : fail(`--${name} ${flags[name]} is not a count`);
};
const duration = (name: 'duration' | 'think' | 'down' | 'drain' | 'settle') =>
  parseDuration(flags[name]!) ?? fail(`--${name} ${flags[name]} is not a duration`);
const options = {
  chats: count('chats'),
  voices: count('voices'),
  durationMs: duration('duration'),
  thinkMs: duration('think'),
  downMs: duration('down'),
  drainMs: duration('drain'),
  settleMs: duration('settle'),
};
const chosen: Scenario[] = flags
  .scenarios!.split(',')
  .map((name) => SCENARIOS.find((s) => s.name === name.trim()) ?? fail(`no scenario ${name}`));

const logFile = flags.log ?? join(tmpdir(), `callwright-chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
const logStream = createWriteStream(logFile);
const logLine = (who: string, line: string) => logStream.write(`${new Date().toISOString()} [${who}] ${line}\n`);
const say = (line: string) => {
  console.error(`chaos: ${line}`);
  logLine('chaos', line);
};

let stack: BenchStack | undefined;
let products: Products | undefined;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping the chaos stack`);
    products?.close();
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

/** The scenario running now: where the fault log and incidents go. */
let current: { startedAt: number; loading: boolean; faults: string[]; incidents: string[] } | undefined;
/** Offsets from the load's start; before it (a scenario's preparation) from the scenario's start. */
const at = () => (current ? `${current.loading ? '' : 'before load '}+${((Date.now() - current.startedAt) / 1000).toFixed(1)} s ` : '');
const note = (line: string) => {
  say(`${at()}${line}`);
  current?.faults.push(`${at()}${line}`);
};
const incident = (line: string) => {
  say(`INCIDENT ${at()}${line}`);
  (current?.incidents ?? orphanIncidents).push(`${at()}${line}`);
};
const orphanIncidents: string[] = [];
/** A client that threw (an answer it could not read) is the bench's bug; it is reported, not fatal. */
const clientCrashed = (conv: Conversation) => (err: Error) => incident(`client of ${conv.callId} failed: ${err.stack ?? err.message}`);

const runId = randomUUID().slice(0, 6);
const results: ScenarioResult[] = [];
const loadBefore = loadavg()[0]!;
let exitCode = 0;
try {
  say(`log file ${logFile}`);
  stack = await startBenchStack({ log: say, productLog: logLine });
  const { control } = stack;
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  pool.on('error', () => undefined); // PostgreSQL restarts under idle clients on purpose
  products = new Products({ control, connection, taskQueue: stack.taskQueue, apiUrl: stack.apiUrl, note, incident });

  for (const [k, scenario] of chosen.entries()) {
    if (interrupted) break;
    const run = { startedAt: Date.now(), loading: false, faults: [] as string[], incidents: [] as string[] };
    current = run;
    const tally = new Tally();
    say(`scenario ${k + 1}/${chosen.length} ${scenario.name}: ${scenario.title}`);
    let outcome: { figures: Figures | null; views: string[]; timeouts: TaskTimeouts | null; recovered: boolean };
    try {
      outcome = await runScenario(k, scenario, run, tally);
    } catch (err) {
      // The stack could not be brought to the scenario's start: nothing after it would measure anything.
      incident(`scenario aborted: ${(err as Error).message}`);
      outcome = { figures: null, views: [], timeouts: null, recovered: false };
    }
    const result = {
      name: scenario.name,
      title: scenario.title,
      errors: Object.fromEntries(tally.kinds),
      clientBugs: tally.bugs,
      faults: run.faults,
      incidents: run.incidents,
      viewMismatches: outcome.views,
      figures: outcome.figures,
      taskTimeouts: outcome.timeouts,
    };
    results.push({ ...result, goalsMissed: goalsMissed(result) });
    say(`${scenario.name}: ${results.at(-1)!.goalsMissed.join(', ') || 'goals met'}`);
    current = undefined;
    if (!outcome.recovered) {
      say('stopping: the stack did not recover, later scenarios would measure nothing');
      break;
    }
  }

  /** Runs the load with the scenario's faults, brings the stack back, and compares every conversation with PostgreSQL. */
  async function runScenario(k: number, scenario: Scenario, run: NonNullable<typeof current>, tally: Tally) {
    await products!.healthy(180_000);
    const base = { products: products!, control, downMs: options.downMs, note, incident };
    await scenario.prepare?.(base);

    const startedAt = Date.now();
    run.startedAt = startedAt;
    run.loading = true;
    const settings: LoadSettings = {
      apiUrl: stack!.apiUrl,
      tally,
      giveUpAt: startedAt + options.durationMs + options.drainMs,
      requestTimeoutMs: 90_000,
      loadEndsAt: startedAt + options.durationMs,
      thinkMs: options.thinkMs,
    };
    const conversations: Conversation[] = [];
    const callId = (channel: string, i: number) => `chaos-${runId}-${scenario.name}-${channel}-${i}`;
    const from = (i: number) => `+1555${k}${String(i).padStart(6, '0')}`;
    const load = [
      ...Array.from({ length: options.chats }, (_, i) => {
        const conv: Conversation = { callId: callId('chat', i), channel: 'chat', messages: [] };
        conversations.push(conv);
        return runChat(settings, conv, from(i)).catch(clientCrashed(conv));
      }),
      ...Array.from({ length: options.voices }, (_, i) => {
        const conv: Conversation = { callId: callId('voice', i), channel: 'voice', messages: [] };
        conversations.push(conv);
        return runVoice(settings, conv, from(options.chats + i)).catch(clientCrashed(conv));
      }),
    ];
    const progress = setInterval(() => {
      const msgs = conversations.flatMap((c) => c.messages);
      const waiting = msgs.filter((m) => !m.acceptedAt && !m.refused).length;
      const kinds = [...tally.kinds].map(([kind, n]) => `${kind} x${n}`).join(', ');
      const errors = kinds ? `; failed attempts: ${kinds}` : '';
      say(`${at()}sent ${msgs.length}, accepted ${msgs.length - waiting}, waiting ${waiting}, load ${loadavg()[0]!.toFixed(1)}${errors}`);
    }, 10_000);
    const faults = scenario
      .inject({ ...base, startedAt, endsAt: settings.loadEndsAt })
      .catch((err: Error) => incident(`fault injection failed: ${err.message}`));
    await Promise.all([...load, faults]);
    clearInterval(progress);

    say(`${at()}load over; waiting for the stack to serve again`);
    const recovered = await products!.healthy(180_000).then(
      () => true,
      (err: Error) => {
        incident(`the stack did not recover: ${err.message}`);
        return false;
      },
    );
    let figures: Figures | null = null;
    let views: string[] = [];
    let timeouts: TaskTimeouts | null = null;
    try {
      if (!(await settle(pool, conversations, options.settleMs))) {
        say(`${at()}PostgreSQL holds fewer turns than were accepted after ${options.settleMs / 1000} s; comparing anyway`);
      }
      figures = await verify(pool, conversations);
      views = await viewMismatches(stack!.apiUrl, secrets.ADMIN_API_KEY, pool, conversations);
      timeouts = await taskTimeouts(connection, conversations);
    } catch (err) {
      incident(`verification failed: ${(err as Error).message}`);
    }
    return { figures, views, timeouts, recovered };
  }
  products.close();
  await connection.close();
  await pool.end();

  const header =
    `chaos: ${options.chats} chats + ${options.voices} voice calls per scenario, ${options.durationMs / 1000} s each, think ${options.thinkMs} ms, ` +
    `servers down ${options.downMs / 1000} s; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; log ${logFile}`;
  console.log(renderTable(results, header));
  for (const i of orphanIncidents) console.log(`- INCIDENT (between scenarios): ${i}`);
  const missed = results.some((r) => r.goalsMissed.length) || orphanIncidents.length > 0 || results.length < chosen.length;
  if (flags.json)
    writeFileSync(flags.json, JSON.stringify({ options, scenarios: results, orphanIncidents, logFile, ok: !missed }, null, 2));
  exitCode = missed ? 1 : 0;
} catch (err) {
  if (!interrupted) console.error(err);
  exitCode = 1;
}
products?.close();
await stack?.stop();
logStream.end();
process.exit(exitCode);
