// Keeps a child process running for `npm start`: a crash is logged and the child restarted with backoff;
// only a child that keeps crashing (a bad config, a port taken) gives up, so the stack can stop and say why.
import { stopProcess, type Proc } from './process.js';

export interface SuperviseOptions {
  log?: (line: string) => void;
  /** Called once when the child crashed `maxRestarts` times within `windowMs`. */
  onGiveUp: (reason: string) => void;
  maxRestarts?: number;
  windowMs?: number;
  /** Delay before restart n (1-based, counting crashes within `windowMs`); by default 100 ms, then 2 s doubling up to 30 s. */
  backoffMs?: (n: number) => number;
}

export interface Supervised {
  /** The child running now (a new one after each restart). */
  current(): Proc;
  /** How many times it was restarted. */
  restarts(): number;
  stop(): Promise<void>;
}

// A lone crash is restarted at once: while no worker runs, every call waits (the chaos run's worker-kill tail);
// a child that keeps crashing backs off as before.
const defaultBackoff = (n: number) => (n === 1 ? 100 : Math.min(30_000, 1_000 * 2 ** (n - 1)));

/** How a child ended, as people read it: `code 1` or `signal SIGKILL`. */
export const describeExit = (code: number | string) => (typeof code === 'number' ? `code ${code}` : `signal ${code}`);

export function supervise(start: () => Proc, options: SuperviseOptions): Supervised {
  const { log = console.error, onGiveUp, maxRestarts = 5, windowMs = 60_000, backoffMs = defaultBackoff } = options;
  let proc = start();
  let stopped = false;
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  const crashes: number[] = [];

  const watch = (child: Proc) => {
    void child.exited.then((code) => {
      if (stopped || child !== proc) return;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length && crashes[0]! < now - windowMs) crashes.shift();
      if (crashes.length > maxRestarts) {
        stopped = true;
        onGiveUp(`${child.name} exited (${describeExit(code)}) ${crashes.length} times within ${Math.round(windowMs / 1000)} s; giving up`);
        return;
      }
      const delay = backoffMs(crashes.length);
      log(`${child.name} exited (${describeExit(code)}), restarting in ${delay >= 1000 ? `${delay / 1000} s` : `${delay} ms`}`);
      timer = setTimeout(() => {
        if (stopped) return;
        restarts++;
        proc = start();
        watch(proc);
      }, delay);
    });
  };
  watch(proc);

  return {
    current: () => proc,
    restarts: () => restarts,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await stopProcess(proc);
    },
  };
}
