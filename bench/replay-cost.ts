// What a worker pays to bring an evicted call back: each committed history replayed many times in this
// process, with the CPU per replay and the promises the workflow's code creates per replay (the SDK
// captures a source-mapped stack for each one, for the Web UI's stack trace view).
//   npx tsx bench/replay-cost.ts [--n 200] [--dir test/histories] [--stack-traces off]
// Replay runs in this thread, so `--stack-traces off` skips the SDK's hook here as worker/stack-traces.cjs
// does in a worker's workflow threads.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import proto from '@temporalio/proto';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { buildWorkflowBundle } from '../worker/workflow-bundle.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    dir: { type: 'string', default: 'test/histories' },
    'stack-traces': { type: 'string', default: 'on' },
  },
});
if (flags['stack-traces'] === 'off') {
  const { globalHandlers } = createRequire(import.meta.url)('@temporalio/worker/lib/workflow/vm-shared.js');
  globalHandlers.setPromiseHook = () => {};
}
const N = Number(flags.n);
Runtime.install({ logger: new DefaultLogger('WARN') });
const workflowBundle = { code: (await buildWorkflowBundle()).code };

// Replay runs the workflow in this thread: count the promises created inside a workflow's context.
let promises = 0;
v8.promiseHooks.onInit((p: Promise<unknown>) => {
  const inWorkflow = (p.constructor.constructor as FunctionConstructor)('return globalThis.__TEMPORAL_ACTIVATOR__')();
  if (inWorkflow) promises++;
});

async function replay(history: proto.temporal.api.history.v1.IHistory, n: number) {
  promises = 0;
  const cpu = process.cpuUsage();
  const histories = (async function* () {
    for (let i = 0; i < n; i++) yield { workflowId: `replay-${i}`, history };
  })();
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) if (r.error) throw r.error;
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / n, promises: promises / n };
}

console.log(`replayed ${N} times each, one process (CPU includes the SDK's Rust core), stack traces ${flags['stack-traces']}`);
console.log(`${'history'.padEnd(34)}  events  CPU/replay  promises/replay`);
for (const file of readdirSync(flags.dir!).filter((f) => f.endsWith('.json'))) {
  const history = proto.temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(join(flags.dir!, file), 'utf8')));
  await replay(history, Math.min(20, N)); // warm up
  const r = await replay(history, N);
  console.log(
    `${file.padEnd(34)}  ${String(history.events.length).padStart(6)}  ${r.cpuMs.toFixed(1).padStart(7)} ms  ${r.promises.toFixed(0).padStart(15)}`,
  );
}
