import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited, with its exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** The last lines it printed, for error messages. */
  output(): string;
}

export interface SpawnPrefixedOptions extends Pick<SpawnOptions, 'cwd' | 'env' | 'uid' | 'gid'> {
  /** Echo output to this process's stdout/stderr with a `[name]` prefix; otherwise only kept for output(). */
  echo?: boolean;
  /** The signal that asks this program for a graceful shutdown. */
  stopSignal?: NodeJS.Signals;
  /** Stop echoing once asked to stop, for programs whose shutdown is only noise. */
  quietStop?: boolean;
  /** Lines never echoed: a program's known noise (still kept for output()). */
  mute?: RegExp;
}

const live = new Map<ChildProcess, NodeJS.Signals>();
const stopping = new WeakSet<ChildProcess>();
// Children run in their own process group (so a terminal's Ctrl+C reaches only us and we stop them in order);
// if we exit without stopping them, still ask them to shut down rather than leave them orphaned.
process.once('exit', () => {
  for (const [child, signal] of live) child.kill(signal);
});

const colors = [36, 35, 33, 32, 34, 31];
let nextColor = 0;

export function spawnPrefixed(name: string, command: string, args: string[], options: SpawnPrefixedOptions = {}): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.set(child, options.stopSignal ?? 'SIGTERM');
  const color = colors[nextColor++ % colors.length];
  const prefix = process.stdout.isTTY ? `\x1b[${color}m[${name}]\x1b[0m ` : `[${name}] `;
  const tail: string[] = [];
  for (const [stream, sink] of [
    [child.stdout!, process.stdout],
    [child.stderr!, process.stderr],
  ] as const) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (options.echo && !(options.quietStop && stopping.has(child)) && !options.mute?.test(line)) sink.write(prefix + line + '\n');
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      tail.push(`${command}: ${err.message}`);
      live.delete(child);
      resolve(err.message);
    });
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { name, child, exited, output: () => tail.join('\n') };
}

/** Asks the process to stop with its stop signal, then SIGKILLs its process group after `timeoutMs`. */
export async function stopProcess(proc: Proc, timeoutMs = 10_000): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  stopping.add(child);
  child.kill(live.get(child) ?? 'SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      resolve();
    }, timeoutMs);
  });
  await Promise.race([proc.exited, killed.then(() => proc.exited)]);
  clearTimeout(timer);
}

/**
 * Calls `probe` until it returns a value other than undefined, or throws once `timeoutMs` has passed.
 * Gives up at once, with the process's output, if `proc` exits first.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 100, proc }: { timeoutMs?: number; intervalMs?: number; proc?: Proc } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const gone = Symbol('gone');
  const exited = proc ? proc.exited.then(() => gone) : new Promise<never>(() => undefined);
  let lastError: unknown;
  for (;;) {
    const attempt = probe().catch((err: unknown) => {
      lastError = err;
      return undefined;
    });
    const result = await Promise.race([attempt, exited, sleep(deadline - Date.now())]);
    if (result === gone) {
      throw new Error(`${proc!.name} exited (${await proc!.exited}) before ${what}:\n${proc!.output()}`);
    }
    if (result !== undefined) return result as T;
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}${proc ? `\n${proc.output()}` : ''}`);
    }
    await Promise.race([sleep(intervalMs), exited]);
  }
}

// Unref'd so a pending timer never keeps the process alive on its own.
const sleep = (ms: number): Promise<undefined> => new Promise((resolve) => setTimeout(() => resolve(undefined), Math.max(0, ms)).unref());

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Stoppable {
  stop(): Promise<void>;
}

/** Awaits every start; if any failed, stops the ones that started and rethrows the first failure. */
export async function startTogether<T extends readonly Promise<Stoppable | undefined>[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value?.stop() : undefined)));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as never;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}
