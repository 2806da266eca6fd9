// Bounded memory of idempotency keys and chat replies, carried across continue-as-new.
import type { HostedAnswer } from './messages.js';
import type { Turn } from './types.js';

const MAX_KEYS = 2000;
const MAX_REPLIES = 200;
const MAX_ANSWERS = 50;

export interface DedupSnapshot {
  keys: string[];
  replies: [string, Turn][];
  /** Hosted voice answers by request key (absent in snapshots from before hosted voice). */
  answers?: [string, HostedAnswer][];
}

export class Dedup {
  private readonly keys: Set<string>;
  private readonly replies: Map<string, Turn>;
  private readonly answers: Map<string, HostedAnswer>;

  constructor(snapshot?: DedupSnapshot) {
    this.keys = new Set(snapshot?.keys ?? []);
    this.replies = new Map(snapshot?.replies ?? []);
    this.answers = new Map(snapshot?.answers ?? []);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  remember(key: string): void {
    this.keys.add(key);
    // Sets iterate in insertion order: the first entries are the oldest.
    if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.values().next().value!);
  }

  reply(messageId: string): Turn | undefined {
    return this.replies.get(messageId);
  }

  rememberReply(messageId: string, reply: Turn): void {
    this.replies.set(messageId, reply);
    if (this.replies.size > MAX_REPLIES) this.replies.delete(this.replies.keys().next().value!);
  }

  answer(key: string): HostedAnswer | undefined {
    return this.answers.get(key);
  }

  rememberAnswer(key: string, answer: HostedAnswer): void {
    this.answers.set(key, answer);
    if (this.answers.size > MAX_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
  }

  snapshot(): DedupSnapshot {
    return { keys: [...this.keys], replies: [...this.replies], ...(this.answers.size ? { answers: [...this.answers] } : {}) };
  }
}
