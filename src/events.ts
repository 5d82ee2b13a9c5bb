/**
 * Status events, delivered like nats.js `status()`: each call to `events()` gets its own async
 * iterator, fed from the moment it was created, ended when the publisher closes.
 */
import type { NatsOffloadError } from './errors.js';
import type { StreamRejection } from './shared/protocol.js';
import type { CloseReport } from './stats.js';

export type PublisherEvent =
  | { readonly type: 'connect'; readonly server: string }
  | { readonly type: 'disconnect'; readonly server: string }
  | { readonly type: 'reconnect'; readonly server: string }
  /** The full flag lifted: pending fell to the low-water marks (like a stream's 'drain'). */
  | { readonly type: 'drain' }
  /** A server `-ERR`, a connection failure, or the worker dying. */
  | { readonly type: 'error'; readonly error: NatsOffloadError }
  | { readonly type: 'closed'; readonly report: CloseReport }
  /**
   * JetStream mode: the stream refused `count` messages on `subject` (no stream after the retry
   * bound: code 503; stream full with discard new: errCode 10077; wrong expected stream: 10060; ...).
   * Coalesced: one event per subject and error per ~100 ms, and before any flush() resolves.
   */
  | ({ readonly type: 'rejected' } & StreamRejection);

export class EventHub {
  private readonly queues = new Set<Queue>();
  private ended = false;

  push(e: PublisherEvent): void {
    for (const q of this.queues) q.push(e);
  }

  end(): void {
    this.ended = true;
    for (const q of this.queues) q.end();
    this.queues.clear();
  }

  iterator(): AsyncIterableIterator<PublisherEvent> {
    const q = new Queue(() => this.queues.delete(q));
    if (this.ended) q.end();
    else this.queues.add(q);
    return q;
  }
}

class Queue implements AsyncIterableIterator<PublisherEvent> {
  private readonly items: PublisherEvent[] = [];
  private waiting: ((r: IteratorResult<PublisherEvent>) => void) | undefined;
  private done = false;
  constructor(private readonly onReturn: () => void) {}

  push(e: PublisherEvent): void {
    if (this.done) return;
    const w = this.waiting;
    if (w !== undefined) {
      this.waiting = undefined;
      w({ value: e, done: false });
    } else this.items.push(e);
  }

  end(): void {
    this.done = true;
    const w = this.waiting;
    this.waiting = undefined;
    if (w !== undefined) w({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<PublisherEvent>> {
    const e = this.items.shift();
    if (e !== undefined) return Promise.resolve({ value: e, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<PublisherEvent>> {
    this.items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<PublisherEvent> {
    return this;
  }
}
