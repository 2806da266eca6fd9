// Fuzzes the HTTP API against its own /openapi.json with schemathesis, on a private stack (bench/stack.ts):
// operators' key, a chat client's JWT, signed webhooks (scripts/fuzz/hooks.py signs the exact bytes sent), and the
// operator keys of two accounts, each given its own ids and the other account's.
// Fails on any 5xx, any response that does not match the document, any row a rejected request left behind, and any
// answer to one account's credential that carries another account's data (a leak).
//   npm run fuzz [-- --requests 10000] [--json FILE] [--workers 1] [--seed N]
// One worker by default: with two, schemathesis 4.32.5 cut the fuzzing of one operation short (7 of 100 cases).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signFeedBody } from '../common/feed-signature.js';
import { secrets, startBenchStack, type BenchStack } from '../bench/stack.js';
import { checkDb, settle, snapshot, type DbVerdict, type LoggedRequest } from './fuzz/db-check.js';
import { ensureSchemathesis } from './fuzz/venv.js';

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    json: { type: 'string' },
    workers: { type: 'string', default: '1' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`npm run fuzz [-- options]
  --requests N   requests to send in all, shared between the kinds of credential (default 10000; 1500 is a quick run)
  --json FILE    also write the summary as JSON
  --workers N    schemathesis workers (default 1)
  --seed N       base seed (default: random)`);
  process.exit(0);
}
const TARGET = Number(flags.requests);
if (!Number.isInteger(TARGET) || TARGET < 1) throw new Error(`--requests ${flags.requests} is not a positive integer`);
const HOOKS = fileURLToPath(new URL('./fuzz/hooks.py', import.meta.url));
const CONFIG = fileURLToPath(new URL('./fuzz/schemathesis.toml', import.meta.url));
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  // Invalid input must be refused: a fuzzer that only watched for 5xx would miss validation that was weakened.
  'negative_data_rejection',
  'unsupported_method',
  'allow_header_conformance',
];

/** Each way in, its share of the requests and the operations it reaches. */
// A call's event stream stays open while the call lives: a request to it would only run into the timeout.
// An account's key reaches what an operator of the account uses (provider webhooks and voice routes take none).
const ACCOUNT_PATHS = [
  '--include-path-regex',
  '^/v1/(calls|callers|agents|numbers|accounts|stats|auth)',
  '--exclude-path-regex',
  '/stream$',
];
// The platform key goes last: schemathesis reuses ids from earlier answers (GET /v1/accounts lists every account),
// so it suspends, limits and revokes the seeded accounts and keys, which would refuse every other kind after it.
const KINDS = [
  { kind: 'chat', share: 0.2, filter: ['--include-path-regex', '^/v1/(calls|callers|stats|auth)', '--exclude-path-regex', '/stream$'] },
  { kind: 'webhook', share: 0.25, filter: ['--include-path-regex', '^/v1/webhooks/'] },
  { kind: 'account-a', share: 0.15, filter: ACCOUNT_PATHS },
  { kind: 'account-b', share: 0.15, filter: ACCOUNT_PATHS },
  { kind: 'admin', share: 0.25, filter: ['--exclude-path-regex', '^/v1/webhooks/|/stream$'] },
] as const;
type Kind = (typeof KINDS)[number]['kind'];
type AccountKind = Extract<Kind, `account-${string}`>;
/** The two accounts, by the kind that fuzzes with its operator key; each kind's other is the other one. */
const ACCOUNTS = {
  'account-a': { accountId: 'fuzz-a', tag: 'a', name: 'Adaline', numbers: '+1555041' },
  'account-b': { accountId: 'fuzz-b', tag: 'b', name: 'Beatrix', numbers: '+1555042' },
} as const satisfies Record<AccountKind, unknown>;
const other = (kind: AccountKind): AccountKind => (kind === 'account-a' ? 'account-b' : 'account-a');

