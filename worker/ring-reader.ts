/**
 * The consumer side of the ring. Holds the worker's positions (sent, confirmed) with their
 * offsets, and publishes the confirmed one, which is what frees space for the producer.
 */
import {
  ACCEPTED_MSGS,
  CONFIRMED_OFF,
  CONFIRMED_POS,
  CONFIRM_SEQ,
  LOCKED_BY_WORKER,
  MAIN_WAITING,
  NOW,
  PAD_FRAME,
  RELEASED_MSGS,
  RING_LOCK,
  SENT_POS,
  WRITE_POS,
  frameLengthAt,
  headStamp,
  lengthIndex,
  stampIndex,
  type RingViews,
} from '../src/shared/layout.js';

export class RingReader {
  readonly control: Int32Array;
  readonly stats: Float64Array;
  private readonly lengths: Uint8Array;
  private readonly stamps: Int32Array;
  /** The frame bytes, and a DataView of them (for the worker's part of JetStream frames). */
  readonly bytes: Uint8Array;
  readonly dataView: DataView;
  readonly capacity: number;
  /** Next byte to hand to the socket, and its offset in the frame bytes. */
  sentPos = 0;
  sentOff = 0;
  /** Everything before these is confirmed by a PONG (or dropped) and released to the producer. */
  confirmedPos = 0;
  confirmedOff = 0;
  releasedMsgs = 0;
  /** The furthest position ever handed over: frames before it that are sent again are resends. */
  private maxSentPos = 0;

  constructor(private readonly views: RingViews) {
    this.control = views.control;
    this.stats = views.stats;
    this.lengths = views.lengths;
    this.stamps = views.stamps;
    this.bytes = views.bytes;
    this.dataView = new DataView(views.bytes.buffer, views.bytes.byteOffset, views.bytes.byteLength);
    this.capacity = views.geometry.capacity;
    // Both sides start from the positions in shared memory (0, or near 2^32 in wrap tests).
    this.confirmedPos = this.sentPos = this.maxSentPos = Atomics.load(this.control, CONFIRMED_POS) >>> 0;
    this.confirmedOff = this.sentOff = Atomics.load(this.control, CONFIRMED_OFF);
  }

  /** The producer's committed position; frames before it are fully written, with their lengths. */
  written(): number {
    return Atomics.load(this.control, WRITE_POS) >>> 0;
  }

  /** Length of the frame at the sent position, or minus the length of the padding there. */
  frameAtSent(): number {
    return this.frameAt(this.sentOff);
  }

  /** Length of the frame at offset `off`, or minus the length of the padding there. */
  frameAt(off: number): number {
    const len = frameLengthAt(this.views, off);
    return this.lengths[lengthIndex(off)] === PAD_FRAME ? -len : len;
  }

  /** Coarse-clock time the frame at offset `off` was committed at (the producer stamps it). */
  stamp(off: number): number {
    return this.stamps[stampIndex(off)]!;
  }

  /** Stamp of the oldest pending frame (past padding at the head); call only while something is pending. */
  headStamp(): number {
    return headStamp(this.views, Atomics.load(this.control, CONFIRMED_OFF));
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
      this.confirmedOff = Atomics.load(c, CONFIRMED_OFF);
      this.releasedMsgs = Atomics.load(c, RELEASED_MSGS);
      if (((pos - this.sentPos) | 0) > 0) {
        this.sentPos = pos;
        this.sentOff = this.confirmedOff;
      }
    }
    return true;
  }

  unlock(): void {
    Atomics.store(this.control, RING_LOCK, 0);
  }

  /** True if `pos` is past the release position (a confirmation that still frees something). */
  ahead(pos: number): boolean {
    return ((pos - this.confirmedPos) | 0) > 0;
  }

  /** A view of `len` bytes at offset `off` (never across the end: frames do not wrap). */
  view(off: number, len: number): Uint8Array {
    return this.bytes.subarray(off, off + len);
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
    const off = this.sentOff + bytes;
    this.sentOff = off === this.capacity ? 0 : off;
    if (((this.sentPos - this.maxSentPos) | 0) > 0) this.maxSentPos = this.sentPos;
  }

  publishSent(): void {
    Atomics.store(this.control, SENT_POS, this.sentPos | 0);
  }

  /** True when the frame at the sent position was handed over before, on a connection that died since. */
  isResend(): boolean {
    return ((this.maxSentPos - this.sentPos) | 0) > 0;
  }

  /** After a reconnect: everything not confirmed goes out again, from the oldest. */
  rewind(): void {
    this.sentPos = this.confirmedPos;
    this.sentOff = this.confirmedOff;
    this.publishSent();
  }

  /** Releases the ring up to (pos, off); `messages` of them leave the pending count. */
  confirm(pos: number, off: number, messages: number): void {
    this.confirmedPos = pos;
    this.confirmedOff = off;
    this.releasedMsgs = (this.releasedMsgs + messages) | 0;
    Atomics.store(this.control, RELEASED_MSGS, this.releasedMsgs);
    Atomics.store(this.control, CONFIRMED_OFF, off);
    // Publish: the producer may overwrite everything before CONFIRMED_POS once it sees this store.
    Atomics.store(this.control, CONFIRMED_POS, pos | 0);
    Atomics.add(this.control, CONFIRM_SEQ, 1);
    // Waiters raise MAIN_WAITING before they re-check and wait: either it is seen here, or their
    // wait sees CONFIRM_SEQ changed. A notify nobody waits for is skipped (see layout.ts).
    if (Atomics.load(this.control, MAIN_WAITING) !== 0) Atomics.notify(this.control, CONFIRM_SEQ);
  }
}
