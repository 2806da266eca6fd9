// A hosted voice call's requests (answer, speech, silence, a transfer's outcome) as changes to the call:
// what was said is recorded through the session, and the answer says what the caller hears next.
import { ActivityFailure, isCancellation, log } from '@temporalio/workflow';
import { dialer } from './activities.js';
import type { CallSession } from './call-session.js';
import {
  AFTER_TRANSFER_FAILED,
  asksForPerson,
  greeting,
  hostedVoice,
  reprompt,
  SILENCE_GOODBYE,
  SILENT_PROMPTS,
  TRANSFER_FAILED,
  TRANSFERRING,
} from './hosted.js';
import { hostedKey, type HostedAnswer, type HostedInput, type HostedReply, type TransferRequest } from './messages.js';
import type { CallView, TransferOutcome } from './types.js';

const listen = (...say: string[]): HostedAnswer => ({ say, next: 'listen' });
const hangUp = (...say: string[]): HostedAnswer => ({ say, next: 'hangup' });
/** What the caller heard of an interrupted reply, marked as cut short unless it ended on a sentence. */
const cutShort = (said: string) => (/[.!?…]$/.test(said.trim()) ? said.trim() : `${said.trim()}…`);

export class HostedCall {
  constructor(private readonly session: CallSession) {}

  /** Answers a provider request; a repeated request (same key) gets the first answer, and records nothing. */
  async handle(input: HostedInput): Promise<HostedReply> {
    const key = hostedKey(input);
    const answer = this.session.dedup.answer(key) ?? (await this.decide(key, input));
    this.session.dedup.rememberAnswer(key, answer);
    return { ...answer, call: this.session.call, voice: hostedVoice(this.session.agent) };
  }

