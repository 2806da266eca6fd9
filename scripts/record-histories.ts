// Records fresh histories of today's call workflow shape into test/histories/ (one command after a shape
// change; released shapes keep theirs): runs the recorders in test/replay.test.ts against the private servers of a test run.
//   npm run record-histories             (every recorder; overwrites this shape's files)
//   npm run record-histories -- "update" (only recorders whose name matches: adds a history, keeps the others)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv[2];
const pattern = only ? `record histories .*${only}` : 'record histories';
const vitest = spawnSync('npx', ['vitest', 'run', 'test/replay.test.ts', '-t', pattern], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RECORD_HISTORIES: '1' },
});
if (vitest.status === 0) console.log('Recorded: git status test/histories/ shows the new files; commit them.');
process.exit(vitest.status ?? 1);
