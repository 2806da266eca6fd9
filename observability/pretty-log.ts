// LOG_FORMAT=pretty: pino's JSON line, already masked and redacted by the logger's formatters, rewritten as
// one readable line for a person at a terminal: `12:04:31.082 api INFO  request callId=c-1 method=GET ...`.
import type { DestinationStream } from 'pino';
import { pino } from 'pino';

const LEVELS: Record<number, [label: string, color: number]> = {
  10: ['TRACE', 90],
  20: ['DEBUG', 34],
  30: ['INFO', 32],
  40: ['WARN', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 35],
};
// Shown in their own places, or pino's bookkeeping.
const PLACED = new Set(['level', 'time', 'service', 'name', 'msg', 'callId', 'pid', 'hostname']);

/** One pino JSON line as text; a line that is not JSON passes through. */
export function prettyLine(json: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const paint = (code: number, text: string) => (colors ? `\x1b[${code}m${text}\x1b[0m` : text);
  const [label, color] = LEVELS[entry.level as number] ?? [String(entry.level), 0];
  const parts = [
    paint(2, clock(entry.time)),
    String(entry.service ?? entry.name ?? ''),
    paint(color, label.padEnd(5)),
    String(entry.msg ?? ''),
  ];
  if (entry.callId !== undefined) parts.push(`callId=${text(entry.callId)}`);
  const blocks: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    // The workflow id of a call is `call-<callId>`: the callId already says it.
    if (PLACED.has(key) || value === undefined || (key === 'workflowId' && value === `call-${String(entry.callId)}`)) continue;
    // A stack reads as lines under the entry, not as one escaped string.
    if (typeof value === 'string' && value.includes('\n')) {
      blocks.push(indent(`${key}: ${value}`));
      continue;
    }
    const { stack, message } = (typeof value === 'object' && value !== null ? value : {}) as { stack?: unknown; message?: unknown };
    if (typeof stack === 'string') {
      blocks.push(indent(stack));
      parts.push(`${paint(2, `${key}=`)}${text(message ?? '')}`);
      continue;
    }
    parts.push(`${paint(2, `${key}=`)}${text(value)}`);
  }
  return [parts.filter(Boolean).join(' '), ...blocks].join('\n') + '\n';
}

/** A pino destination writing pretty lines to stdout, synchronously as pino's own default does. */
export function prettyDestination(colors = useColors()): DestinationStream {
  const stdout = pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => void stdout.write(prettyLine(line, colors)) };
}

/** Colors at a terminal; NO_COLOR and FORCE_COLOR as everyone reads them (npm start forces them for its children at a terminal). */
function useColors(): boolean {
  if (process.env.FORCE_COLOR !== undefined) return process.env.FORCE_COLOR !== '0';
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

const indent = (lines: string) => lines.replace(/^/gm, '    ');

function clock(time: unknown): string {
  const date = new Date(typeof time === 'string' || typeof time === 'number' ? time : Date.now());
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Bare when it reads unambiguously, else quoted as JSON (spaces, quotes, objects). */
function text(value: unknown): string {
  if (typeof value === 'string') return value !== '' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
