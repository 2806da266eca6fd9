// The call loop: plays Twilio's part of an inbound call, one TwiML document after another, and asks the
// person at the terminal whatever Twilio would have asked the caller (or the dialed party).
import { newSid, PhoneError, type TwilioClient } from './twilio.js';
import { parseTwiml, TwimlError, type Method, type Verb } from './twiml.js';

export interface Io {
  print(line: string): void;
  /** The next line typed, or null once input has ended. */
  ask(prompt: string): Promise<string | null>;
}

export interface PhoneSettings {
  from: string;
  to: string;
  accountSid: string;
  client: TwilioClient;
}

/** How a call ended, for the session: leave, wait at the idle prompt, or call again at once. */
type Outcome = 'quit' | 'idle' | 'redial';

/** What a document (or the caller) asks for next. */
type Step =
  | { kind: 'fetch'; url: string; method: Method; extra: Record<string, string> }
  | { kind: 'end'; status: 'completed' | 'busy' | 'no-answer'; said: string; outcome?: Outcome };

// Twilio follows redirects forever; a terminal should not, when a server loops without asking anything.
const MAX_FETCHES_WITHOUT_INPUT = 30;
const HANGUPS: Record<string, Outcome> = { '/hangup': 'idle', '/redial': 'redial', '/quit': 'quit', '/exit': 'quit' };
const DIAL_OUTCOMES: Record<string, string> = { answered: 'completed', busy: 'busy', 'no-answer': 'no-answer', failed: 'failed' };

export const HELP = [
  'Type what you say; an empty line is silence.',
  '/digits 12#  press keys        /hangup  hang up (a drop)',
  '/redial      call again        /quit    hang up and leave',
].join('\n');

// RFC 2822, as Twilio stamps its callbacks ("Mon, 16 Aug 2010 03:45:01 +0000").
const rfc2822 = (at: Date) => at.toUTCString().replace(/GMT$/, '+0000');

class Call {
  readonly sid = newSid('CA');
  readonly startedAt = Date.now();
  private sequence = 0;

  constructor(private readonly s: PhoneSettings) {}

  params(status: string): Record<string, string> {
    const { accountSid, from, to } = this.s;
    return {
      AccountSid: accountSid,
      ApiVersion: '2010-04-01',
      CallSid: this.sid,
      CallStatus: status,
      Called: to,
      Caller: from,
      Direction: 'inbound',
      From: from,
      To: to,
    };
  }

  /** The number's status callback: Twilio's default subscription is the final event only. */
  async finish(status: 'completed' | 'busy' | 'no-answer'): Promise<void> {
    const duration = status === 'completed' ? Math.round((Date.now() - this.startedAt) / 1000) : 0;
    await this.s.client.request(this.s.client.statusUrl, 'POST', {
      ...this.params(status),
      CallDuration: String(duration),
      SequenceNumber: String(this.sequence++),
      Timestamp: rfc2822(new Date()),
    });
  }
}

export class Phone {
  constructor(
    private readonly s: PhoneSettings,
    private readonly io: Io,
  ) {}

  /** Calls, then keeps offering /redial until the person quits (or input ends). */
  async run(): Promise<void> {
    for (let outcome = await this.call(); outcome !== 'quit';) {
      if (outcome === 'idle') outcome = await this.idle();
      if (outcome === 'redial') outcome = await this.call();
    }
  }

  private async idle(): Promise<Outcome> {
    for (;;) {
      const line = (await this.io.ask('> '))?.trim() ?? '/quit';
      if (line === '/redial') return 'redial';
      if (line === '/quit' || line === '/exit') return 'quit';
      if (line === '/help') this.io.print(HELP);
      else if (line) this.io.print('Not in a call: /redial or /quit.');
    }
  }

  private async call(): Promise<Outcome> {
    const call = new Call(this.s);
    const { client } = this.s;
    this.io.print(`Calling ${this.s.to} from ${this.s.from} (${call.sid})`);
    let step: Step = { kind: 'fetch', url: client.voiceUrl, method: 'POST', extra: {} };
    let status = 'ringing';
    let fetches = 0;
    try {
      while (step.kind === 'fetch') {
        if (++fetches > MAX_FETCHES_WITHOUT_INPUT) {
          throw new PhoneError(`the server sent ${MAX_FETCHES_WITHOUT_INPUT} documents in a row without asking anything`);
        }
        const xml = await client.request(step.url, step.method, { ...call.params(status), ...step.extra });
        status = 'in-progress';
        let verbs: Verb[];
        try {
          verbs = parseTwiml(xml);
        } catch (err) {
          if (err instanceof TwimlError) throw new PhoneError(`${new URL(step.url).pathname} answered ${err.message}`);
          throw err;
        }
        step = await this.play(verbs, step.url, () => (fetches = 0));
      }
    } catch (err) {
      // Twilio hangs up on an application error; tell the server the call ended if it can still hear.
      if (err instanceof PhoneError && status !== 'ringing') await call.finish('completed').catch(() => undefined);
      throw err;
    }
    const outcome = step.outcome ?? 'idle';
    this.io.print(outcome === 'idle' ? `${step.said}: /redial calls again, /quit leaves` : step.said);
    await call.finish(step.status);
    return outcome;
  }

