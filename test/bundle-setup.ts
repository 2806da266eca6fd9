// Bundles the workflow code once per test run; every test worker loads the same bundle.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { workflowsPath } from '../worker/create-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'callwright-bundle-'));
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { log() {}, info() {}, warn: console.warn, error: console.error, debug() {}, trace() {} } as never,
  });
  const codePath = join(dir, 'workflows.js');
  await writeFile(codePath, code);
  project.provide('workflowBundlePath', codePath);
  return () => rm(dir, { recursive: true, force: true });
}
