/**
 * Sequence-numbered payloads and a subscriber (the `nats` client on the test's thread, connected
 * straight to a server) that reports what arrived: lost, duplicated and out-of-order messages.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';

/** An 8-byte payload (or `size` bytes, min 8) carrying `seq` in its first 4 bytes, little-endian. */
export function seqPayload(seq: number, size = 8): Uint8Array {
  const b = new Uint8Array(Math.max(8, size));
  new DataView(b.buffer).setUint32(0, seq, true);
  b[4] = 0xa5;
  return b;
}

export function readSeq(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
}

export interface SequenceReport {
  readonly received: number;
  readonly distinct: number;
  readonly duplicates: number;
  /** Arrivals lower than the highest seen that were not duplicates of it (a resend window aside). */
  readonly outOfOrder: number;
  /** Sequence numbers in [0, expected) that never arrived. */
  readonly missing: number[];
  readonly corrupt: number;
}

export class SequenceCounter {
  private readonly seen: Uint8Array;
  received = 0;
  duplicates = 0;
  outOfOrder = 0;
  corrupt = 0;
  private highest = -1;

  constructor(readonly capacity: number) {
    this.seen = new Uint8Array(capacity);
  }

  add(data: Uint8Array): void {
    this.received++;
    if (data.length < 8 || data[4] !== 0xa5) {
      this.corrupt++;
      return;
    }
    const seq = readSeq(data);
    if (seq >= this.capacity) {
      this.corrupt++;
      return;
    }
    if (this.seen[seq] !== 0) this.duplicates++;
    else if (seq < this.highest) this.outOfOrder++;
    this.seen[seq] = 1;
    if (seq > this.highest) this.highest = seq;
  }

  distinct(): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) n += this.seen[i]!;
    return n;
  }

  report(expected: number | ((seq: number) => boolean)): SequenceReport {
    const missing: number[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const want = typeof expected === 'number' ? i < expected : expected(i);
      if (want && this.seen[i] === 0) missing.push(i);
    }
    return {
      received: this.received,
      distinct: this.distinct(),
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      missing,
      corrupt: this.corrupt,
    };
  }
}

export interface CountingSubscriber {
  readonly nc: NatsConnection;
  readonly sub: Subscription;
  readonly counter: SequenceCounter;
  /** Resolves once `distinct()` reaches n (or rejects after timeoutMs with the current report). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Subscribes to `subject` on `server` and counts sequence payloads. Its own connection
 * reconnects forever, so it resubscribes after a server restart.
 */
export async function countingSubscriber(server: string | string[], subject: string, capacity: number): Promise<CountingSubscriber> {
  const nc = await connect({ servers: server, maxReconnectAttempts: -1, reconnectTimeWait: 100, pingInterval: 1000 });
  const counter = new SequenceCounter(capacity);
  let distinct = 0;
  const seenOnce = new Uint8Array(capacity);
  const waiters: { n: number; resolve: () => void }[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      counter.add(msg.data);
      const d = msg.data;
      if (d.length >= 8 && d[4] === 0xa5) {
        const s = readSeq(d);
        if (s < capacity && seenOnce[s] === 0) {
          seenOnce[s] = 1;
          distinct++;
          for (let i = waiters.length - 1; i >= 0; i--) {
            if (distinct >= waiters[i]!.n) {
              waiters[i]!.resolve();
              waiters.splice(i, 1);
            }
          }
        }
      }
    },
  });
  await nc.flush();
  return {
    nc,
    sub,
    counter,
    waitFor(n, timeoutMs = 30_000) {
      if (distinct >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          reject(new Error(`subscriber saw ${distinct} distinct of ${n} expected (received ${counter.received}) after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    async close() {
      await nc.close().catch(() => {});
    },
  };
}
