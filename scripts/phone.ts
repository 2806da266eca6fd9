// A terminal phone: plays Twilio against a running Callwright (`npm start` in another terminal), so a hosted
// voice conversation can be tried without a phone number. What you type is what the caller says.
//   npm run phone -- [--from +15550100001] [--to +15550100002] [--url http://localhost:3000] [--token ...] [--verbose]
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { HELP, Phone, type Io } from './phone/call.js';
import { PhoneError, TwilioClient } from './phone/twilio.js';

const USAGE = `npm run phone -- [options]

Calls a running Callwright as Twilio would, from --from to --to, and follows its TwiML:
it prints what the assistant says and sends what you type as the caller's speech.

  --from <number>  the caller (default +15550100001); /redial calls again from it
  --to <number>    the number called (default +15550100002)
  --url <url>      the API (default $API_URL, else http://localhost:$PORT, port 3000)
  --token <token>  Twilio auth token for signatures (default $TWILIO_AUTH_TOKEN, else dev-twilio-auth-token)
  --verbose        print every request and the raw TwiML
  --help           this text

Signatures cover $PUBLIC_BASE_URL when it is set (as the API checks them), requests still go to --url.

${HELP}`;

const E164 = /^\+[1-9]\d{6,14}$/;
const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** Lines from stdin, a terminal or a pipe: lines typed ahead of a prompt wait for it rather than being lost. */
function terminal(): Io & { close(): void } {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  const queued: string[] = [];
  let waiting: ((line: string | null) => void) | undefined;
  let ended = false;
  rl.on('line', (line) => {
    const answer = waiting;
    waiting = undefined;
    if (answer) answer(line);
    else queued.push(line);
  });
  rl.on('close', () => {
    ended = true;
    waiting?.(null);
  });
  // Ctrl-C hangs up like /quit, so the server hears the call end.
  rl.on('SIGINT', () => rl.close());
  return {
    print: (line) => console.log(line),
    async ask(prompt) {
      if (interactive) {
        rl.setPrompt(prompt);
        rl.prompt();
      } else process.stdout.write(prompt);
      const line = queued.length ? queued.shift()! : ended ? null : await new Promise<string | null>((r) => (waiting = r));
      // A pipe does not echo: show the line, so the output reads as the conversation it was.
      if (!interactive) process.stdout.write(line === null ? '\n' : `${line}\n`);
      return line;
    },
    close: () => rl.close(),
  };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        from: { type: 'string', default: '+15550100001' },
        to: { type: 'string', default: '+15550100002' },
        url: { type: 'string' },
        token: { type: 'string' },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    console.error(`phone: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = trimSlash(values.url || process.env.API_URL || `http://localhost:${process.env.PORT || 3000}`);
  const bad = [
    ...(['from', 'to'] as const).filter((k) => !E164.test(values[k])).map((k) => `--${k} must be an E.164 number like +15550100001`),
    ...(URL.canParse(base) ? [] : [`--url ${base} is not a URL`]),
  ];
  if (bad.length) {
    console.error(`phone: ${bad.join('; ')}`);
    return 2;
  }

  const io = terminal();
  const client = new TwilioClient({
    base,
    publicBase: trimSlash(process.env.PUBLIC_BASE_URL || base),
    token: values.token ?? (process.env.TWILIO_AUTH_TOKEN || 'dev-twilio-auth-token'),
    trace: values.verbose ? (line) => console.log(line) : undefined,
  });
  const accountSid = process.env.TWILIO_ACCOUNT_SID || `AC${'0'.repeat(32)}`;
  try {
    await new Phone({ from: values.from, to: values.to, accountSid, client }, io).run();
    return 0;
  } finally {
    io.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof PhoneError ? `\nphone: ${err.message}` : err);
    process.exit(1);
  },
);
