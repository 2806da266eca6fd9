import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, isExecutable } from './process.js';

// Later CLI tags no longer `go install` cleanly; this one bundles Temporal server 1.29.1.
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

export const cacheBinDir = (): string => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'callwright', 'bin');

/** Path to a `temporal` CLI: $TEMPORAL_CLI, then PATH, then the cache, else builds it into the cache with Go. */
export async function ensureTemporalCli(): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const binDir = cacheBinDir();
  const cached = join(binDir, 'temporal');
  const found = findOnPath('temporal') ?? (isExecutable(cached) ? cached : undefined);
  if (found) return found;

  // Go is often installed without being on a non-login shell's PATH.
  const go = findOnPath('go', ['/usr/local/go/bin', join(homedir(), 'go', 'bin')]);
  if (!go) {
    throw new Error(
      `The Temporal CLI is missing and Go is not installed to build it. Either install Go 1.21 or newer ` +
        `(https://go.dev/doc/install) so that \`go install ${MODULE}\` can build it into ${binDir}, ` +
        `or install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI=/path/to/temporal.`,
    );
  }
  console.error(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${binDir} with go install (takes minutes the first time)...`);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    spawn(go, ['install', MODULE], { env: { ...process.env, GOBIN: binDir }, stdio: ['ignore', 'inherit', 'inherit'] })
      .once('error', reject)
      .once('exit', resolve);
  });
  if (code !== 0 || !isExecutable(cached)) throw new Error(`go install ${MODULE} failed (exit ${code})`);
  console.error(`Built ${cached} in ${Math.round((Date.now() - started) / 1000)} s`);
  return cached;
}
