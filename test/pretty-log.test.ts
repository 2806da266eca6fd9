// LOG_FORMAT=pretty (observability/pretty-log.ts): one readable line per entry, with the same masking and
// redaction as the JSON lines.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { prettyLine } from '../observability/pretty-log.js';

const entry = (fields: Record<string, unknown>) =>
  JSON.stringify({ level: 30, time: '2026-01-02T03:04:05.678Z', service: 'api', name: 'api', msg: 'request', ...fields });
const clock = (iso: string) => {
  const d = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
};

describe('pretty log lines', () => {
  it('read time, service, level, message, callId, then the other fields as key=value', () => {
    const line = prettyLine(
      entry({ method: 'POST', route: '/v1/calls/{id}/messages', status: '200', ms: 12, callId: 'c-1', workflowId: 'call-c-1' }),
    );
    expect(line).toBe(
      `${clock('2026-01-02T03:04:05.678Z')} api INFO  request callId=c-1 method=POST route=/v1/calls/{id}/messages status=200 ms=12\n`,
    );
  });

  it('quote values with spaces, print objects as JSON, keep a workflowId that is not the call', () => {
    const line = prettyLine(
      entry({ level: 40, msg: 'retry', text: 'hello world', details: { a: [1, 2] }, workflowId: 'callwright-retention-run' }),
    );
    expect(line).toMatch(/ api WARN  retry text="hello world" details=\{"a":\[1,2\]\} workflowId=callwright-retention-run\n$/);
  });

  it('put a stack under its line, indented', () => {
    const line = prettyLine(entry({ level: 50, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at f (x.ts:1:1)' } }));
    expect(line.split('\n')).toEqual([
      expect.stringMatching(/ api ERROR failed err=boom$/),
      '    Error: boom',
      '        at f (x.ts:1:1)',
      '',
    ]);
  });

  it('color the level only when asked, and pass a line that is not JSON through', () => {
    expect(prettyLine(entry({}), true)).toContain('\x1b[32mINFO ');
    expect(prettyLine(entry({}))).not.toContain('\x1b[');
    expect(prettyLine('not json')).toBe('not json\n');
  });

  it("mask phone numbers and redact secrets as the JSON lines do (the real logger's stdout)", () => {
    const code =
      "import { createLogger } from './observability/logger.js';" +
      "const fields = { callId: 'c-2', from: '+15550009876', authorization: 'Bearer s3cret' };" +
      "createLogger('info', 'worker', 'pretty').info(fields, 'call started');";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} worker INFO  call started callId=c-2 from=\*{8}9876 authorization=\[redacted\]\n$/);
  });

  it('log an Error with its type, message and stack, in both formats', () => {
    const log = (format: string) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          "import { createLogger } from './observability/logger.js';" +
            `createLogger('info', 'api', '${format}').error({ err: new RangeError('pool exhausted') }, 'unhandled error');`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      ).stdout;
    const json = JSON.parse(log('json'));
    expect(json.err).toMatchObject({ type: 'RangeError', message: 'pool exhausted' });
    expect(json.err.stack).toContain('RangeError: pool exhausted\n    at ');
    const [line, stack] = log('pretty').split('\n');
    expect(line).toMatch(/ api ERROR unhandled error err="pool exhausted"$/);
    expect(stack).toBe('    RangeError: pool exhausted');
  });
});
