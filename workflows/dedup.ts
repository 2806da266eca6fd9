// Bounded memory of idempotency keys and chat replies, carried across continue-as-new.
import type { Turn } from './types.js';

const MAX_KEYS = 2000;
const MAX_REPLIES = 200;

export interface DedupSnapshot {
  keys: string[];
  replies: [string, Turn][];
}

export class Dedup {
  private readonly keys: Set<string>;
  private readonly replies: Map<string, Turn>;

  constructor(snapshot?: DedupSnapshot) {
    this.keys = new Set(snapshot?.keys ?? []);
    this.replies = new Map(snapshot?.replies ?? []);
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

  snapshot(): DedupSnapshot {
    return { keys: [...this.keys], replies: [...this.replies] };
  }
}
