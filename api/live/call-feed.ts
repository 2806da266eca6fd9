// One Redis subscriber per API process, fanning each call's recorded batches out to that process's open
// streams. Pub/sub loses what is published while the subscriber is away: after every reconnection the
// streams are told to catch up from the store.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { liveChannel, type LiveBatch } from '../../store/call-cache.js';
import { ApiError } from '../errors.js';

export type FeedSignal =
  /** A batch the call recorded, as the worker published it. */
  | { kind: 'batch'; batch: LiveBatch }
  /** The subscriber was away: anything may have been missed. */
  | { kind: 'resync' }
  /** The feed is closing (the process stops): streams end. */
  | { kind: 'closed' };
export type FeedListener = (signal: FeedSignal) => void;

export class CallFeed {
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<FeedListener>>();
  /** Per channel, the SUBSCRIBE every watcher waits for before reading the store (or it could miss a batch in between). */
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private connectedOnce = false;
  private closed = false;

  /** Nothing connects until the first stream: apps that never stream hold no subscriber. */
  constructor(
    private readonly redis: Redis,
    private readonly logger?: Logger,
  ) {}

  /** Follows a call's batches; resolves once the subscription is in place. Returns the unwatch function. */
  async watch(callId: string, listener: FeedListener): Promise<() => void> {
    if (this.closed) throw new ApiError('unavailable', 'this API process is stopping; reconnect');
    const subscriber = this.connect();
    const channel = liveChannel(callId);
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    const unwatch = () => this.unwatch(channel, listener);
    let subscribing = this.subscribed.get(channel);
    if (!subscribing) {
      const attempt = subscriber.subscribe(channel);
      this.subscribed.set(channel, (subscribing = attempt));
      // A SUBSCRIBE that failed (Redis down) is tried again by the next watcher.
      attempt.catch(() => this.subscribed.get(channel) === attempt && this.subscribed.delete(channel));
    }
    try {
      await subscribing;
    } catch (err) {
      unwatch();
      throw err;
    }
    return unwatch;
  }

  /** Ends every open stream and the subscriber connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const set of this.listeners.values()) for (const listener of set) listener({ kind: 'closed' });
    this.listeners.clear();
    this.subscribed.clear();
    this.subscriber?.disconnect();
  }

  private unwatch(channel: string, listener: FeedListener): void {
    const set = this.listeners.get(channel);
    if (!set?.delete(listener) || set.size) return;
    this.listeners.delete(channel);
    this.subscribed.delete(channel);
    // Commands on one connection run in order: a later watch's SUBSCRIBE lands after this.
    this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }

  private connect(): Redis {
    if (this.subscriber) return this.subscriber;
    // Subscriptions are renewed here, not by ioredis, so streams resync only once they are back in place.
    const subscriber = this.redis.duplicate({ connectionName: `callwright-live:${process.pid}`, autoResubscribe: false });
    // The feed lives as long as the app's Redis connection: an app closed by quitting it leaves no subscriber behind.
    this.redis.once('end', () => this.close());
    subscriber.on('error', (err) => this.logger?.debug({ err: err.message }, 'live feed subscriber error'));
    subscriber.on('ready', () => void this.reconnected());
    subscriber.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      // A resubscription can race the last watcher's leaving: drop the channel nobody follows any more.
      if (!set) return void subscriber.unsubscribe(channel).catch(() => undefined);
      let batch: LiveBatch;
      try {
        batch = JSON.parse(message) as LiveBatch;
      } catch {
        return;
      }
      for (const listener of set) listener({ kind: 'batch', batch });
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  private async reconnected(): Promise<void> {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    const channels = [...this.listeners.keys()];
    try {
      if (channels.length) await this.subscriber!.subscribe(...channels);
    } catch (err) {
      // The connection dropped again: its next 'ready' tries again.
      this.logger?.debug({ err: (err as Error).message }, 'live feed resubscribe failed');
      return;
    }
    this.logger?.info({ calls: channels.length }, 'live feed reconnected; streams catch up from the store');
    for (const set of this.listeners.values()) for (const listener of set) listener({ kind: 'resync' });
  }
}
