// worker/workflow-bundle.ts: the first start builds the bundle and says so in one line (no webpack report);
// the next one reads it from the cache, as a restarted worker does.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { workflowBundle } from '../worker/workflow-bundle.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'callwright-bundle-cache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

it('builds once, then reuses the cached bundle', async () => {
  const lines: { level: number; msg: string; path?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });

  const built = await workflowBundle(logger, join(cacheDir, 'bundles'));
  expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^workflow bundle built: \d+\.\d MB in \d+\.\d s$/)]);
  expect(built.code).toContain('__TEMPORAL__');
  expect(existsSync(lines[0]!.path!)).toBe(true);
  expect(readdirSync(join(cacheDir, 'bundles'))).toHaveLength(1); // no temporary file left behind

  lines.length = 0;
  const reused = await workflowBundle(logger, join(cacheDir, 'bundles'));
  expect(lines.map((l) => l.msg)).toEqual(['workflow bundle reused from cache']);
  expect(reused.code).toBe(built.code);
}, 120_000);

it('still runs when the cache cannot be written, and says so', async () => {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({}, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const file = join(cacheDir, 'a-file');
  writeFileSync(file, ''); // a directory cannot be made under it
  const { code } = await workflowBundle(logger, join(file, 'bundles'));
  expect(code).toContain('__TEMPORAL__');
  expect(lines.map((l) => [l.level, l.msg.replace(/:.*/, '')])).toEqual([
    [30, 'workflow bundle built'],
    [40, 'workflow bundle not cached'],
  ]);
}, 120_000);
