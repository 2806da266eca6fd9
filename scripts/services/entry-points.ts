import { fileURLToPath } from 'node:url';

const stackTracesPreload = fileURLToPath(new URL('../../worker/stack-traces.cjs', import.meta.url));

/** Node arguments that run the worker or the API from the repository root. */
export function entryArgs(role: 'worker' | 'api'): string[] {
  // The worker's preload must be on the command line: nothing else reaches the SDK's workflow threads.
  return role === 'worker' ? ['--require', stackTracesPreload, '--import', 'tsx', 'worker/main.ts'] : ['--import', 'tsx', 'api/main.ts'];
}
