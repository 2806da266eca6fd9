// Bundles the workflow code once per test run (or reuses the worker's cached bundle); every test worker loads it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../observability/logger.js';
import { workflowBundle } from '../worker/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'callwright-bundle-'));
  const { code } = await workflowBundle(createLogger('warn', 'test-bundle'));
  const codePath = join(dir, 'workflows.js');
  await writeFile(codePath, code);
  project.provide('workflowBundlePath', codePath);
  return () => rm(dir, { recursive: true, force: true });
}