  /** Runs one document's verbs in order; the end of the document ends the call, as on Twilio. */
  private async play(verbs: Verb[], docUrl: string, heard: () => void): Promise<Step> {
    const resolve = (url: string) => new URL(url, docUrl).toString();
    for (const verb of verbs) {
      switch (verb.verb) {
        case 'Say':
        case 'Play':
        case 'Pause':
        case 'Other':
          this.render(verb);
          break;
        case 'Gather': {
          verb.prompts.forEach((p) => this.render(p));
          const answer = await this.listen(verb.input);
          if ('kind' in answer) return answer;
          heard();
          // Silence: Twilio goes on with the verb after the <Gather>.
          if (answer.silence) break;
          return { kind: 'fetch', url: resolve(verb.action ?? docUrl), method: verb.method, extra: answer.params };
        }
        case 'Redirect':
          return { kind: 'fetch', url: resolve(verb.url), method: verb.method, extra: {} };
        case 'Dial': {
          this.io.print(`dialing ${verb.target} (rings for up to ${verb.timeout} s)`);
          const result = await this.dialOutcome();
          if (!('dialed' in result)) return result;
          heard();
          // Without an action, Twilio goes on with the next verb once the dialed call is over.
          if (verb.action) return { kind: 'fetch', url: resolve(verb.action), method: verb.method, extra: result.dialed };
          break;
        }
        case 'Connect':
          this.io.print(`<Connect> to ${verb.target || 'a stream'}: ConversationRelay is not simulated here; hanging up.`);
          return { kind: 'end', status: 'completed', said: 'call ended' };
        case 'Hangup':
          return { kind: 'end', status: 'completed', said: 'call ended' };
        case 'Reject':
          return { kind: 'end', status: verb.reason === 'busy' ? 'busy' : 'no-answer', said: `call rejected (${verb.reason})` };
      }
    }
    return { kind: 'end', status: 'completed', said: 'call ended (the TwiML ran out of verbs)' };
  }

  private render(verb: Verb): void {
    if (verb.verb === 'Say') this.io.print(`assistant: ${verb.text}`);
    else if (verb.verb === 'Play') this.io.print(`(plays ${verb.url})`);
    else if (verb.verb === 'Other') this.io.print(`(<${verb.name}> is not simulated; skipped)`);
  }

  /** A caller's command, as a step of the call: /hangup, /redial and /quit all hang up first. */
  private command(line: string): Step | 'help' | undefined {
    if (line === '/help') return 'help';
    const outcome = HANGUPS[line];
    if (!outcome) return undefined;
    return { kind: 'end', status: 'completed', said: 'you hung up', outcome };
  }

  private async listen(input: string[]): Promise<Step | { silence: true } | { silence: false; params: Record<string, string> }> {
    for (;;) {
      const typed = await this.io.ask('you: ');
      const line = typed === null ? '/quit' : typed.trim();
      if (!line) return { silence: true };
      const keys = /^\/digits\s+(\S+)$/.exec(line)?.[1];
      if (keys !== undefined) {
        if (!/^[0-9*#]+$/.test(keys)) this.io.print('Keys are 0-9, * and #.');
        else if (!input.includes('dtmf')) this.io.print(`This <Gather> does not listen for keys (input="${input.join(' ')}").`);
        else return { silence: false, params: { Digits: keys } };
        continue;
      }
      if (line.startsWith('/')) {
        const step = this.command(line);
        if (step && step !== 'help') return step;
        this.io.print(step ? HELP : `Unknown command ${line.split(/\s/)[0]}.\n${HELP}`);
        continue;
      }
      if (!input.includes('speech')) {
        this.io.print(`This <Gather> listens for keys only: /digits.`);
        continue;
      }
      return { silence: false, params: { SpeechResult: line, Confidence: '0.9' } };
    }
  }

  /** Plays the dialed party: the person says how the transfer went. */
  private async dialOutcome(): Promise<Step | { dialed: Record<string, string> }> {
    for (;;) {
      const typed = await this.io.ask('outcome? answered, busy, no-answer or failed [answered]: ');
      const line = typed === null ? '/quit' : typed.trim().toLowerCase() || 'answered';
      if (line.startsWith('/')) {
        const step = this.command(line);
        if (step && step !== 'help') return step;
        this.io.print(HELP);
        continue;
      }
      const status = DIAL_OUTCOMES[line];
      if (!status) {
        this.io.print('Say answered, busy, no-answer or failed.');
        continue;
      }
      const answered = status === 'completed';
      return {
        dialed: answered ? { DialCallStatus: status, DialCallDuration: '42', DialCallSid: newSid('CA') } : { DialCallStatus: status },
      };
    }
  }
}
