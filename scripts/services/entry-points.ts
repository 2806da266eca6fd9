import { fileURLToPath } from 'node:url';

const stackTracesPreload = fileURLToPath(new URL('../../worker/stack-traces.cjs', import.meta.url));

/**
 * Node arguments every workflow worker starts with: the preload must be on the command line, since nothing
 * else reaches the SDK's workflow threads.
 */
export const workerPreload = ['--require', stackTracesPreload];

/** Node arguments that run the worker or the API from the repository root. */
export function entryArgs(role: 'worker' | 'api'): string[] {
  return role === 'worker' ? [...workerPreload, '--import', 'tsx', 'worker/main.ts'] : ['--import', 'tsx', 'api/main.ts'];
}
