/**
 * The pub/sub port of the realtime gateway: a message published on a channel reaches every
 * subscriber of that channel, on this node (memory) or on every node (Redis). Delivery is at most
 * once and best effort: what must not be lost is in the database (the notification feed); a push
 * is only a nudge to show it now.
 */
export type Unsubscribe = () => Promise<void>;

export interface PubSub {
  /**
   * Resolves to how many nodes listen on the channel (Redis: subscribed connections, one per node;
   * memory: 1 or 0): 0 says the message reached nobody (the classe virtuelle's relay reads it as
   * "that node is gone").
   */
  publish(channel: string, message: string): Promise<number>;
  /** Resolves once the subscription is active: a message published after that is delivered. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}

/** Handlers per channel, shared by both adapters (the Redis one keeps one server subscription per channel). */
export class HandlerTable {
  private readonly byChannel = new Map<string, Set<(message: string) => void>>();

  /** Adds a handler; true when it is the channel's first (the adapter subscribes upstream then). */
  add(channel: string, handler: (message: string) => void): boolean {
    let set = this.byChannel.get(channel);
    const first = set === undefined;
    if (!set) this.byChannel.set(channel, (set = new Set()));
    set.add(handler);
    return first;
  }

  /** Removes a handler; true when the channel has none left (the adapter unsubscribes upstream then). */
  remove(channel: string, handler: (message: string) => void): boolean {
    const set = this.byChannel.get(channel);
    if (!set || !set.delete(handler)) return false;
    if (set.size > 0) return false;
    this.byChannel.delete(channel);
    return true;
  }

  has(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  /** Calls every handler of the channel; one handler's exception never stops the others. */
  deliver(channel: string, message: string, onError: (err: unknown) => void): void {
    for (const handler of [...(this.byChannel.get(channel) ?? [])]) {
      try {
        handler(message);
      } catch (err) {
        onError(err);
      }
    }
  }

  clear(): void {
    this.byChannel.clear();
  }
}

/** One node's pub/sub (embedded default). Delivery is asynchronous, like the Redis adapter's. */
export class MemoryPubSub implements PubSub {
  private readonly handlers = new HandlerTable();
  private closed = false;

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  async publish(channel: string, message: string): Promise<number> {
    if (this.closed || !this.handlers.has(channel)) return 0;
    queueMicrotask(() => this.handlers.deliver(channel, message, this.onError));
    return 1;
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    this.handlers.add(channel, handler);
    return async () => {
      this.handlers.remove(channel, handler);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
  }
}
