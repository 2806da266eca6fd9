// The layers lint holds (eslint.config.js): each forbidden import is refused in its layer, each allowed one
// passes. Linted as text placed in the layer's folder; type-aware rules are off, so no file is written.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function importRules(layer: string, source: string, typeOnly = false): Promise<string[]> {
  const code = `import ${typeOnly ? 'type ' : ''}* as m from '${source}';\nexport type M = typeof m;\n`;
  const [result] = await eslint.lintText(code, { filePath: `${root}${layer}/layer-probe.ts` });
  return result!.messages.map((m) => m.ruleId ?? m.message).filter((id) => id.includes('restricted-imports'));
}

describe('lint holds the layers', () => {
  it.each([
    ['workflows', 'node:crypto'],
    ['workflows', 'pg'],
    ['workflows', 'ioredis'],
    ['workflows', '@temporalio/client'],
    ['workflows', '@temporalio/activity'],
    ['workflows', 'zod'],
    ['workflows', '../activities/index.js'],
    ['workflows', '../store/call-reader.js'],
    ['workflows', '../config/env.js'],
    ['api', '../activities/index.js'],
    ['api/routes', '../../activities/report.js'],
    ['api', '../worker/create-worker.js'],
    ['store', '@temporalio/client'],
    ['store', '../activities/index.js'],
    ['store', '../api/errors.js'],
    ['store', '../workflows/call.js'],
    ['activities', '../api/errors.js'],
  ])('%s/ may not import %s', async (layer, source) => {
    expect(await importRules(layer, source)).not.toEqual([]);
  });

  it.each([
    ['workflows', '@temporalio/workflow', false],
    ['workflows', './types.js', false],
    ['workflows', '../activities/index.js', true],
    ['api', '../store/call-reader.js', false],
    ['api', '../workflows/messages.js', false],
    ['api', '../common/feed-signature.js', false],
    ['store', '../workflows/types.js', false],
    ['store', '../workflows/party.js', false],
    ['store', 'pg', false],
    ['activities', '../store/call-cache.js', false],
  ] as const)('%s/ may import %s (type only: %s)', async (layer, source, typeOnly) => {
    expect(await importRules(layer, source, typeOnly)).toEqual([]);
  });
});