const log = (line: string) => console.error(`fuzz: ${line}`);
const runDir = join(tmpdir(), `callwright-fuzz-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(runDir, { recursive: true });
const requestLog = join(runDir, 'requests.jsonl');

async function api(
  path: string,
  init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
) {
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: init.method ?? (body ? 'POST' : 'GET'),
    headers: {
      authorization: `Bearer ${init.token ?? secrets.ADMIN_API_KEY}`,
      ...(body && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`seed: ${init.method ?? 'POST'} ${path} answered ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function seed() {
  const subject = '+15550100777';
  const { token } = await api('/v1/auth/tokens', { body: { subject } });
  const chatCalls = Array.from({ length: 8 }, (_, i) => `fuzz-chat-${i}`);
  const adminCalls = Array.from({ length: 8 }, (_, i) => `fuzz-voice-${i}`);
  const feedCalls = Array.from({ length: 8 }, (_, i) => `fuzz-feed-${i}`);
  for (const callId of chatCalls) {
    await api('/v1/calls', { body: { callId, channel: 'chat', from: subject }, token });
    await api(`/v1/calls/${callId}/messages`, { body: { text: 'Hi, my name is Ada' }, token });
  }
  for (const [i, callId] of adminCalls.entries())
    await api('/v1/calls', { body: { callId, channel: 'voice', answered: true, from: `+1555020${String(i).padStart(4, '0')}` } });
  const feed = async (event: object) => {
    const raw = JSON.stringify(event);
    await api('/v1/webhooks/events', { raw, headers: { 'x-signature': signFeedBody(secrets.WEBHOOK_SECRET, raw) } });
  };
  for (const [i, callId] of feedCalls.entries()) {
    await feed({
      eventId: `${callId}:started`,
      type: 'call.started',
      callId,
      data: { channel: 'voice', from: `+1555030${String(i).padStart(4, '0')}` },
    });
    await feed({ eventId: `${callId}:answered`, type: 'call.answered', callId, data: {} });
  }
  const accounts = {} as Record<AccountKind, SeededAccount>;
  for (const kind of Object.keys(ACCOUNTS) as AccountKind[]) accounts[kind] = await seedAccount(kind);
  const numbers = { admin: [subject, '+15550200000', '+15550300000'], chat: [subject], webhook: [] };
  return { token, seeds: { admin: [...chatCalls, ...adminCalls], chat: chatCalls, webhook: feedCalls }, numbers, accounts };
}

interface SeededAccount {
  accountId: string;
  key: string;
  keyId: string;
  calls: string[];
  agents: string[];
  /** Its assigned number first, then its callers'. */
  numbers: string[];
  /** What only this account's answers may carry besides its ids: its agents' names, its callers' names. */
  data: string[];
}

/**
 * An account with an operator key, two agents (the first answering the account's number), and calls:
 * chat calls through a chat token minted with the key, voice calls to its number started with the key.
 * Ids carry the account's tag but not its id, so an answer naming the account is told from one echoing a call id.
 */
async function seedAccount(kind: AccountKind): Promise<SeededAccount> {
  const { accountId, tag, name, numbers: prefix } = ACCOUNTS[kind];
  await api('/v1/accounts', { body: { accountId, name: `Fuzz account ${tag.toUpperCase()}` } });
  const { key, keyId } = await api(`/v1/accounts/${accountId}/keys`, { body: { name: 'fuzz operator', role: 'operator' } });
  const desk = `Desk of ${name}`;
  const agents = [`acct-${tag}-agent-0`, `acct-${tag}-agent-1`];
  for (const agentId of agents) await api('/v1/agents', { body: { agentId, name: desk }, token: key });
  const number = `${prefix}0000`;
  await api(`/v1/numbers/${encodeURIComponent(number)}`, { method: 'PUT', body: { agentId: agents[0] }, token: key });
  const subject = `${prefix}0001`;
  const { token } = await api('/v1/auth/tokens', { body: { subject }, token: key });
  const chatCalls = Array.from({ length: 4 }, (_, i) => `acct-${tag}-chat-${i}`);
  const voiceCalls = Array.from({ length: 4 }, (_, i) => `acct-${tag}-voice-${i}`);
  for (const callId of chatCalls) {
    await api('/v1/calls', { body: { callId, channel: 'chat' }, token });
    await api(`/v1/calls/${callId}/messages`, { body: { text: `Hi, my name is ${name}` }, token });
  }
  const voiceFrom = voiceCalls.map((_, i) => `${prefix}01${String(i).padStart(2, '0')}`);
  for (const [i, callId] of voiceCalls.entries())
    await api('/v1/calls', { body: { callId, channel: 'voice', answered: true, from: voiceFrom[i], to: number }, token: key });
  return {
    accountId,
    key,
    keyId,
    calls: [...chatCalls, ...voiceCalls],
    agents,
    numbers: [number, subject, ...voiceFrom],
    data: [desk, name],
  };
}

/** The ids an account's kind points requests at: its own and the other account's, half and half. */
function accountSeeds(own: SeededAccount, theirs: SeededAccount) {
  return {
    calls: [...own.calls, ...theirs.calls],
    numbers: [...own.numbers, ...theirs.numbers],
    agents: [...own.agents, ...theirs.agents],
    accounts: [own.accountId, theirs.accountId],
    keys: [own.keyId, theirs.keyId],
    voiceCalls: [],
  };
}

/** What no answer to a credential of this account may carry: every other account's ids and data. */
function foreign(theirs: SeededAccount[]) {
  return {
    ids: theirs.flatMap((t) => [t.accountId, t.keyId, ...t.calls, ...t.agents, ...t.data]),
    numbers: theirs.flatMap((t) => t.numbers),
  };
}

/** One schemathesis run; resolves with its JSON report. */
async function schemathesis(kind: Kind, round: number, args: string[], env: Record<string, string>): Promise<any> {
  const report = join(runDir, `${kind}-${round}.json`);
  const out = createWriteStream(join(runDir, `${kind}-${round}.log`));
  const child = spawn(
    bin,
    [
      '--config-file',
      CONFIG,
      'run',
      `${stack.apiUrl}/openapi.json`,
      ...args,
      '--report',
      'json',
      '--report-json-path',
      report,
      '--report-dir',
      runDir,
    ],
    {
      cwd: runDir,
      env: { ...process.env, ...env, SCHEMATHESIS_HOOKS: HOOKS, NO_COLOR: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (!existsSync(report))
    throw new Error(`schemathesis (${kind}, round ${round}) exited ${code} without a report; see ${join(runDir, `${kind}-${round}.log`)}`);
  return JSON.parse(readFileSync(report, 'utf8'));
}

const readLog = (): LoggedRequest[] =>
  existsSync(requestLog)
    ? readFileSync(requestLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LoggedRequest)
    : [];

const isAccountKind = (kind: Kind): kind is AccountKind => kind in ACCOUNTS;

async function main(stack: BenchStack): Promise<number> {
  const { token, seeds, numbers, accounts } = await seed();
  await settle(pool);
  const before = await snapshot(pool);
  const baseSeed = Number(flags.seed ?? Math.floor(Math.random() * 1e9));
  const reports: { kind: Kind; round: number; report: any }[] = [];

  const credential = (kind: Kind) => (kind === 'admin' ? secrets.ADMIN_API_KEY : isAccountKind(kind) ? accounts[kind].key : token);
  for (const { kind, share, filter } of KINDS) {
    const quota = Math.ceil(TARGET * share);
    const count = () => readLog().filter((r) => r.kind === kind).length;
    let examples = Math.max(2, Math.round(quota / 60));
    for (let round = 0, done = 0; done < quota; round++) {
      if (round >= 40) throw new Error(`${kind}: ${done}/${quota} requests after 40 rounds`);
      // Coverage and explicit examples are deterministic: once is enough; later rounds fuzz with fresh seeds.
      // An account's key skips coverage: its boundary cases test the validation the platform key's run covers
      // (some 2,300 requests per account), while isolation is in requests that reach rows, which fuzzing makes.
      const phases = round > 0 ? 'fuzzing' : isAccountKind(kind) ? 'examples,fuzzing' : 'examples,coverage,fuzzing';
      const args = [
        ...filter,
        '--phases',
        phases,
        '--checks',
        CHECKS.join(','),
        '--max-examples',
        String(examples),
        '--seed',
        String(baseSeed + round),
        '--workers',
        flags.workers!,
        '--continue-on-failure',
        '--suppress-health-check',
        'all',
        '--generation-database',
        'none',
        '--request-timeout',
        '75',
        ...(kind === 'webhook' ? [] : ['-H', `Authorization: Bearer ${credential(kind)}`]),
      ];
      const env = {
        FUZZ_KIND: kind,
        FUZZ_API: stack.apiUrl,
        FUZZ_LOG: requestLog,
        FUZZ_SEEDS: JSON.stringify(
          isAccountKind(kind)
            ? accountSeeds(accounts[kind], accounts[other(kind)])
            : { calls: kind === 'webhook' ? [] : seeds[kind], numbers: numbers[kind], voiceCalls: seeds.webhook },
        ),
        // Whose credential it is, and what its answers may not carry: the other account's; for the default
        // account's chat token, both accounts'. The platform key and webhooks reach every account.
        FUZZ_ACCOUNT: isAccountKind(kind) ? accounts[kind].accountId : kind === 'chat' ? 'default' : '',
        FUZZ_FOREIGN: JSON.stringify(
          isAccountKind(kind) ? foreign([accounts[other(kind)]]) : kind === 'chat' ? foreign(Object.values(accounts)) : foreign([]),
        ),
        FUZZ_WEBHOOK_SECRET: secrets.WEBHOOK_SECRET,
        FUZZ_TWILIO_TOKEN: secrets.TWILIO_AUTH_TOKEN,
      };
      const started = done;
      reports.push({ kind, round, report: await schemathesis(kind, round, args, env) });
      done = count();
      log(`${kind} round ${round} (${phases}, --max-examples ${examples}): ${done - started} requests, ${done}/${quota}`);
      if (done === started) throw new Error(`${kind}: round ${round} sent no request; see ${runDir}/${kind}-${round}.log`);
      // Fuzzing requests grow about linearly with --max-examples (after round 0, which is mostly coverage, guess
      // one request per example and operation): aim the next round at what is left.
      const perExample = round === 0 ? Math.max(1, reports.at(-1)!.report.operations?.tested ?? 1) : (done - started) / examples;
      examples = Math.min(2000, Math.max(2, Math.ceil(((quota - done) / perExample) * 1.05)));
    }
  }

  await settle(pool);
  const requests = readLog();
  const db = checkDb(before, await snapshot(pool), requests);
  const summary = summarize(requests, reports, db);
  print(summary);
  if (flags.json) writeFileSync(flags.json, JSON.stringify(summary, null, 2));
  return summary.ok ? 0 : 1;
}

function statusesOf(requests: LoggedRequest[]) {
  const statuses = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, network: 0 };
  for (const r of requests) statuses[r.status === 0 ? 'network' : (`${Math.floor(r.status / 100)}xx` as keyof typeof statuses)]++;
  return statuses;
}

function summarize(requests: LoggedRequest[], reports: { kind: Kind; round: number; report: any }[], db: DbVerdict) {
  const byKind = Object.fromEntries(KINDS.map(({ kind }) => [kind, requests.filter((r) => r.kind === kind).length])) as Record<
    Kind,
    number
  >;
  const statuses = statusesOf(requests);
  const serverErrors = requests.filter((r) => r.status >= 500);
  // A webhook signed by the hook and refused as unsigned means the signing (or the server's check) is wrong.
  const signedRefused = requests.filter((r) => r.kind === 'webhook' && r.signed && r.status === 401);
  const leaks = requests.filter((r) => r.leak?.length);
  const failures = reports.flatMap(({ kind, report }) => (report.failures ?? []).map((f: any) => ({ kind, ...f })));
  const errors = reports.flatMap(({ kind, round, report }) => [
    ...(report.errors ?? []).map((e: any) => ({ kind, ...e })),
    ...(report.complete ? [] : [{ kind, title: `round ${round} did not complete (${report.stop_reason})`, count: 1 }]),
  ]);
  const is = (f: any, type: string) => f.type === type;
  const mismatches = failures.filter((f) => !is(f, 'ServerError') && !is(f, 'AcceptedNegativeData'));
  const acceptedInvalid = failures.filter((f) => is(f, 'AcceptedNegativeData'));
  const count = (xs: any[]) => xs.reduce((n, f) => n + f.count, 0);
  const ok =
    requests.length >= TARGET &&
    serverErrors.length === 0 &&
    statuses.network === 0 &&
    failures.length === 0 &&
    errors.length === 0 &&
    signedRefused.length === 0 &&
    leaks.length === 0 &&
    db.ok;
  return {
    ok,
    target: TARGET,
    requests: requests.length,
    byKind,
    webhooks: {
      feed: requests.filter((r) => r.path === '/v1/webhooks/events').length,
      twilio: requests.filter((r) => r.path === '/v1/webhooks/twilio').length,
      signedRefused: signedRefused.length,
    },
    statuses,
    serverErrors: serverErrors.length,
    serverErrorSamples: serverErrors.slice(0, 5),
    /** Answers to an account's credential (or the default account's chat token) carrying another account's data. */
    leaks: leaks.length,
    leakSamples: leaks.slice(0, 10),
    /** Per account kind: all its answers, and those to requests that named the other account's ids. */
    accountStatuses: Object.fromEntries(
      (Object.keys(ACCOUNTS) as AccountKind[]).map((kind) => {
        const own = requests.filter((r) => r.kind === kind);
        return [kind, { all: statusesOf(own), foreign: statusesOf(own.filter((r) => r.foreign)) }];
      }),
    ),
    schemaMismatches: count(mismatches),
    acceptedInvalid: count(acceptedInvalid),
    failures,
    errors,
    db,
    schemathesis: version,
    runDir,
  };
}

function print(s: ReturnType<typeof summarize>): void {
  const mark = (good: boolean) => (good ? 'ok' : 'FAIL');
  const rows: [string, string, string][] = [
    ['requests', `${s.requests} (target ${s.target})`, mark(s.requests >= s.target)],
    ["  operators' key", String(s.byKind.admin), ''],
    ['  chat token', String(s.byKind.chat), ''],
    [
      '  signed webhooks (feed / twilio)',
      `${s.byKind.webhook} (${s.webhooks.feed} / ${s.webhooks.twilio})`,
      mark(s.webhooks.signedRefused === 0),
    ],
    ...(Object.keys(ACCOUNTS) as AccountKind[]).map((kind): [string, string, string] => {
      const { all, foreign } = s.accountStatuses[kind]!;
      const theirs = ACCOUNTS[other(kind)].accountId;
      const named = Object.values(foreign).reduce((a, b) => a + b, 0);
      return [
        `  ${ACCOUNTS[kind].accountId} operator key`,
        `${s.byKind[kind]} (2xx ${all['2xx']}, 4xx ${all['4xx']}); ${named} named ${theirs}'s ids (2xx ${foreign['2xx']}, 4xx ${foreign['4xx']})`,
        '',
      ];
    }),
    ['statuses 2xx / 4xx / 5xx', `${s.statuses['2xx']} / ${s.statuses['4xx']} / ${s.statuses['5xx']}`, ''],
    ['5xx', String(s.serverErrors), mark(s.serverErrors === 0)],
    ['network errors', String(s.statuses.network), mark(s.statuses.network === 0)],
    ['schema mismatches (unique)', String(s.schemaMismatches), mark(s.schemaMismatches === 0)],
    ['invalid input accepted (unique)', String(s.acceptedInvalid), mark(s.acceptedInvalid === 0)],
    ['schemathesis errors', String(s.errors.length), mark(s.errors.length === 0)],
    ["leaks (another account's data)", String(s.leaks), mark(s.leaks === 0)],
    [
      'rows before -> after',
      Object.keys(s.db.before)
        .map((t) => `${t} ${s.db.before[t as 'calls']}->${s.db.after[t as 'calls']}`)
        .join(', '),
      '',
    ],
    [
      'DB check',
      `${s.db.unexplained.length} unexplained, ${s.db.rejectedWithRows.length} of ${s.db.rejectedOnlyIds} rejected-only ids with rows, ` +
        `${s.db.callers.length} unexplained callers, ${s.db.agents.length} agents, ${s.db.numbers.length} numbers`,
      mark(s.db.ok),
    ],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\nfuzz: schemathesis ${s.schemathesis} against /openapi.json (logs: ${s.runDir})`);
  for (const [k, v, m] of rows) console.log(`${k.padEnd(w[0])}  ${v.padEnd(w[1])}  ${m}`);
  for (const f of s.failures) console.log(`  ✗ [${f.kind}] ${f.title} x${f.count}: ${f.operations.join(', ')}`);
  for (const e of s.errors) console.log(`  ✗ [${e.kind}] error: ${e.title} x${e.count}`);
  for (const r of s.serverErrorSamples) console.log(`  ✗ ${r.status} ${r.method} ${r.path}: ${r.body ?? ''}`);
  for (const id of [...s.db.unexplained, ...s.db.rejectedWithRows].slice(0, 10))
    console.log(`  ✗ rows for call ${id} that no accepted request explains`);
  for (const c of s.db.callers.slice(0, 10)) console.log(`  ✗ caller ${c} added or removed with no accepted request for it`);
  for (const a of s.db.agents.slice(0, 10)) console.log(`  ✗ agent ${a} changed with no accepted request for it`);
  for (const n of s.db.numbers.slice(0, 10)) console.log(`  ✗ number ${n} changed with no accepted request for it`);
  for (const r of s.leakSamples)
    console.log(`  ✗ leak [${r.kind}] ${r.status} ${r.method} ${r.url ?? r.path}: ${r.leak!.join(', ')} in ${r.body ?? ''}`);
  console.log(s.ok ? 'fuzz: PASS' : 'fuzz: FAIL');
}

// Last: the functions and constants above are initialized by now.
const { bin, version } = await ensureSchemathesis(log);
log(`schemathesis ${version}; logs in ${runDir}`);
const stack = await startBenchStack({ log });
const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
let exitCode = 1;
const stopAll = async () => {
  await pool.end().catch(() => undefined);
  await stack.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
try {
  exitCode = await Promise.race([stack.crashed, main(stack)]);
} catch (err) {
  console.error(err);
} finally {
  await stopAll();
}
process.exit(exitCode);
