// The API's only path to call state: Temporal signals, updates and queries on `call-<callId>`.
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { callWorkflow } from '../workflows/call.js';
import {
  callEventSignal,
  callEventUpdate,
  callViewQuery,
  chatMessageUpdate,
  hostedKey,
  hostedTurnUpdate,
  openCallUpdate,
  transferCallUpdate,
  workflowIdFor,
  type ChatMessage,
  type HostedInput,
  type HostedReply,
  type TransferRequest,
} from '../workflows/messages.js';
import { detailCall, startAttributes, summarizeCall } from '../workflows/operator-view.js';
import type { CallConfig, CallEvent, CallView, MessageReply, StartCall } from '../workflows/types.js';
import { ApiError } from './errors.js';
import { fromTemporal, isWorkflowGone, mayRetryUpdate } from './temporal-errors.js';

export interface GatewaySettings {
  taskQueue: string;
  call: CallConfig;
  /** How long an update may take before the API answers 503 `timeout` (the update may still land: retry with the same id). */
  updateTimeoutMs?: number;
  /** How long a task a worker took may run before another may take it (WORKFLOW_TASK_TIMEOUT; Temporal's default is 10 s). */
  workflowTaskTimeoutMs?: number;
}

/**
 * A worker SIGKILLed with a task in flight leaves it to time out: 2 s, not Temporal's 10 s, bounds that wait
 * (docs/reliability.md). A long local activity does not hit it: the SDK heartbeats the task meanwhile.
 */
export const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 2_000;

const DEFAULT_UPDATE_TIMEOUT_MS = 60_000;

const UPDATE_ATTEMPTS = 3;
/** How much past its deadline a hosted request's own timer lets the update answer before holding. */
const HOLD_GRACE_MS = 250;

export class CallGateway {
  constructor(
    private readonly client: Client,
    private readonly settings: GatewaySettings,
    /** Looks the call up in the stores when its workflow is gone: ended vs never existed. */
    private readonly exists: (callId: string) => Promise<boolean>,
  ) {}

  private startOptions(start: StartCall, openedBy?: string, config: Partial<CallConfig> = {}) {
    return {
      taskQueue: this.settings.taskQueue,
      workflowId: workflowIdFor(start.callId),
      args: [{ start, config: { ...this.settings.call, ...config }, ...(openedBy ? { openedBy } : {}) }] as Parameters<typeof callWorkflow>,
      // Visible in the operators' list from the start, and the workflow's first task has none to write.
      typedSearchAttributes: startAttributes(start),
      // A callId names one call forever: an ended call is never restarted.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      workflowTaskTimeout: this.settings.workflowTaskTimeoutMs ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
      staticSummary: summarizeCall(start),
      staticDetails: detailCall(start),
    };
  }

