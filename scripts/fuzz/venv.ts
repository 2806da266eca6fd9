// Schemathesis in its own Python virtual environment outside the work tree: created once, reused afterwards.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned: the hooks use its Case and metadata API, which moves between releases. */
export const SCHEMATHESIS_VERSION = '4.32.5';
export const VENV_DIR = process.env.CALLWRIGHT_FUZZ_VENV ?? join(homedir(), '.cache', 'callwright', 'fuzz-venv');

async function installedVersion(bin: string): Promise<string | undefined> {
  if (!existsSync(bin)) return undefined;
  try {
    const { stdout } = await run(bin, ['--version']);
    return /version (\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

async function python(): Promise<string> {
  for (const candidate of ['python3.11', 'python3']) {
    try {
      await run(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 10)']);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('fuzz: needs Python 3.10 or newer (python3.11 or python3 on PATH)');
}

/** The schemathesis executable, installing it first when the venv lacks the pinned version. */
export async function ensureSchemathesis(log: (line: string) => void): Promise<{ bin: string; version: string }> {
  const bin = join(VENV_DIR, 'bin', 'schemathesis');
  const found = await installedVersion(bin);
  if (found === SCHEMATHESIS_VERSION) return { bin, version: found };
  log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV_DIR}`);
  if (!existsSync(join(VENV_DIR, 'bin', 'pip'))) await run(await python(), ['-m', 'venv', VENV_DIR]);
  await run(join(VENV_DIR, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`], {
    maxBuffer: 16 << 20,
  });
  const version = await installedVersion(bin);
  if (version !== SCHEMATHESIS_VERSION) throw new Error(`fuzz: schemathesis ${SCHEMATHESIS_VERSION} did not install into ${VENV_DIR}`);
  return { bin, version };
}
