import { Redis } from 'ioredis';
import { HandlerTable, type PubSub, type Unsubscribe } from './pubsub.js';

/**
 * Pub/sub over Redis (scaled mode: a person's sockets may sit on any node). Two connections, as
 * Redis requires: one in subscriber mode, one to publish. One server subscription per channel
 * with local handlers fanned out here. ioredis reconnects with its own backoff and re-subscribes.
 *
 * Fails open: a publish while Redis is away is dropped (the feed row is already committed and the
 * client's polling or next page load shows it); it never blocks the write that caused it, because
 * the offline queue is off and a command fails at once instead of waiting.
 */
export class RedisPubSub implements PubSub {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new HandlerTable();

  private readonly where: string;

  constructor(url: string, private readonly onError: (err: unknown) => void = () => {}) {
    // Said in errors without its password.
    const u = new URL(url);
    this.where = `${u.protocol}//${u.host}`;
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 };
    this.pub = new Redis(url, options);
    // The subscriber must queue its SUBSCRIBE until connected, however long Redis is away (it is what
    // makes a subscription durable: pushes resume for everyone once Redis is back).
    this.sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.pub.on('error', onError);
    this.sub.on('error', onError);
    this.sub.on('message', (channel: string, message: string) => this.handlers.deliver(channel, message, this.onError));
  }

  /**
   * Connects both connections; when Redis does not answer, stops retrying and rejects with a cause
   * that says what to fix (the boot fails rather than run a node that cannot reach the others).
   */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.pub.connect(), this.sub.connect()]);
    } catch (err) {
      this.pub.disconnect();
      this.sub.disconnect();
      throw new Error(`Redis injoignable (${this.where}) : ${err instanceof Error ? err.message : String(err)} — vérifiez PREAU_REDIS_URL ou retirez-la pour un seul nœud.`);
    }
  }

  /**
   * The boot's way: connects, or, when Redis does not answer, says so (false) and keeps both
   * connections retrying in the background. A node that restarts during a Redis outage serves
   * (its pushes reach only its own sockets' channels once Redis is back): Préau never stops
   * serving because Redis is down.
   */
  async connectOrDegrade(): Promise<boolean> {
    const results = await Promise.allSettled([this.pub.connect(), this.sub.connect()]);
    return results.every((r) => r.status === 'fulfilled');
  }

  async publish(channel: string, message: string): Promise<number> {
    return this.pub.publish(channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    if (this.handlers.add(channel, handler)) await this.sub.subscribe(channel);
    return async () => {
      if (this.handlers.remove(channel, handler)) await this.sub.unsubscribe(channel);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    // QUIT would wait in the offline queue for a Redis that is away: those connections are just cut.
    await Promise.allSettled([this.pub, this.sub].map((c) => (c.status === 'ready' ? c.quit() : Promise.resolve(c.disconnect()))));
  }
}
