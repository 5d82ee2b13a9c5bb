/**
 * The consumer side of the ring. Holds the worker's positions (sent, confirmed) and publishes the
 * confirmed one, which is what frees space for the producer.
 */
import {
  ACCEPTED_MSGS,
  CONFIRMED_POS,
  CONFIRMED_RECS,
  CONFIRM_SEQ,
  LOCKED_BY_WORKER,
  NOW,
  RELEASED_MSGS,
  RING_LOCK,
  SENT_POS,
  WRITE_POS,
  type RingViews,
} from '../src/shared/layout.js';

export class RingReader {
  readonly control: Int32Array;
  readonly stats: Float64Array;
  private readonly records: Int32Array;
  private readonly stamps: Int32Array;
  private readonly bytes: Uint8Array;
  readonly capacity: number;
  private readonly mask: number;
  private readonly recordMask: number;
  /** Next byte / record to hand to the socket. */
  sentPos = 0;
  sentRec = 0;
  /** Everything before these is confirmed by a PONG and released to the producer. */
  confirmedPos = 0;
  confirmedRec = 0;
  releasedMsgs = 0;
  /** The furthest record ever handed over: records before it that are sent again are resends. */
  maxSentRec = 0;

  constructor(views: RingViews) {
    this.control = views.control;
    this.stats = views.stats;
    this.records = views.records;
    this.stamps = views.stamps;
    this.bytes = views.bytes;
    this.capacity = views.geometry.capacity;
    this.mask = this.capacity - 1;
    this.recordMask = views.geometry.recordCapacity - 1;
    // Both sides start from the positions in shared memory (0, or near 2^32 in wrap tests).
    this.confirmedPos = this.sentPos = Atomics.load(this.control, CONFIRMED_POS) >>> 0;
  }

  /** The producer's committed position; frames and records before it are fully written. */
  written(): number {
    return Atomics.load(this.control, WRITE_POS) >>> 0;
  }

  /** Frame length of record `rec`, or minus the padding length for a padding record. */
  record(rec: number): number {
    return this.records[rec & this.recordMask]!;
  }

  /** Coarse-clock time record `rec` was committed at (the producer stamps it). */
  stamp(rec: number): number {
    return this.stamps[rec & this.recordMask]!;
  }

  now(): number {
    return Atomics.load(this.control, NOW);
  }

  /**
   * Takes RING_LOCK (never waits: false if the main thread holds it for a drop) and re-reads the
   * release positions, which a drop may have moved. Frames dropped ahead of `sent` are skipped.
   */
  tryLock(): boolean {
    const c = this.control;
    if (Atomics.compareExchange(c, RING_LOCK, 0, LOCKED_BY_WORKER) !== 0) return false;
    const pos = Atomics.load(c, CONFIRMED_POS) >>> 0;
    if (pos !== this.confirmedPos) {
      this.confirmedPos = pos;
      this.confirmedRec = Atomics.load(c, CONFIRMED_RECS);
      this.releasedMsgs = Atomics.load(c, RELEASED_MSGS);
      if (((pos - this.sentPos) | 0) > 0) {
        this.sentPos = pos;
        this.sentRec = this.confirmedRec;
      }
    }
    return true;
  }

  unlock(): void {
    Atomics.store(this.control, RING_LOCK, 0);
    // The producer may be sleeping on the lock word to drop frames (see lockRing).
    Atomics.notify(this.control, RING_LOCK);
  }

  /** True if `pos` is past the release position (a confirmation that still frees something). */
  ahead(pos: number): boolean {
    return ((pos - this.confirmedPos) | 0) > 0;
  }

  offset(pos: number): number {
    return pos & this.mask;
  }

  /** A view of `len` bytes at `pos` (never across the end: frames do not wrap). */
  view(pos: number, len: number): Uint8Array {
    const off = pos & this.mask;
    return this.bytes.subarray(off, off + len);
  }

  byteAt(pos: number): number {
    return this.bytes[pos & this.mask]!;
  }

  /** From shared memory, not this side's copies: the main thread releases from the head too. */
  pendingBytes(): number {
    return (this.written() - Atomics.load(this.control, CONFIRMED_POS)) >>> 0;
  }

  pendingMessages(): number {
    return (this.control[ACCEPTED_MSGS]! - Atomics.load(this.control, RELEASED_MSGS)) >>> 0;
  }

  inFlightBytes(): number {
    return (this.sentPos - this.confirmedPos) >>> 0;
  }

  advanceSent(bytes: number): void {
    this.sentPos = (this.sentPos + bytes) >>> 0;
    this.sentRec = (this.sentRec + 1) | 0;
    if (((this.sentRec - this.maxSentRec) | 0) > 0) this.maxSentRec = this.sentRec;
  }

  publishSent(): void {
    Atomics.store(this.control, SENT_POS, this.sentPos | 0);
  }

  /** True when record `sentRec` was handed over before, on a connection that died since. */
  isResend(): boolean {
    return ((this.maxSentRec - this.sentRec) | 0) > 0;
  }

  /** After a reconnect: everything not confirmed goes out again, from the oldest. */
  rewind(): void {
    this.sentPos = this.confirmedPos;
    this.sentRec = this.confirmedRec;
    this.publishSent();
  }

  /** Releases the ring up to (pos, rec); `messages` of them leave the pending count. */
  confirm(pos: number, rec: number, messages: number): void {
    this.confirmedPos = pos;
    this.confirmedRec = rec;
    this.releasedMsgs = (this.releasedMsgs + messages) | 0;
    Atomics.store(this.control, RELEASED_MSGS, this.releasedMsgs);
    Atomics.store(this.control, CONFIRMED_RECS, rec);
    // Publish: the producer may overwrite everything before CONFIRMED_POS once it sees this store.
    Atomics.store(this.control, CONFIRMED_POS, pos | 0);
    Atomics.add(this.control, CONFIRM_SEQ, 1);
    Atomics.notify(this.control, CONFIRM_SEQ);
  }
}
