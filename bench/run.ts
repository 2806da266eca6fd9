// `npm run bench`: raw Temporal beside Callwright's own paths, on one private stack, in one run.
// Prints the goals table (../shared/DESIGN.md) and the CPU and history figures that explain it.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { cpuDelta, groupCpu } from './cpu.js';
import { historyProfile, writesOf } from './history.js';
import { parseOptions } from './options.js';
import { productPaths, type ProductPaths } from './product-paths.js';
import { startRawTemporal, type RawTemporal } from './raw-temporal.js';
import { floors, goals, printReport, type Figures, type Phase, type Round } from './report.js';
import { startBenchStack, type BenchStack } from './stack.js';
import { sleep } from './stats.js';

const options = parseOptions(process.argv.slice(2));
const { sizes } = options;
const log = (line: string) => console.error(`bench: ${line}`);
// The bench stops its own servers on Ctrl+C; the SDK's default handlers would stop the raw worker mid-phase.
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

let stack: BenchStack | undefined;
let raw: RawTemporal | undefined;
let product: ProductPaths | undefined;
async function teardown(): Promise<void> {
  const [r, p, s] = [raw, product, stack];
  raw = product = stack = undefined;
  await r?.close().catch(() => undefined);
  await p?.close().catch(() => undefined);
  await s?.stop();
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: a second Ctrl+C (or tsx relaying the first) must not kill us before the servers stop.
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping the bench stack`);
    // Only the servers: closing clients under in-flight calls would only add noise before exit.
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const phases: Phase[] = [];
/** Runs one measurement and records the wall time and each process group's CPU it took. */
async function phase<T>(name: string, ops: number, fn: () => Promise<T>): Promise<T> {
  await sleep(500); // let the previous phase's stragglers (timers, cache writes) settle
  log(name);
  const groups = { ...stack!.groups, 'raw worker': raw!.workerPid };
  const before = groupCpu(groups);
  const t = performance.now();
  const result = await Promise.race([fn(), stack!.crashed]);
  phases.push({ name, ops, seconds: (performance.now() - t) / 1000, cpu: cpuDelta(before, groupCpu(groups)) });
  return result;
}

try {
  const loadBefore = loadavg();
  // Read before the run: a commit made while it runs is not the code it measured.
  const code = { commit: git(['rev-parse', '--short', 'HEAD']), dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '' };
  stack = await startBenchStack({ sqlitePragmas: options.sqlitePragmas, cpuProfileDir: options.cpuProfileDir, log });
  raw = await startRawTemporal(stack.temporalAddress);
  product = productPaths(stack);

  log('warming up both sides (not measured)');
  await Promise.race([
    (async () => {
      await raw!.updateLatency(20);
      await raw!.writtenUpdateLatency(20);
      await raw!.signalAck(20);
      await raw!.startQueryUpdate(20, 10);
      await product!.chatTurns(10);
      await product!.hostedTurns(10);
      await product!.relayTurns(10);
      await product!.webhookAck(10);
      await product!.startDrop(20, 10);
    })(),
    stack.crashed,
  ]);

  // Each raw baseline runs right before the product path it bounds, so both see the same server state;
  // rounds repeat the pairs, so a slow minute on a shared machine moves one round, not the result.
  const { latency, chats, turnsPerChat, voiceCalls, turnsPerVoiceCall, starts, inFlight } = sizes;
  const rounds: Round[] = [];
  let historyOf: { rawUpdate: string; chatTurn: string } | undefined;
  for (let round = 1; round <= options.rounds; round++) {
    if (options.rounds > 1) log(`round ${round} of ${options.rounds}`);
    const rawUpdate = await phase('raw no-op Update, sequential', latency, () => raw!.updateLatency(latency));
    const writtenUpdate = await phase('raw Update + 1 local activity, sequential', latency, () => raw!.writtenUpdateLatency(latency));
    const chat = await phase('chat turn, sequential', latency, () => product!.chatTurns(latency));
    const hostedTurn = await phase('hosted voice turn (Twilio Gather), sequential', latency, () => product!.hostedTurns(latency));
    const relayTurn = await phase('relay prompt to last token, sequential', latency, () => product!.relayTurns(latency));
    const signalAck = await phase('raw Signal ack, sequential', latency, () => raw!.signalAck(latency));
    const webhookAck = await phase('webhook ack, sequential', latency, () => product!.webhookAck(latency));
    const httpHop = await phase('HTTP hop (GET /healthz), sequential', latency, () => product!.httpHop(latency));
    const updateThroughput = await phase(`raw Updates, ${chats} workflows`, chats * turnsPerChat, () =>
      raw!.updateThroughput(chats, turnsPerChat),
    );
    const writtenUpdateThroughput = await phase(`raw Updates + 1 local activity, ${chats} workflows`, chats * turnsPerChat, () =>
      raw!.writtenUpdateThroughput(chats, turnsPerChat),
    );
    const concurrentChats = await phase(`chat turns, ${chats} chats`, chats * turnsPerChat, () =>
      product!.concurrentChats(chats, turnsPerChat),
    );
    const voiceOps = voiceCalls * turnsPerVoiceCall;
    const signalsProcessed = await phase(`raw Signals processed, ${voiceCalls}x${turnsPerVoiceCall}`, voiceOps, () =>
      raw!.signalsProcessed(voiceCalls, turnsPerVoiceCall),
    );
    const signalsWritten = await phase(`raw Signals written by batch, ${voiceCalls}x${turnsPerVoiceCall}`, voiceOps, () =>
      raw!.signalsWritten(voiceCalls, turnsPerVoiceCall),
    );
    const { callIds, ...voiceTurns } = await phase(`voice turns persisted, ${voiceCalls}x${turnsPerVoiceCall}`, voiceOps, () =>
      product!.voiceTurnsPersisted(voiceCalls, turnsPerVoiceCall, 600_000),
    );
    // Read after the phase, outside its timing: how many of the voice calls' events shared a write.
    const voiceWrites = {
      ...(await writesOf(
        raw!.client,
        callIds.map((id) => `call-${id}`),
      )),
      events: await product!.eventsOf(callIds),
    };
    const startQueryUpdate = await phase(`raw start+query+Update, ${inFlight} in flight`, starts, () =>
      raw!.startQueryUpdate(starts, inFlight),
    );
    const startDrop = await phase(`start + drop, ${inFlight} in flight`, starts, () => product!.startDrop(starts, inFlight));
    historyOf ??= { rawUpdate: rawUpdate.workflowId, chatTurn: `call-${chat.callId}` };
    rounds.push({
      raw: {
        updateLatency: rawUpdate.latency,
        writtenUpdateLatency: writtenUpdate,
        signalAck,
        updateThroughput,
        writtenUpdateThroughput,
        signalsProcessed,
        signalsWritten,
        startQueryUpdate,
      },
      product: { chatTurn: chat.latency, webhookAck, httpHop, concurrentChats, voiceTurns, voiceWrites, startDrop, hostedTurn, relayTurn },
    });
  }

  const redials = options.quick ? 5 : 30;
  const redial = await phase(`redial "Welcome back", sequential`, redials, () => product!.redials(redials));
  const history = {
    rawUpdate: await historyProfile(raw.client, historyOf!.rawUpdate, latency),
    chatTurn: await historyProfile(raw.client, historyOf!.chatTurn, latency),
  };
  const figures: Figures = {
    meta: {
      date: new Date().toISOString(),
      ...code,
      cpus: cpus().length,
      loadBefore,
      sqlitePragmas: options.sqlitePragmas,
      sizes,
      rounds: options.rounds,
      quick: options.quick,
    },
    rounds,
    phases,
    history,
    redial,
  };
  const rows = goals(figures, sizes.chats);
  console.log(
    `\nCallwright vs raw Temporal (commit ${figures.meta.commit}${figures.meta.dirty ? '+changes' : ''}, ${cpus().length} cores, ` +
      `load before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, SQLite pragmas: ${options.sqlitePragmas.join(',') || 'none'})\n`,
  );
  printReport(figures, rows);
  if (options.quick)
    console.log(
      '\n--quick is a smoke run: with 3 turns per conversation, starting the workflows dominates; judge the goals at the default sizes.',
    );
  if (options.json) {
    await writeFile(options.json, JSON.stringify({ ...figures, goals: rows, floors: floors(figures) }, null, 2) + '\n');
    log(`figures written to ${options.json}`);
  }
  await teardown();
} catch (err) {
  if (!interrupted) {
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    await teardown();
    process.exitCode = 1;
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
