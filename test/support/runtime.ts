import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Keeps the SDK's INFO lines out of test output; the runtime is per process and installs once. */
export function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process (a reused fork): nothing to do.
  }
}
