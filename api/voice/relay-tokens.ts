// The tokens a streaming model publishes while a relay prompt waits for its reply: one Redis subscriber
// per API process, shared by every socket, and a channel per prompt for as long as it waits.
import type { Redis } from 'ioredis';

/** The channel of one prompt's tokens: its call and its hosted key make it unique. */
export const tokenChannel = (callId: string, key: string) => `voice:tokens:${callId}:${key}`;

export class RelayTokens {
  private subscriber?: Redis;
  private readonly listeners = new Map<string, (token: string) => void>();

  /** Nothing connects until the first prompt: an API without relay calls holds no subscriber. */
  constructor(private readonly redis: Redis) {}

  /** Hands each token on `channel` to `onToken`, once subscribed (so none is missed), until the returned function is called. */
  async listen(channel: string, onToken: (token: string) => void): Promise<() => void> {
    const subscriber = this.connect();
    this.listeners.set(channel, onToken);
    const stop = () => {
      if (this.listeners.delete(channel)) subscriber.unsubscribe(channel).catch(() => undefined);
    };
    try {
      await subscriber.subscribe(channel);
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  close(): void {
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private connect(): Redis {
    if (this.subscriber) return this.subscriber;
    // A prompt's tokens matter only while it waits: nothing is resubscribed after a reconnection.
    const subscriber = this.redis.duplicate({ connectionName: `callwright-relay:${process.pid}`, autoResubscribe: false });
    subscriber.on('error', () => undefined); // ioredis reconnects; a prompt meanwhile waits for its whole reply
    subscriber.on('message', (channel: string, token: string) => this.listeners.get(channel)?.(token));
    this.subscriber = subscriber;
    return subscriber;
  }
}