  /**
   * Starts the call (with `config` over the API's settings, e.g. its agent's windows), or finds it:
   * `created` says which. One round trip (update-with-start) that answers once the start is recorded;
   * only a call whose workflow has closed is read with a query.
   */
  async start(start: StartCall, config?: Partial<CallConfig>): Promise<{ created: boolean; call: CallView }> {
    const requestId = randomUUID();
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof callWorkflow>('callWorkflow', {
      ...this.startOptions(start, requestId, config),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    try {
      return await this.inTime(() =>
        this.client.workflow.executeUpdateWithStart(openCallUpdate, { args: [{ requestId }], startWorkflowOperation }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw fromTemporal(err, start.callId);
      return { created: false, call: await this.view(start.callId) };
    }
  }

  /** Delivers a webhook event, starting the call first (with `config` over the API's settings) when it does not exist yet. */
  async signalWithStart(start: StartCall, event: CallEvent, config?: Partial<CallConfig>): Promise<void> {
    try {
      await this.client.workflow.signalWithStart('callWorkflow', {
        ...this.startOptions(start, undefined, config),
        signal: callEventSignal,
        signalArgs: [event],
      });
    } catch (err) {
      // The call has ended: providers retry non-2xx, so a late event is accepted and dropped.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw fromTemporal(err, start.callId);
    }
  }

  /** Fire-and-forget for webhooks; false when the call has already ended. */
  async signal(callId: string, event: CallEvent): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(workflowIdFor(callId)).signal(callEventSignal, event);
      return true;
    } catch (err) {
      if (isWorkflowGone(err))
        return this.gone(callId).then(
          () => false,
          () => false,
        );
      throw fromTemporal(err, callId);
    }
  }

  update(callId: string, event: CallEvent): Promise<CallView> {
    return this.call(callId, (h) => this.inTime(() => h.executeUpdate(callEventUpdate, { args: [event], updateId: event.key })));
  }

  message(callId: string, message: ChatMessage): Promise<MessageReply> {
    return this.call(callId, (h) =>
      this.inTime(() => h.executeUpdate(chatMessageUpdate, { args: [message], updateId: `message:${message.messageId}` })),
    );
  }

  /**
   * A hosted voice request, answered within `withinMs` or not at all: null means the call has not answered
   * yet (a worker restarting) and the update goes on; asking again with the same input waits for the same
   * answer. `start` starts the call first when it does not exist (update-with-start).
   */
  async hosted(
    callId: string,
    input: HostedInput,
    withinMs: number,
    start?: { start: StartCall; config?: Partial<CallConfig> },
  ): Promise<HostedReply | null> {
    // The RPC deadline usually ends the wait; a timer of our own bounds it too, as a caller must hear something
    // within 5 s (under load a deadline has been seen to end only after a second window). The update goes on.
    const answer = this.hostedUpdate(callId, input, withinMs, start);
    answer.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const hold = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), withinMs + HOLD_GRACE_MS)));
    try {
      return await Promise.race([answer, hold]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async hostedUpdate(
    callId: string,
    input: HostedInput,
    withinMs: number,
    start?: { start: StartCall; config?: Partial<CallConfig> },
  ): Promise<HostedReply | null> {
    const updateId = `hosted:${hostedKey(input)}`;
    try {
      if (!start)
        return await this.call(callId, (h) => this.inTime(() => h.executeUpdate(hostedTurnUpdate, { args: [input], updateId }), withinMs));
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof callWorkflow>('callWorkflow', {
        ...this.startOptions(start.start, undefined, start.config),
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return await this.inTime(
        () => this.client.workflow.executeUpdateWithStart(hostedTurnUpdate, { args: [input], updateId, startWorkflowOperation }),
        withinMs,
      );
    } catch (err) {
      const apiError = fromTemporal(err, callId);
      // Not answered in time, or the call's worker is away: the provider hears a holding line meanwhile.
      if (['timeout', 'unavailable', 'temporal_unavailable'].includes(apiError.code)) return null;
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ApiError('call_ended', 'the call has ended');
      throw apiError;
    }
  }

  /** An operator's transfer of a live Twilio call to a person. */
  transfer(callId: string, request: TransferRequest): Promise<CallView> {
    return this.call(callId, (h) => this.inTime(() => h.executeUpdate(transferCallUpdate, { args: [request], updateId: request.key })));
  }

  view(callId: string): Promise<CallView> {
    return this.call(callId, (h) => h.query(callViewQuery));
  }

  /**
   * The view of a call the stores do not hold: one a webhook just started (its workflow runs). A closed
   * workflow without a row is a call retention deleted, whatever its history still says.
   */
  async unrecordedView(callId: string): Promise<CallView> {
    return this.call(callId, async (h) => {
      if ((await h.describe()).status.name !== 'RUNNING') throw new ApiError('not_found', `no call ${callId}`);
      return h.query(callViewQuery);
    });
  }

  /** Whether the call's workflow still runs (its latest run, across continue-as-new); false once it closed or is gone. */
  async isRunning(callId: string): Promise<boolean> {
    try {
      return (await this.client.workflow.getHandle(workflowIdFor(callId)).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (isWorkflowGone(err)) return false;
      throw fromTemporal(err, callId);
    }
  }

  private async call<T>(callId: string, fn: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client.workflow.getHandle(workflowIdFor(callId)));
    } catch (err) {
      if (isWorkflowGone(err)) return this.gone(callId);
      throw fromTemporal(err, callId);
    }
  }

  /**
   * Updates wait for the workflow; without a deadline a call with no worker would hold the request
   * forever. An update can also lose a race with the call's continue-as-new (Temporal aborts it and
   * usually, not always, retries it itself): updates are idempotent by id, so it is asked again.
   */
  private async inTime<T>(fn: () => Promise<T>, withinMs = this.settings.updateTimeoutMs ?? DEFAULT_UPDATE_TIMEOUT_MS): Promise<T> {
    const deadline = Date.now() + withinMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.withDeadline(deadline, fn);
      } catch (err) {
        if (attempt >= UPDATE_ATTEMPTS || !mayRetryUpdate(err) || Date.now() > deadline - 500) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  private async gone(callId: string): Promise<never> {
    if (await this.exists(callId)) throw new ApiError('call_ended', 'the call has ended');
    throw new ApiError('not_found', `no call ${callId}`);
  }
}
