// One call's Server-Sent Events: what the store holds first, then the feed's batches, each turn once and
// in order (`id` = its seq) and each view once (by version). A gap in the seqs, or a feed that was away,
// is filled from the store, which the worker wrote before it published.
import type { SSEStreamingApi } from 'hono/streaming';
import type { Logger } from 'pino';
import type { LiveBatch } from '../../store/call-cache.js';
import { readCall, readTurns, type Stores } from '../../store/call-reader.js';
import type { CallView, Turn } from '../../workflows/types.js';
import type { CallFeed, FeedSignal } from './call-feed.js';
import { EVERY_ACCOUNT } from '../../store/scope.js';

const PAGE = 200;

export interface StreamSources {
  stores: Stores;
  feed: CallFeed;
  /** Whether the call's workflow still runs: asked at every heartbeat, since a closed one records nothing more. */
  isRunning(callId: string): Promise<boolean>;
  heartbeatMs: number;
  logger?: Logger;
}

type Signal = FeedSignal | { kind: 'workflow_closed' };

/** Subscribes before anything is read, so no batch falls between the catch-up and the live feed. */
export async function openCallStream(sources: StreamSources, call: CallView, afterSeq: number): Promise<CallStream> {
  const stream = new CallStream(sources, call, afterSeq);
  stream.unwatch = await sources.feed.watch(call.callId, (signal) => stream.push(signal));
  return stream;
}

export class CallStream {
  unwatch: () => void = () => undefined;
  private readonly queue: Signal[] = [];
  private wake?: () => void;
  private stopped = false;
  private checking = false;
  private lastVersion = -1;

  constructor(
    private readonly sources: StreamSources,
    private view: CallView,
    private lastSeq: number,
  ) {}

  push(signal: Signal): void {
    this.queue.push(signal);
    this.wake?.();
  }

  /** Writes until the call has ended, its workflow closed, the feed closed or the client went away. */
  async run(sse: SSEStreamingApi): Promise<void> {
    sse.onAbort(() => this.stop());
    const heartbeat = setInterval(() => void this.beat(sse), this.sources.heartbeatMs);
    try {
      await this.catchUp(sse);
      while (!this.ended()) {
        const signal = await this.next();
        if (!signal || signal.kind === 'closed') break;
        if (signal.kind === 'batch') await this.apply(sse, signal.batch);
        else await this.catchUp(sse);
        if (signal.kind === 'workflow_closed') break;
      }
    } catch (err) {
      // The client reconnects with Last-Event-ID and loses nothing.
      this.sources.logger?.warn({ callId: this.view.callId, err: (err as Error).message }, 'call stream ended by an error');
    } finally {
      clearInterval(heartbeat);
      this.stop();
      this.unwatch();
    }
  }

  /** A view that says `ended` is the call's last: nothing can change for its client afterwards. */
  private ended(): boolean {
    return this.lastVersion >= 0 && this.view.status === 'ended';
  }

  private stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private next(): Promise<Signal | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve(this.queue.shift());
      };
    });
  }

  /** A comment line keeps proxies from closing an idle stream; the workflow check ends a stream whose call closed without an `ended` view. */
  private async beat(sse: SSEStreamingApi): Promise<void> {
    await sse.write(': heartbeat\n\n');
    if (this.checking) return;
    this.checking = true;
    try {
      if (!(await this.sources.isRunning(this.view.callId).catch(() => true))) this.push({ kind: 'workflow_closed' });
    } finally {
      this.checking = false;
    }
  }

  private async apply(sse: SSEStreamingApi, { call, turns }: LiveBatch): Promise<void> {
    const fresh = turns.filter((t) => t.seq > this.lastSeq);
    if (!fresh.every((t, i) => t.seq === this.lastSeq + 1 + i)) return this.catchUp(sse);
    for (const turn of fresh) await this.sendTurn(sse, turn);
    await this.sendView(sse, call);
  }

  /** The turns after the last one sent, then the view, from the store (Redis, else PostgreSQL). */
  private async catchUp(sse: SSEStreamingApi): Promise<void> {
    const view = (await readCall(this.sources.stores, EVERY_ACCOUNT, this.view.callId)) ?? this.view;
    for (;;) {
      const page = await readTurns(this.sources.stores, view, this.lastSeq, PAGE);
      for (const turn of page) if (turn.seq > this.lastSeq) await this.sendTurn(sse, turn);
      if (page.length < PAGE) break;
    }
    await this.sendView(sse, view);
  }

  private async sendTurn(sse: SSEStreamingApi, turn: Turn): Promise<void> {
    await sse.writeSSE({ event: 'turn', id: String(turn.seq), data: JSON.stringify(turn) });
    this.lastSeq = turn.seq;
  }

  private async sendView(sse: SSEStreamingApi, view: CallView): Promise<void> {
    if (view.version <= this.lastVersion) return;
    await sse.writeSSE({ event: 'call', data: JSON.stringify(view) });
    this.view = view;
    this.lastVersion = view.version;
  }
}
