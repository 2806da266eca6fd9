// One long-lived workflow per call. Handlers only enqueue; the main loop applies queued events in
// arrival order and records them together, so persistence never interleaves, a burst costs one write,
// and the queue can be carried across continue-as-new.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { CallSession, type SessionSnapshot } from './call-session.js';
import { Deadline } from './deadline.js';
import { dueTimeout } from './lifecycle.js';
import {
  callEventSignal,
  callEventUpdate,
  callViewQuery,
  CallErrorType,
  chatMessageUpdate,
  hostedTurnUpdate,
  openCallUpdate,
  transferCallUpdate,
  type ChatMessage,
  type HostedInput,
  type HostedReply,
  type OpenedCall,
  type TransferRequest,
} from './messages.js';
import { HostedCall } from './hosted-session.js';
import { describeCall, indexedAtStart, indexedNow, needsReindex, searchAttributesOf, type Indexed } from './operator-view.js';
import { deliverReport, type ReportOutcome } from './report.js';
import type { CallConfig, CallEvent, CallView, MessageReply, StartCall } from './types.js';

export interface CallWorkflowInput {
  start: StartCall;
  config: CallConfig;
  /** Present after continue-as-new: the call so far and the signals not yet applied. */
  carried?: SessionSnapshot & { pending: CallEvent[] };
  /** The request that started this call through `openCallUpdate` (absent when a webhook started it). */
  openedBy?: string;
}

type Work =
  | { kind: 'signal'; event: CallEvent }
  | { kind: 'update'; event: CallEvent; done: Settle<CallView> }
  | { kind: 'message'; message: ChatMessage; done: Settle<MessageReply> }
  | { kind: 'open'; created: boolean; done: Settle<OpenedCall> }
  | { kind: 'hosted'; input: HostedInput; done: Settle<HostedReply> }
  | { kind: 'transfer'; request: TransferRequest; done: Settle<CallView> };
type Settle<T> = (result: { value?: T; error?: unknown }) => void;

export async function callWorkflow(input: CallWorkflowInput): Promise<CallView> {
  const session = new CallSession(input.config, input.start, workflowInfo().workflowId, input.carried);
  const queue: Work[] = (input.carried?.pending ?? []).map((event) => ({ kind: 'signal', event }));

  const rejectEnded = (_input: unknown) => {
    if (session.call.status === 'ended')
      throw ApplicationFailure.create({ type: CallErrorType.ended, message: 'the call has ended', nonRetryable: true });
  };
  setHandler(callViewQuery, () => session.recorded);
  setHandler(callEventSignal, (event) => void queue.push({ kind: 'signal', event }));
  setHandler(callEventUpdate, (event: CallEvent) => settled<CallView>((done) => queue.push({ kind: 'update', event, done })), {
    validator: rejectEnded,
  });
  setHandler(chatMessageUpdate, (message: ChatMessage) => settled<MessageReply>((done) => queue.push({ kind: 'message', message, done })), {
    validator: rejectEnded,
  });
  setHandler(
    hostedTurnUpdate,
    (hosted: HostedInput) => settled<HostedReply>((done) => queue.push({ kind: 'hosted', input: hosted, done })),
    {
      validator: rejectEnded,
    },
  );
  setHandler(transferCallUpdate, (request) => settled<CallView>((done) => queue.push({ kind: 'transfer', request, done })), {
    validator: (request) => {
      rejectEnded(request);
      if (session.call.status !== 'active' || session.call.provider !== 'twilio' || !session.call.legs.length)
        throw ApplicationFailure.create({
          type: CallErrorType.invalidState,
          message: `only an active Twilio call can be transferred (this one is a ${session.call.status} ${session.call.provider ?? 'API'} call)`,
          nonRetryable: true,
        });
    },
  });
  // No validator: opening an ended call answers its final view, as a repeated POST /calls should.
  setHandler(openCallUpdate, ({ requestId }) =>
    settled<OpenedCall>((done) => queue.push({ kind: 'open', created: requestId === input.openedBy, done })),
  );

  if (!input.carried) await session.started(input.start);
  let published = '';
  let indexed: Indexed | undefined = indexedAtStart(workflowInfo().typedSearchAttributes, Date.now());
  const publish = () => {
    const details = describeCall(session.call, session.transfers);
    if (details === published) return;
    published = details;
    setCurrentDetails(details);
    if (indexed && !needsReindex(indexed, session.call, Date.now())) return;
    indexed = indexedNow(session.call, Date.now());
    upsertSearchAttributes(searchAttributesOf(session.call));
  };
  publish();
  // An outbound call is dialed once its start is written and the client has its answer; events that
  // arrive while it is dialed wait in the queue and apply after the outcome.
  if (input.start.dial && !input.carried) {
    await drain(session, queue);
    if (!session.ended) await session.dial();
    publish();
  }

  const deadline = new Deadline();
  while (!session.ended) {
    if (queue.length === 0) {
      if (session.unrecorded) await session.flush();
      const due = transferAware(dueTimeout(session.call, session.lastActivityMs, input.config)!, session);
      if (await deadline.wait(due, () => queue.length > 0)) await session.expire(due.disposition, due.summary);
    }
    await drain(session, queue);
    publish();
    if (!session.ended && shouldContinueAsNew(input.config)) {
      // Updates must finish in this run; signals that arrive meanwhile travel in `pending`.
      while (!allHandlersFinished()) {
        await condition(() => queue.some((w) => w.kind !== 'signal') || allHandlersFinished());
        await drain(session, queue, (w) => w.kind !== 'signal');
      }
      const pending = queue.flatMap((w) => (w.kind === 'signal' ? [w.event] : []));
      await continueAsNew<typeof callWorkflow>({ ...input, carried: { ...session.snapshot(), pending } });
    }
  }
  // Answer whatever is still queued (as ended) before the run closes.
  await drain(session, queue);
  if (input.start.dial) await session.hangUpPlacedLeg();
  await awaitRecording(session, queue);
  if (input.config.reportUrl) await reportEnded(session, queue, input.config.reportUrl);
  await condition(allHandlersFinished);
  await drain(session, queue);
  publish();
  return session.call;
}

