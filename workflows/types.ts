// Shapes shared by the workflow, its activities and the API. Types only: safe in the sandbox.
export const STATUSES = ['ringing', 'active', 'dropped', 'ended'] as const;
export const DISPOSITIONS = ['completed', 'abandoned', 'timeout', 'no_answer', 'busy', 'failed', 'canceled', 'transferred'] as const;
export const CHANNELS = ['voice', 'chat'] as const;
export const DIRECTIONS = ['inbound', 'outbound'] as const;
export const ROLES = ['user', 'assistant', 'system'] as const;

export type CallStatus = (typeof STATUSES)[number];
export type Disposition = (typeof DISPOSITIONS)[number];
export type Channel = (typeof CHANNELS)[number];
export type Direction = (typeof DIRECTIONS)[number];
export type Role = (typeof ROLES)[number];

export interface Turn {
  seq: number;
  role: Role;
  text: string;
  at: string;
}

/** What the contract calls the call view; times are ISO 8601, absent values null. */
/** The account of everything from before accounts, and of what the platform key creates without naming one. */
export const DEFAULT_ACCOUNT = 'default';

export interface CallView {
  callId: string;
  workflowId: string;
  /** The customer the call belongs to (`default` in calls from before accounts). */
  accountId: string;
  status: CallStatus;
  disposition: Disposition | null;
  channel: Channel;
  direction: Direction;
  from: string;
  to: string | null;
  provider: string | null;
  startedAt: string;
  answeredAt: string | null;
  droppedAt: string | null;
  resumeDeadline: string | null;
  endedAt: string | null;
  turnCount: number;
  dropCount: number;
  resumeCount: number;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  legs: string[];
  /** The agent the call was started with (its configuration is snapshotted then), or null. */
  agent: AgentRef | null;
  /** Answered to ended in whole seconds; null while open or when never answered (see call-duration.ts). */
  durationSeconds: number | null;
  /** The call's recording once the provider has it (an agent with `record: true`); absent in calls from before 1.1. */
  recording?: Recording | null;
  /** Sequence of the last recorded event: orders writes to PostgreSQL and Redis. */
  version: number;
}

/** Per-call settings, fixed when the call starts so a config change never alters a running call. */
export interface CallConfig {
  resumeWindowMs: number;
  idleTimeoutMs: number;
  /** Continue-as-new once history grows past this many events (Temporal also suggests it). */
  historyLimit: number;
  /**
   * Who answers chat turns: the scripted assistant runs inside the workflow; a model is an activity.
   * Absent in calls started before the scripted assistant moved into the workflow: they keep the activity.
   */
  responder?: ResponderKind;
  /** Where the end-of-call report is POSTed: the agent's `reportUrl`, else REPORT_URL. Absent: no report (and in older calls). */
  reportUrl?: string;
}

export const RESPONDER_KINDS = ['scripted', 'model'] as const;
export type ResponderKind = (typeof RESPONDER_KINDS)[number];

export interface AgentRef {
  agentId: string;
  version: number;
  name: string;
}

/** An agent's configuration as a call took it at its start: later edits reach only new calls. */
export interface AgentSnapshot extends AgentRef {
  prompt?: string;
  firstMessage?: string;
  language?: string;
  responder?: { kind: 'scripted' } | { kind: 'openai'; model: string; temperature?: number; maxTokens?: number };
  script?: { slots: { name: string; ask: string }[]; done?: string };
  topics?: string[];
  /** How a hosted voice call converses: Twilio `<Gather>` (default) or ConversationRelay. */
  voice?: { mode: VoiceMode };
  /** Hand the caller to a person: when they ask (phrases) or press `digit`. */
  transfer?: TransferSettings;
  /** Record its calls at the provider. */
  record?: boolean;
}

export const VOICE_MODES = ['gather', 'relay'] as const;
export type VoiceMode = (typeof VOICE_MODES)[number];

export interface TransferSettings {
  /** The person's number (E.164) or SIP address. */
  to: string;
  /** What the caller says to ask for a person; the default phrases when absent. */
  phrases?: string[];
  /** A key that asks for a person; the gather then listens for DTMF too. */
  digit?: string;
}

