/**
 * What confirms a message in JetStream mode: its own ack. The window holds every message from the
 * oldest not yet released (`base`) to the newest handed over, with its state, where its frame lies
 * in the ring (to send it again) and when it was sent. Acks arrive out of order (across streams,
 * after retries); space is released only up to the first message that is neither stored nor
 * rejected. Pure bookkeeping: the caller sends, reads the clock and moves the ring.
 */
import { AckKind, type ParsedAck } from './jetstream-acks.js';

export const Entry = {
  /** In the window, not on the wire: never sent, or its connection died. */
  UNSENT: 0,
  /** Sent, no ack yet. */
  SENT: 1,
  /** A 503 (no stream / no leader) came back: sent again at `retryAt`. */
  RETRY: 2,
  STORED: 3,
  REJECTED: 4,
  /** Skipped by the drain loop without sending (older than maxBufferedAge, over max_payload). */
  EXPIRED: 5,
  OVERSIZE: 6,
} as const;
/** States from here on are settled: nothing more to send, releasable. */
const FIRST_SETTLED = Entry.STORED;

export interface AckWindowSettings {
  /** ms without an ack before a message is sent again (same Msg-Id). */
  readonly ackTimeoutMs: number;
  /** Messages sent and not yet acked, at most. */
  readonly maxPendingAcks: number;
  /** How long 503 no-responders replies are retried (with backoff) before the message is rejected. */
  readonly noRespondersRetryMs: number;
}

/** Counters the window moves (Float64, so the worker can hand it the shared stats block). */
export interface AckCounters {
  stored: number;
  duplicates: number;
  serverRejected: number;
  ackTimeouts: number;
  retries: number;
}

export interface Rejection {
  readonly seq: number;
  /** Where its frame starts in the ring's frame bytes. */
  readonly off: number;
  readonly len: number;
  readonly code: number;
  readonly errCode: number;
  readonly description: string;
}

/** First retry after a 503 comes after this; each next one after twice as long, up to the cap. */
const RETRY_FIRST_MS = 50;
const RETRY_CAP_MS = 1000;
export const NO_RESPONDERS_DESCRIPTION = 'no responders: no stream (or no stream leader) for the subject';

export class AckWindow {
  /** Sequence of the oldest message not yet released; the window is [base, end). */
  base = 0;
  end = 0;
  /** Entries in state SENT. */
  outstanding = 0;
  /** Entries in state RETRY (waiting out a 503 backoff). */
  retrying = 0;
  /** Earliest time something may need sending again (an ack timeout or a retry); Infinity if none. */
  nextDeadline = Infinity;
  private mask: number;
  private state: Uint8Array;
  private pos: Float64Array;
  private len: Int32Array;
  /** SENT: when sent; RETRY: when to send again. */
  private at: Float64Array;
  /** When the first 503 came back for the entry (0: none yet), and how many so far. */
  private firstNoResponders: Float64Array;
  private attempts: Uint8Array;

  constructor(
    private readonly settings: AckWindowSettings,
    readonly counters: AckCounters,
    private readonly onRejected: (r: Rejection) => void,
  ) {
    const cap = nextPowerOfTwo(Math.max(64, settings.maxPendingAcks * 2));
    this.mask = cap - 1;
    this.state = new Uint8Array(cap);
    this.pos = new Float64Array(cap);
    this.len = new Int32Array(cap);
    this.at = new Float64Array(cap);
    this.firstNoResponders = new Float64Array(cap);
    this.attempts = new Uint8Array(cap);
  }

  /** True while no more may be sent: maxPendingAcks messages await their ack. */
  get full(): boolean {
    return this.outstanding >= this.settings.maxPendingAcks;
  }

  /** True if message `seq` needs no (more) sending: stored or rejected, or already released. */
  settled(seq: number): boolean {
    if (seq < this.base) return true;
    if (seq >= this.end) return false;
    return this.state[seq & this.mask]! >= FIRST_SETTLED;
  }

  stateOf(seq: number): number {
    return seq < this.base || seq >= this.end ? -1 : this.state[seq & this.mask]!;
  }

  /** Message `seq` (frame at ring offset `pos`, `len` bytes) was handed to the socket at `now`. */
  sent(seq: number, pos: number, len: number, now: number): void {
    if (seq < this.base) return;
    while (seq >= this.end) {
      if (this.end - this.base > this.mask) this.grow();
      const i = this.end & this.mask;
      this.state[i] = Entry.UNSENT;
      this.firstNoResponders[i] = 0;
      this.attempts[i] = 0;
      this.end++;
    }
    const i = seq & this.mask;
    const s = this.state[i]!;
    if (s >= FIRST_SETTLED) return;
    if (s !== Entry.SENT) this.outstanding++;
    if (s === Entry.RETRY) this.retrying--;
    this.state[i] = Entry.SENT;
    this.pos[i] = pos;
    this.len[i] = len;
    this.at[i] = now;
    const deadline = now + this.settings.ackTimeoutMs;
    if (deadline < this.nextDeadline) this.nextDeadline = deadline;
  }