/** How long an ended call waits for the provider's recording (Twilio posts it once the audio is processed). */
const RECORDING_WAIT_MS = 10 * 60_000;

/** The report carries the recording: wait for it, answering whatever else arrives meanwhile as ended. */
async function awaitRecording(session: CallSession, queue: Work[]): Promise<void> {
  const until = Date.now() + RECORDING_WAIT_MS;
  while (session.awaitingRecording && !session.call.recording) {
    if (!(await condition(() => queue.length > 0, Math.max(until - Date.now(), 1)))) return;
    await drain(session, queue);
  }
}

/**
 * Sends the end-of-call report and records how it went. Its retries may last hours; meanwhile the call
 * keeps answering as ended (a repeated open, late signals), so queued work is drained as it comes.
 */
async function reportEnded(session: CallSession, queue: Work[], url: string): Promise<void> {
  const report: { sent?: PromiseSettledResult<ReportOutcome> } = {};
  void Promise.allSettled([deliverReport(session.call.callId, url)]).then(([sent]) => void (report.sent = sent));
  while (!report.sent) {
    await condition(() => report.sent !== undefined || queue.length > 0);
    await drain(session, queue);
  }
  // Only a cancellation of the workflow itself is thrown; a report given up is an outcome.
  if (report.sent.status === 'rejected') throw report.sent.reason;
  await session.reported(report.sent.value);
}

/** Applies the queued work in order, records it, and only then answers the updates among it. */
async function drain(session: CallSession, queue: Work[], only: (w: Work) => boolean = () => true): Promise<void> {
  const hosted = new HostedCall(session);
  const answers: (() => void)[] = [];
  const answer = (send: () => void) => void answers.push(send);
  for (let i = queue.findIndex(only); i >= 0; i = queue.findIndex(only)) {
    const [work] = queue.splice(i, 1);
    try {
      if (work.kind === 'signal') await session.apply(work.event, 'signal');
      else if (work.kind === 'update') answer(settleWith(work.done, await session.apply(work.event, 'update')));
      else if (work.kind === 'open') answer(settleWith(work.done, { created: work.created, call: session.call }));
      else if (work.kind === 'hosted') answer(settleWith(work.done, await hosted.handle(work.input)));
      else if (work.kind === 'transfer') answer(settleWith(work.done, await hosted.transfer(work.request)));
      else answer(settleWith(work.done, await session.message(work.message)));
    } catch (error) {
      if (work.kind === 'signal') throw error;
      answer(() => work.done({ error }));
    }
  }
  if (session.unrecorded) await session.flush();
  for (const send of answers) send();
}

const settleWith =
  <T>(done: Settle<T>, value: T) =>
  () =>
    done({ value });

function settled<T>(enqueue: (done: Settle<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => enqueue(({ value, error }) => (error === undefined ? resolve(value as T) : reject(error))));
}

/** A person may talk with the caller for hours after a transfer: the idle timeout waits for the dial's outcome (up to 4 hours). */
const TRANSFER_LIMIT_MS = 4 * 3_600_000;
function transferAware<D extends { at: number; summary: string }>(due: D, session: CallSession): D {
  const dialing = session.transfers.dialing;
  if (!dialing || session.call.status !== 'active') return due;
  return { ...due, at: Math.max(due.at, dialing.sinceMs + TRANSFER_LIMIT_MS), summary: `transfer: ${dialing.to}` };
}

function shouldContinueAsNew(config: CallConfig): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= config.historyLimit;
}
