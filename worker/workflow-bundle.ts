// The workflow code a worker runs, bundled once by the SDK's webpack and cached on disk, so that a restarted
// worker polls in about a second instead of bundling again. The cache key covers everything in the bundle:
// workflows/ (lint keeps workflow code to its own files and @temporalio packages) and the SDK's versions.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from 'pino';

const workflowsDir = fileURLToPath(new URL('../workflows/', import.meta.url));
export const workflowsPath = join(workflowsDir, 'index.ts');
const SDK_PACKAGES = ['@temporalio/worker', '@temporalio/workflow', '@temporalio/common'];
/** Bundles kept: a few, for switching branches; older ones are deleted when a new one is written. */
const KEEP = 5;

interface Problems {
  warn(message: string): void;
  error(message: string): void;
}

export interface BuiltBundle {
  code: string;
  /** "1.8 MB in 2.3 s", for the one line a caller prints. */
  summary: string;
}

/** Bundles workflows/ with webpack. Its multi-line report is dropped (callers print one line); its warnings and errors are not. */
export async function buildWorkflowBundle(problems: Problems = console): Promise<BuiltBundle> {
  const started = performance.now();
  const drop = () => undefined;
  const logger = {
    log: drop,
    trace: drop,
    debug: drop,
    info: drop,
    warn: (message: string) => problems.warn(message),
    error: (message: string) => problems.error(message),
  };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger });
  const seconds = (performance.now() - started) / 1000;
  return { code, summary: `${(Buffer.byteLength(code) / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s` };
}

/** Where bundles are cached: beside npm start's Temporal CLI, in the user's cache directory. */
export const bundleCacheDir = (): string => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'callwright', 'workflow-bundles');

/** The cached bundle of the current workflow code, built (and cached) if there is none. */
export async function workflowBundle(logger: Logger, cacheDir = bundleCacheDir()): Promise<{ code: string }> {
  const key = await sourceKey();
  const path = join(cacheDir, `${key}.js`);
  try {
    const code = await readFile(path, 'utf8');
    const now = new Date();
    await utimes(path, now, now).catch(() => undefined); // recently used: kept by pruning
    logger.info({ path }, 'workflow bundle reused from cache');
    return { code };
  } catch {
    // Not cached yet, or pruned by another process a moment ago: build it.
  }
  const { code, summary } = await buildWorkflowBundle(logger);
  logger.info({ path }, `workflow bundle built: ${summary}`);
  // An edit while webpack ran would leave this bundle under the old sources' key: then it is not cached.
  if ((await sourceKey()) === key) {
    await store(cacheDir, path, code).catch((err: Error) => logger.warn({ err: err.message }, 'workflow bundle not cached'));
  }
  return { code };
}

async function store(cacheDir: string, path: string, code: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  // Written whole, then renamed: a worker starting at the same time reads either nothing or all of it.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, code);
  await rename(temporary, path);
  const bundles = await Promise.all(
    (await readdir(cacheDir))
      .filter((name) => name.endsWith('.js'))
      .map(async (name) => ({ name, mtime: (await stat(join(cacheDir, name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  const old = bundles.sort((a, b) => b.mtime - a.mtime).slice(KEEP);
  await Promise.all(old.map(({ name }) => rm(join(cacheDir, name), { force: true })));
}

/** A hash of every file in workflows/ and of the SDK packages' versions. */
async function sourceKey(): Promise<string> {
  const hash = createHash('sha256').update('callwright-workflow-bundle-1\0');
  const require = createRequire(import.meta.url);
  for (const name of SDK_PACKAGES) hash.update(`${name}@${(require(`${name}/package.json`) as { version: string }).version}\0`);
  const files = (await readdir(workflowsDir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files)
    hash
      .update(`${file.slice(workflowsDir.length)}\0`)
      .update(await readFile(file))
      .update('\0');
  return hash.digest('hex').slice(0, 32);
}
