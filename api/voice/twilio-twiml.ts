// Hosted answers as TwiML, built with the twilio package's VoiceResponse (it escapes what it writes).
import { BUSY_WORDS } from './conversation.js';
import twilio from 'twilio';
import type { HostedReply } from '../../workflows/messages.js';

const { VoiceResponse } = twilio.twiml;

/** The URLs a hosted call's TwiML names: each names its call, its leg and its turn. */
export interface TwimlUrls {
  /** Where the caller's next utterance is posted. */
  gather(turn: number): string;
  /** Where Twilio goes when the caller says nothing for the `silent`-th prompt of that turn. */
  silence(turn: number, silent: number): string;
  /** A transfer's `<Dial action>`. */
  dial(attempt: number, turn: number): string;
  /** ConversationRelay: the WebSocket Twilio opens and the `<Connect action>` after it. */
  relay: { socket: string; action: string };
}

/** Renders the answer for the turn it answers; the caller's next words are turn `turn + 1`. */
export function twimlFor(reply: HostedReply, urls: TwimlUrls, turn: number, silent = 0): string {
  const response = new VoiceResponse();
  const { voice } = reply;
  const say = (to: { say: (attrs: object, text: string) => unknown }) =>
    reply.say.forEach((text) => to.say({ language: voice.language }, text));
  if (reply.next === 'hangup') {
    say(response);
    response.hangup();
  } else if (reply.next === 'transfer') {
    say(response);
    const to = reply.transfer!.to;
    const dial = response.dial({ action: urls.dial(reply.transfer!.attempt, turn), method: 'POST', timeout: 20 });
    if (to.startsWith('sip:')) dial.sip(to);
    else dial.number(to);
  } else if (voice.mode === 'relay') {
    // The greeting is the relay's welcome; the conversation then runs over its WebSocket.
    const connect = response.connect({ action: urls.relay.action, method: 'POST' });
    connect.conversationRelay({
      url: urls.relay.socket,
      welcomeGreeting: reply.say.join(' '),
      language: voice.language,
      // Twilio reports keys over the socket only when asked to; the transfer digit needs them.
      ...(voice.transferDigit ? { dtmfDetection: true } : {}),
    });
  } else {
    const next = silent ? turn : turn + 1;
    const gather = response.gather({
      input: voice.transferDigit ? ['speech', 'dtmf'] : ['speech'],
      action: urls.gather(next),
      method: 'POST',
      speechTimeout: 'auto',
      language: voice.language as never,
      ...(voice.transferDigit ? { numDigits: 1 } : {}),
    });
    say(gather);
    response.redirect({ method: 'POST' }, urls.silence(next, silent + 1));
  }
  return response.toString();
}

/** "One moment.", then Twilio asks `again` for the same answer. */
export function holdingTwiml(again: string, language = 'en-US'): string {
  const response = new VoiceResponse();
  response.say({ language: language as never }, 'One moment.');
  response.redirect({ method: 'POST' }, again);
  return response.toString();
}

/** The call is over here: Twilio ends the leg. */
export function hangupTwiml(say?: string): string {
  const response = new VoiceResponse();
  if (say) response.say(say);
  response.hangup();
  return response.toString();
}

/** A call that may not start: `busy` says so first (all lines in use), then Twilio rejects the call. */
export function rejectTwiml(reason: 'busy' | 'rejected'): string {
  const response = new VoiceResponse();
  if (reason === 'busy') response.say(BUSY_WORDS);
  response.reject({ reason });
  return response.toString();
}

/** Nothing to do (a callback that only informs). */
export const emptyTwiml = (): string => new VoiceResponse().toString();