  /** An operator's transfer: Twilio replaces the call's TwiML with the line and the `<Dial>`. */
  async transfer({ to, key }: TransferRequest): Promise<CallView> {
    const { session } = this;
    if (session.dedup.has(key)) return session.call;
    const attempt = this.dialing(to);
    await session.apply({ type: 'transfer', key, to, attempt, outcome: 'dialing', by: 'operator' }, 'update');
    const sid = session.call.legs.at(-1)!;
    try {
      await dialer.redirectCall.executeWithOptions({ summary: `transfer to ${to} (twilio)` }, [
        // The caller's gathers after a failed dial are numbered past every turn this leg has used (each recorded one or more).
        { callId: session.call.callId, sid, to, attempt, turn: session.call.turnCount, say: TRANSFERRING },
      ]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const reason = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
      session.transfers = { attempts: attempt, last: { to, attempt, outcome: 'failed' } };
      await session.apply({ type: 'transfer', key: `${key}:failed`, to, attempt, outcome: 'failed', by: 'operator' }, 'signal');
      log.warn('transfer not placed', { callId: session.call.callId, reason });
    }
    return session.call;
  }

  private async decide(key: string, input: HostedInput): Promise<HostedAnswer> {
    const { session } = this;
    if (input.kind === 'answer') return this.answer(input.provider, input.leg);
    // A caller who hangs up while talking to the person may be heard of (a drop) before the dial's outcome.
    if (input.kind === 'dial' && session.call.status === 'dropped') return this.dialed(key, input.attempt, input.outcome);
    if (session.call.status !== 'active') return hangUp();
    switch (input.kind) {
      case 'speech':
        return this.hear(key, input.text, input.digits, input.stream);
      case 'silence':
        if (input.count < SILENT_PROMPTS) return listen(reprompt(input.count));
        await session.say(`${key}:goodbye`, SILENCE_GOODBYE);
        await session.apply({ type: 'end', key: `${key}:end`, disposition: 'timeout', reason: 'the caller was silent' }, 'signal');
        return hangUp(SILENCE_GOODBYE);
      case 'dial':
        return this.dialed(key, input.attempt, input.outcome);
      case 'connected': {
        // The relay session ended with a handoff: the `<Dial>` follows; otherwise the call is over.
        const dialing = session.transfers.dialing;
        return dialing ? { say: [], next: 'transfer', transfer: { to: dialing.to, attempt: dialing.attempt } } : hangUp();
      }
      case 'interrupted':
        await session.rewriteLastSaid(key, cutShort(input.said));
        return listen();
    }
  }

  /** The greeting of a call just answered, or "Welcome back" for a caller who redialed a dropped call. */
  private async answer(provider: string, leg: string): Promise<HostedAnswer> {
    const { session } = this;
    const status = session.call.status;
    if (status === 'ended') return hangUp();
    if (status === 'ringing') await session.apply({ type: 'answered', key: `${provider}:${leg}:answered` }, 'signal');
    // The same key as the leg's status callbacks use: whichever arrives first resumes the call, once.
    if (status === 'dropped') await session.apply({ type: 'resume', key: `${provider}:${leg}:resume`, leg }, 'update');
    if (status === 'active' && !session.call.legs.includes(leg))
      await session.apply({ type: 'leg', key: `${provider}:${leg}:leg`, leg }, 'signal');
    const resumed = session.call.legs.indexOf(leg) > 0;
    const text = greeting(session.call, session.agent, resumed);
    await session.say(`${provider}:${leg}:greet`, text);
    if (session.agent?.record) {
      // The recording arrives after the hang-up: the call waits for it (a while) before it closes.
      session.awaitingRecording = true;
      if (provider === 'twilio') this.startRecording(leg);
    }
    return listen(text);
  }

  /** What the caller said (or pressed): a transfer when they ask for a person, else the responder's reply. */
  private async hear(key: string, text: string, digits?: string, stream?: string): Promise<HostedAnswer> {
    const { session } = this;
    if (digits) await session.apply({ type: 'digits', key: `${key}:digits`, digits }, 'signal');
    const transfer = session.agent?.transfer;
    if (transfer && asksForPerson(transfer, text, digits)) {
      if (text) await session.apply({ type: 'message', key, text }, 'signal');
      await session.say(`${key}:reply`, TRANSFERRING);
      const attempt = this.dialing(transfer.to);
      await session.apply(
        { type: 'transfer', key: `${key}:transfer`, to: transfer.to, attempt, outcome: 'dialing', by: 'caller' },
        'signal',
      );
      return { say: [TRANSFERRING], next: 'transfer', transfer: { to: transfer.to, attempt } };
    }
    const { reply, concluded } = await session.converse(key, text || digits!, undefined, stream);
    if (!concluded) return listen(reply.text);
    await session.apply({ type: 'end', key: `${key}:end`, disposition: 'completed', reason: 'the conversation concluded' }, 'signal');
    return hangUp(reply.text);
  }

  /** A transfer's outcome: answered ends the call `transferred`; otherwise the assistant says so and listens. */
  private async dialed(key: string, attempt: number, outcome: TransferOutcome): Promise<HostedAnswer> {
    const { session } = this;
    const to = session.transfers.dialing?.to ?? session.agent?.transfer?.to ?? 'unknown';
    session.transfers = { attempts: session.transfers.attempts, last: { to, attempt, outcome } };
    await session.apply({ type: 'transfer', key, to, attempt, outcome }, 'signal');
    if (session.ended) return hangUp();
    const sorry = TRANSFER_FAILED[outcome] ?? TRANSFER_FAILED.failed;
    await session.say(`${key}:reply`, `${sorry} ${AFTER_TRANSFER_FAILED}`);
    return listen(`${sorry} ${AFTER_TRANSFER_FAILED}`);
  }

  private dialing(to: string): number {
    const attempt = this.session.transfers.attempts + 1;
    this.session.transfers = { attempts: attempt, dialing: { to, attempt, sinceMs: Date.now() } };
    return attempt;
  }

  /** Asks Twilio to record the leg once it is answered; the outcome joins the queue as an event. */
  private startRecording(leg: string): void {
    const { callId } = this.session.call;
    dialer.startRecording.executeWithOptions({ summary: `record ${leg} (twilio)` }, [{ callId, sid: leg }]).then(
      ({ recordingSid }) => log.info('recording started', { callId, leg, recordingSid }),
      (err) => {
        if (isCancellation(err)) return;
        // The call goes on unrecorded; the failed activity shows in the Temporal UI.
        log.warn('recording not started', { callId, leg, error: String(err) });
        this.session.awaitingRecording = false;
      },
    );
  }
}
