// Hosted answers as Vonage NCCOs: the actions typed once, built as objects (JSON.stringify escapes what they say).
import type { HostedReply } from '../../workflows/messages.js';

export interface TalkAction {
  action: 'talk';
  text: string;
  language: string;
}
export interface InputAction {
  action: 'input';
  type: ('speech' | 'dtmf')[];
  eventUrl: [string];
  eventMethod: 'POST';
  speech: { language: string; endOnSilence: number; uuid: [string] };
  dtmf?: { maxDigits: number };
}
export interface ConnectAction {
  action: 'connect';
  /** Synchronous: a dial that fails posts to eventUrl, whose NCCO replaces this one (the assistant speaks again). */
  eventType: 'synchronous';
  eventUrl: [string];
  eventMethod: 'POST';
  /** Seconds the person's phone rings. */
  timeout: number;
  /** The caller ID: one of the application's numbers (the one the caller dialed). */
  from?: string;
  endpoint: [{ type: 'phone'; number: string } | { type: 'sip'; uri: string }];
}
export interface RecordAction {
  action: 'record';
  eventUrl: [string];
  eventMethod: 'POST';
}
export interface NotifyAction {
  action: 'notify';
  payload: Record<string, string>;
  eventUrl: [string];
  eventMethod: 'POST';
}
export type NccoAction = TalkAction | InputAction | ConnectAction | RecordAction | NotifyAction;
export type Ncco = NccoAction[];

/** The leg and URLs a hosted call's NCCO names: each URL names its call, its leg and its turn. */
export interface NccoUrls {
  /** The leg whose speech the input hears. */
  leg: string;
  /** Where the input of turn `turn` is posted; `silent` is how many silent prompts in a row its silence would make. */
  input(turn: number, silent: number): string;
  /** A transfer's `connect` events. */
  connect(attempt: number, turn: number): string;
  /** The `record` action's event. */
  recording: string;
}

const talk = (text: string, language: string): TalkAction => ({ action: 'talk', text, language });
/** Vonage writes numbers in E.164 without the +. */
const bare = (n: string) => n.replace(/^\+/, '');

/**
 * Renders the answer for turn `turn`, after `silent` silent prompts in a row (0 after something was said): the
 * caller's next words are turn `turn + 1`, or the same turn again after a silence. `record` starts the call's recording.
 */
export function nccoFor(reply: HostedReply, urls: NccoUrls, turn: number, silent = 0, record = false): Ncco {
  const { voice } = reply;
  const ncco: Ncco = [];
  if (record && reply.next !== 'hangup') ncco.push({ action: 'record', eventUrl: [urls.recording], eventMethod: 'POST' });
  ncco.push(...reply.say.map((text) => talk(text, voice.language)));
  if (reply.next === 'transfer') {
    const { to, attempt } = reply.transfer!;
    ncco.push({
      action: 'connect',
      eventType: 'synchronous',
      eventUrl: [urls.connect(attempt, turn)],
      eventMethod: 'POST',
      timeout: 20,
      ...(reply.call.to ? { from: bare(reply.call.to) } : {}),
      endpoint: [to.startsWith('sip:') ? { type: 'sip', uri: to } : { type: 'phone', number: bare(to) }],
    });
  } else if (reply.next === 'listen') {
    ncco.push({
      action: 'input',
      type: voice.transferDigit ? ['speech', 'dtmf'] : ['speech'],
      eventUrl: [urls.input(silent ? turn : turn + 1, silent + 1)],
      eventMethod: 'POST',
      speech: { language: voice.language, endOnSilence: 1.5, uuid: [urls.leg] },
      ...(voice.transferDigit ? { dtmf: { maxDigits: 1 } } : {}),
    });
  }
  // A hang-up is the NCCO running out: Vonage ends the call after its last action.
  return ncco;
}

/** "One moment.", then Vonage posts `payload` to `again`, whose NCCO (the held answer) replaces this one. */
export function holdingNcco(again: string, payload: Record<string, string>, language = 'en-US'): Ncco {
  return [talk('One moment.', language), { action: 'notify', payload, eventUrl: [again], eventMethod: 'POST' }];
}

/** The call is over here: what is said, then nothing, so Vonage ends the call. */
export const hangupNcco = (say?: string, language = 'en-US'): Ncco => (say ? [talk(say, language)] : []);
