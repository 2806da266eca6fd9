// Preloaded into the worker process and its threads (`node --require ./worker/stack-traces.cjs`; only
// a preload reaches the SDK's workflow threads). Unless WORKFLOW_STACK_TRACES=on it stops the SDK from
// capturing a source-mapped stack for every promise a workflow creates, which feeds only the Web UI's
// Stack Trace tab and `temporal workflow stack`: it was half of the workflow thread's CPU and half of
// what replaying an evicted call costs. Without it those answer "stack traces are not enabled on this
// worker"; errors thrown in workflows keep their source-mapped stacks.
'use strict';
const { isMainThread } = require('node:worker_threads');
const Module = require('node:module');

const off = process.env.WORKFLOW_STACK_TRACES !== 'on';
if (isMainThread) {
  // worker/main.ts reads this to log which way the threads run, and warns when the preload is missing.
  globalThis[Symbol.for('callwright.workflowStackTraces')] = off ? 'off' : 'on';
} else if (off) {
  // Wait for the SDK's own module (found by shape, not path) and skip its promise hook before the
  // workflow thread installs it; other threads (a loader's) never load it.
  const load = Module._load;
  Module._load = function (...args) {
    const loaded = load.apply(this, args);
    const handlers = loaded && loaded.globalHandlers;
    if (handlers && typeof handlers.setPromiseHook === 'function' && !handlers.installed) {
      handlers.setPromiseHook = () => {};
      Module._load = load;
    }
    return loaded;
  };
}