export interface Recording {
  url: string;
  durationSeconds: number | null;
}

export interface StartCall {
  callId: string;
  /** The account that owns the call (absent in older calls: `default`). */
  accountId?: string;
  channel: Channel;
  direction: Direction;
  from: string;
  to: string | null;
  provider: string | null;
  /** Voice calls ring first; chat calls start active. */
  answered: boolean;
  metadata: Record<string, unknown>;
  /** The agent answering the call, as it was configured when the call started (absent: none). */
  agent?: AgentSnapshot;
  /** What the call knows of its caller from the start: the profile's name and language (absent in older calls). */
  context?: Record<string, unknown>;
  /** Idempotency key of the start event (provider event id or derived). */
  key: string;
  at?: string;
  /** An outbound call the workflow places itself, through the provider, once its start is recorded (absent in older calls). */
  dial?: boolean;
}

interface EventBase {
  /** Idempotency key: a provider event id, a message id, or one the API derives. */
  key: string;
  /** When the event happened at its source; audit only, state uses workflow time. */
  at?: string;
  /** Provider ordering within one leg (Twilio's SequenceNumber): an event older than one applied is stale. */
  order?: { leg: string; n: number };
}
export type CallEvent =
  | (EventBase & { type: 'answered' })
  | (EventBase & { type: 'turn'; role: Role; text: string })
  | (EventBase & { type: 'message'; text: string })
  | (EventBase & { type: 'drop'; reason?: string; /** the provider saw the call answered (a hangup after talking) */ answered?: boolean })
  | (EventBase & { type: 'resume'; leg?: string })
  | (EventBase & {
      type: 'end';
      disposition?: Disposition;
      reason?: string;
      /** why the provider refused to place the call */ providerError?: ProviderError;
    })
  | (EventBase & { type: 'leg'; leg: string })
  /** Keys the caller pressed (DTMF). */
  | (EventBase & { type: 'digits'; digits: string })
  /** One attempt to hand the caller to a person, and how it went; `answered` ends the call `transferred`. */
  | (EventBase & { type: 'transfer'; to: string; attempt: number; outcome: TransferOutcome; by?: 'caller' | 'operator' })
  /** The provider's recording of the call is ready (it may arrive after the call ended). */
  | (EventBase & { type: 'recording'; recording: Recording; sid?: string });

export const TRANSFER_OUTCOMES = ['dialing', 'answered', 'busy', 'no-answer', 'failed', 'canceled'] as const;
export type TransferOutcome = (typeof TRANSFER_OUTCOMES)[number];

export type CallEventType = CallEvent['type'];

/** The reason of the drop a ConversationRelay socket's close without `end` signals (api/voice/twilio-relay.ts). */
export const RELAY_CLOSED = 'relay closed';

/** The ApplicationFailure type of a provider's refusal to place a call: final, never retried. */
export const PROVIDER_REFUSED = 'ProviderRefused';
/** What a provider's refusal says besides its message (Twilio: its error code, HTTP status and help page). */
export interface ProviderError {
  code?: number;
  status: number;
  moreInfo?: string;
}

/** Every type in call_events: the events above, those the workflow records of its own, and events PostgreSQL refused (stored in their place). */
export const RECORDED_EVENT_TYPES = [
  'started',
  'answered',
  'turn',
  'message',
  'reply',
  'drop',
  'resume',
  'end',
  'leg',
  'timeout',
  'event_rejected',
  'report',
  'digits',
  'transfer',
  'recording',
] as const;
export type RecordedEventType = (typeof RECORDED_EVENT_TYPES)[number];

/** One row of call_events as the workflow hands it to persistence. */
export interface EventRecord {
  seq: number;
  key: string;
  type: RecordedEventType;
  applied: boolean;
  occurredAt: string;
  payload: Record<string, unknown>;
}

/** Everything one local activity writes in one transaction: events of one call, in order, and its latest state. */
export interface RecordBatch {
  call: CallView;
  events: EventRecord[];
  turns: Turn[];
  /** Set on start and when the caller's name is learned: keeps the callers profile current. */
  caller?: { number: string; name?: string };
}

export interface MessageReply {
  reply: Turn;
  call: CallView;
}
