// `npm run bench` flags: sizes (defaults are the issue's), --quick for a smoke run, --json, --pragmas.
import { parseArgs } from 'node:util';
import { EMBEDDED_SQLITE_PRAGMAS } from '../scripts/services/temporal.js';

export interface Sizes {
  /** Sequential operations per latency figure. */
  latency: number;
  chats: number;
  turnsPerChat: number;
  voiceCalls: number;
  turnsPerVoiceCall: number;
  starts: number;
  inFlight: number;
}

export interface Options {
  sizes: Sizes;
  /** A smoke run: sizes too small for the goals' verdicts to mean anything. */
  quick: boolean;
  /** Each raw/product pair runs this many times, interleaved; the goals take the median round's ratio. */
  rounds: number;
  json?: string;
  sqlitePragmas: string[];
  /** Write V8 CPU profiles of the worker and the API here (`--cpu-prof DIR`), to see where their time goes. */
  cpuProfileDir?: string;
}

const defaults: Sizes = { latency: 200, chats: 20, turnsPerChat: 20, voiceCalls: 50, turnsPerVoiceCall: 20, starts: 300, inFlight: 50 };
// Same concurrency as the defaults (the goals compare at equal concurrency), fewer operations.
const quick: Sizes = { latency: 30, chats: 20, turnsPerChat: 3, voiceCalls: 50, turnsPerVoiceCall: 3, starts: 60, inFlight: 50 };

const flags = {
  latency: 'n',
  chats: 'chats',
  turnsPerChat: 'chat-turns',
  voiceCalls: 'voice-calls',
  turnsPerVoiceCall: 'voice-turns',
  starts: 'starts',
  inFlight: 'in-flight',
} as const satisfies Record<keyof Sizes, string>;

export const usage = `npm run bench -- [--quick] [--rounds N (3; 1 with --quick)] [--json FILE]
  [--pragmas journal_mode=wal,synchronous=normal | none] [--cpu-prof DIR]
  (pragmas default to what npm start uses: ${EMBEDDED_SQLITE_PRAGMAS.join(',')})
  sizes: ${Object.entries(flags)
    .map(([k, flag]) => `--${flag} N (${defaults[k as keyof Sizes]})`)
    .join(' ')}`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      json: { type: 'string' },
      pragmas: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.values(flags).map((flag) => [flag, { type: 'string' as const }])),
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const sizes = { ...(values.quick ? quick : defaults) };
  for (const [key, flag] of Object.entries(flags) as [keyof Sizes, string][]) {
    const given = values[flag as keyof typeof values];
    if (typeof given !== 'string') continue;
    const n = Number(given);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, not ${given}\n${usage}`);
    sizes[key] = n;
  }
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, not ${values.rounds}\n${usage}`);
  // The embedded server as `npm start` runs it, unless told otherwise (`none`: SQLite's own defaults).
  const given = values.pragmas ?? EMBEDDED_SQLITE_PRAGMAS.join(',');
  const sqlitePragmas =
    given === 'none'
      ? []
      : given
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
  for (const p of sqlitePragmas) if (!/^\w+=\w+$/.test(p)) throw new Error(`--pragmas takes name=value,name=value; got ${p}`);
  return { sizes, quick: values.quick === true, rounds, json: values.json, sqlitePragmas, cpuProfileDir: values['cpu-prof'] };
}
