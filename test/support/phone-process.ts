// `npm run phone` as a child process driven through its standard input, the way a person at a terminal would.
import { spawn } from 'node:child_process';

export interface PhoneProcess {
  /** Everything printed so far. */
  readonly output: () => string;
  readonly errors: () => string;
  /** Types a line. */
  say(line: string): void;
  /** Waits until the output after `from` contains `text`; answers where it ends, so the next wait starts there. */
  waitFor(text: string | RegExp, from?: number, timeoutMs?: number): Promise<number>;
  /** Closes stdin (the person leaves) and resolves with the exit code. */
  exited(): Promise<number | null>;
  kill(): void;
}

export function startPhone(args: string[], env: NodeJS.ProcessEnv = {}): PhoneProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/phone.ts', ...args], {
    env: { ...process.env, PUBLIC_BASE_URL: '', TWILIO_AUTH_TOKEN: '', TWILIO_ACCOUNT_SID: '', API_URL: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    listeners.forEach((l) => l());
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // 'close', not 'exit': by then stdout has been read to its end.
  let closed = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  return {
    output: () => out,
    errors: () => err,
    say: (line) => child.stdin.write(`${line}\n`),
    waitFor(text, from = 0, timeoutMs = 20_000) {
      const find = () => {
        const rest = out.slice(from);
        if (typeof text === 'string') {
          const at = rest.indexOf(text);
          return at < 0 ? -1 : from + at + text.length;
        }
        const m = text.exec(rest);
        return m ? from + m.index + m[0].length : -1;
      };
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = find();
          if (at < 0) return;
          done();
          resolve(at);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`the phone never printed ${String(text)}; it printed:\n${out.slice(from)}\nstderr:\n${err}`));
        }, timeoutMs);
        const gone = () => {
          done();
          if (find() < 0) reject(new Error(`the phone exited before printing ${String(text)}:\n${out.slice(from)}\nstderr:\n${err}`));
          else resolve(find());
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('close', gone);
        };
        if (closed) return gone();
        listeners.add(check);
        child.once('close', gone);
        check();
      });
    },
    exited() {
      child.stdin.end();
      return exit;
    },
    kill: () => child.kill('SIGKILL'),
  };
}