  /** Applies one parsed ack received at `now`. */
  ack(a: ParsedAck, now: number): void {
    const c = this.counters;
    if (a.kind === AckKind.DUPLICATE) c.duplicates++;
    const seq = a.seq;
    if (seq < this.base || seq >= this.end) return; // released already, or not ours
    const i = seq & this.mask;
    const s = this.state[i]!;
    if (s >= FIRST_SETTLED) return; // a late ack of an earlier copy
    switch (a.kind) {
      case AckKind.STORED:
      case AckKind.DUPLICATE:
        this.settle(i, s, Entry.STORED);
        c.stored++;
        return;
      case AckKind.ERROR:
        this.reject(seq, s, a.code, a.errCode, a.description);
        return;
      case AckKind.NO_RESPONDERS: {
        if (s !== Entry.SENT) return; // an answer to a copy we no longer wait for
        const first = this.firstNoResponders[i] === 0 ? now : this.firstNoResponders[i]!;
        this.firstNoResponders[i] = first;
        if (now - first >= this.settings.noRespondersRetryMs) {
          this.reject(seq, s, 503, 0, NO_RESPONDERS_DESCRIPTION);
          return;
        }
        const n = this.attempts[i]!;
        if (n < 255) this.attempts[i] = n + 1;
        this.outstanding--;
        this.retrying++;
        this.state[i] = Entry.RETRY;
        const retryAt = now + Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** Math.min(n, 10));
        this.at[i] = retryAt;
        if (retryAt < this.nextDeadline) this.nextDeadline = retryAt;
        return;
      }
      default:
        return; // not an ack: the ack timeout will send the message again
    }
  }

  /** Stored or rejected messages at the head of the window: the caller may release that many. */
  settledHead(): number {
    let n = 0;
    for (let seq = this.base; seq < this.end; seq++, n++) {
      if (this.state[seq & this.mask]! < FIRST_SETTLED) break;
    }
    return n;
  }

  /** Message `seq` (admitted, so in the window) was skipped unsent: EXPIRED or OVERSIZE. */
  settleUnsent(seq: number, state: typeof Entry.EXPIRED | typeof Entry.OVERSIZE): void {
    if (seq < this.base || seq >= this.end) return;
    const i = seq & this.mask;
    const s = this.state[i]!;
    if (s >= FIRST_SETTLED) return;
    this.settle(i, s, state);
  }

  /** The caller released `n` messages from the head. */
  release(n: number): void {
    this.base += n;
    if (this.end < this.base) this.end = this.base;
  }

  /** Messages before `seq` left the ring without an ack (dropped oldest, expired, oversize). */
  dropBefore(seq: number): void {
    for (; this.base < seq && this.base < this.end; this.base++) {
      const s = this.state[this.base & this.mask];
      if (s === Entry.SENT) this.outstanding--;
      else if (s === Entry.RETRY) this.retrying--;
    }
    if (this.base < seq) this.base = this.end = seq;
  }

  /** The connection died: nothing sent on it will be acked; all of it goes out again. */
  disconnected(): void {
    for (let seq = this.base; seq < this.end; seq++) {
      const i = seq & this.mask;
      const s = this.state[i]!;
      if (s === Entry.SENT || s === Entry.RETRY) this.state[i] = Entry.UNSENT;
    }
    this.outstanding = 0;
    this.retrying = 0;
    this.nextDeadline = Infinity;
  }

  /**
   * Calls `resend(seq, pos, len)` for each message whose ack timed out or whose retry is due at
   * `now` (counted), oldest first, while the window has room; the caller sends and calls sent().
   */
  due(now: number, resend: (seq: number, pos: number, len: number) => void): void {
    if (now < this.nextDeadline) return;
    const timeout = this.settings.ackTimeoutMs;
    let next = Infinity;
    const c = this.counters;
    for (let seq = this.base; seq < this.end; seq++) {
      const i = seq & this.mask;
      const s = this.state[i]!;
      if (s === Entry.SENT) {
        const deadline = this.at[i]! + timeout;
        if (deadline > now) {
          if (deadline < next) next = deadline;
          continue;
        }
        c.ackTimeouts++;
      } else if (s === Entry.RETRY) {
        if (this.at[i]! > now) {
          if (this.at[i]! < next) next = this.at[i]!;
          continue;
        }
        if (this.outstanding >= this.settings.maxPendingAcks) {
          next = now; // no room now: try again when acks free some
          continue;
        }
      } else continue;
      c.retries++;
      resend(seq, this.pos[i]!, this.len[i]!);
      // resend() calls sent(), which moves the entry to SENT with a fresh deadline.
      const after = this.at[i]! + timeout;
      if (after < next) next = after;
    }
    this.nextDeadline = next;
  }

  private settle(i: number, from: number, to: number): void {
    if (from === Entry.SENT) this.outstanding--;
    else if (from === Entry.RETRY) this.retrying--;
    this.state[i] = to;
  }

  private reject(seq: number, from: number, code: number, errCode: number, description: string): void {
    const i = seq & this.mask;
    this.settle(i, from, Entry.REJECTED);
    this.counters.serverRejected++;
    this.onRejected({ seq, off: this.pos[i]!, len: this.len[i]!, code, errCode, description });
  }

  /** Doubles the arrays (a stuck head with many later messages acked behind it). */
  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const copy = <T extends Uint8Array | Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(cap);
      for (let seq = this.base; seq < this.end; seq++) next[seq & (cap - 1)] = old[seq & this.mask]!;
      return next;
    };
    this.state = copy(this.state, (n) => new Uint8Array(n));
    this.pos = copy(this.pos, (n) => new Float64Array(n));
    this.len = copy(this.len, (n) => new Int32Array(n));
    this.at = copy(this.at, (n) => new Float64Array(n));
    this.firstNoResponders = copy(this.firstNoResponders, (n) => new Float64Array(n));
    this.attempts = copy(this.attempts, (n) => new Uint8Array(n));
    this.mask = cap - 1;
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
