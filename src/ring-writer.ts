/**
 * The producer side of the ring: encodes NATS frames straight into shared memory.
 * Runs on the caller's thread for every publish, so it allocates nothing and stores one atomic.
 */
import {
  ACCEPTED_MSGS,
  CONFIRMED_OFF,
  CONFIRMED_POS,
  CONFIRM_SEQ,
  CONNECTION,
  Connection,
  LOCKED_BY_MAIN,
  LONG_FRAME,
  MIN_FRAME_BYTES,
  NOW,
  PAD_FRAME,
  RELEASED_MSGS,
  RING_LOCK,
  STATE,
  State,
  WORKER_IDLE,
  WRITE_POS,
  frameLengthAt,
  headStamp,
  lengthIndex,
  replaceNonTerminalState,
  stampIndex,
  type RingViews,
} from './shared/layout.js';
import type { JetStreamFrame } from './jetstream-frame.js';
import type { Prefix } from './subjects.js';
import { CR, LF, SPACE, decimalDigits, writeDecimal } from './ascii.js';
import { LITTLE_ENDIAN } from './words.js';

/** `rejection` value for a frame larger than the whole byte limit. */
export const REJECT_TOO_LARGE = -1;
/** Payloads from this size are copied word-aligned (see tryWrite). */
const ALIGN_FROM = 64;
/** Payloads up to this size are assembled into words here rather than copied by TypedArray#set. */
const SMALL_PAYLOAD = 32;
/** Frames committed between two stores of WRITE_POS within a synchronous burst. */
const PUBLISH_EVERY = 16;

/**
 * How a payload of more than SMALL_PAYLOAD bytes is aligned and copied: `payload.byteOffset` and
 * `bytes.set(payload, o)` as written, or the same builtins called through Function#call. V8 11
 * (Node 20) leaves the plain forms to generic property loads; the calls made this way cost 7-8%
 * less per publish there at 128 B and 1 KiB (scripts/compare-publish-cost.mjs, both builds side by
 * side, run in both orders). On V8 12 and later (Node 22-26) the plain forms are inlined: alone,
 * a 128 B copy costs 1-2 ns more through the calls. One path cannot be best on every V8, so the
 * version chooses it, once, at load (measured beforehand, not timed at start-up, where a 2-core
 * machine's noise would decide): each call site then sees one function, which V8 inlines.
 */
const BUILTIN_CALLS = Number(process.versions.v8.split('.')[0]) < 12;
const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
const setBytes = typedArrayPrototype.set;
const byteOffsetGetter = Object.getOwnPropertyDescriptor(typedArrayPrototype, 'byteOffset')!.get as (this: Uint8Array) => number;
/** Both paths, for the tests; the writer uses the one BUILTIN_CALLS picks. */
export const payloadCopyPaths = {
  plain: {
    offsetOf: (p: Uint8Array): number => p.byteOffset,
    copy: (b: Uint8Array, p: Uint8Array, o: number): void => b.set(p, o),
  },
  builtinCalls: {
    offsetOf: (p: Uint8Array): number => byteOffsetGetter.call(p),
    copy: (b: Uint8Array, p: Uint8Array, o: number): void => setBytes.call(b, p, o),
  },
} as const;
const { offsetOf, copy: copyPayload } = BUILTIN_CALLS ? payloadCopyPaths.builtinCalls : payloadCopyPaths.plain;

export interface WriterLimits {
  /** Pending frame bytes allowed (<= ring capacity). */
  readonly bytes: number;
  /** Pending messages allowed; 0 = no limit. */
  readonly messages: number;
  /** Below these the full state is lifted (hysteresis). */
  readonly lowWaterBytes: number;
  readonly lowWaterMessages: number;
  /** While not connected, make room by dropping the oldest frames instead of refusing. */
  readonly dropOldest: boolean;
  /** maxBufferedAge in ms (0 = none): while not connected, expired frames are released from the head. */
  readonly maxAgeMs: number;
  /** reconnectBufSize -1: the worker may set STATE to DISCONNECTED, so read it on every publish. */
  readonly refuseWhileDisconnected: boolean;
}

export class RingWriter {
  private readonly control: Int32Array;
  private readonly lengths: Uint8Array;
  private readonly stamps: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** The same memory as `bytes`, for Buffer.write of string payloads without a temporary. */
  private readonly text: Buffer;
  private readonly capacity: number;
  /** Own position and its offset: only this thread moves them, so they live here, not in shared memory. */
  private writePos = 0;
  private writeOff = 0;
  /** True after this thread raised a full or terminal state, until it sees the state open again. */
  private blocked = false;
  /** Release positions as last read from the worker's line (never ahead of the real ones). */
  private confirmedSeen = 0;
  private releasedSeen = 0;
  /** Frames committed since WRITE_POS was last stored (see commit). */
  private unpublished = 0;
  private publishQueued = false;
  /** Why the last reserve() failed: a State value, or REJECT_TOO_LARGE. */
  rejection: number = State.OPEN;
  /** Frame bytes of the last refused frame (for MessageTooLargeError). */
  rejectedFrameBytes = 0;
  /** Counts are doubles; `(a - b) >>> 0` against the wrapping Int32 slots gives exact distances. */
  acceptedMessages = 0;
  acceptedBytes = 0;
  droppedOldest = 0;
  /** Released here for being older than maxAgeMs while not connected (the worker counts its own). */
  expired = 0;
  /** Highest pending bytes seen here (at refusals and drops); the worker samples the rest. */
  peakPendingBytes = 0;
  /** Called when this thread lifts the full state (the worker reports its own lifts). */
  onReopen: () => void = () => {};
  /** Called for each message this thread releases unsent (drop-oldest, expiry), with its position. */
  onDropped: ((pos: number, why: 'oldest' | 'expired') => void) | undefined;

  constructor(
    private readonly views: RingViews,
    private readonly limits: WriterLimits,
  ) {
    this.control = views.control;
    this.lengths = views.lengths;
    this.stamps = views.stamps;
    this.bytes = views.bytes;
    this.view = new DataView(views.bytes.buffer, views.bytes.byteOffset, views.bytes.byteLength);
    this.text = Buffer.from(views.bytes.buffer, views.bytes.byteOffset, views.bytes.byteLength);
    this.capacity = views.geometry.capacity;
    this.writePos = Atomics.load(this.control, WRITE_POS) >>> 0;
    this.writeOff = Atomics.load(this.control, CONFIRMED_OFF);
    this.confirmedSeen = Atomics.load(this.control, CONFIRMED_POS) >>> 0;
  }

  /** Bytes a `PUB` frame takes: prefix (`PUB subj `), length digits, CRLF, payload, CRLF (at least MIN_FRAME_BYTES). */
  static frameBytes(prefixBytes: number, size: number): number {
    return Math.max(prefixBytes + decimalDigits(size) + 4 + size, MIN_FRAME_BYTES);
  }

  /**
   * Writes `PUB <subject> <size>\r\n<payload>\r\n` as one record; `prefix` is `PUB <subject> ` as
   * words (SubjectCache). `size` is the payload's byte
   * length (for strings, its UTF-8 length). Returns false, with `rejection` set, when full or closed.
   */
  tryWrite(prefix: Prefix, payload: Uint8Array | string, size: number): boolean {
    const sizeDigits = decimalDigits(size);
    const head = prefix.bytes + sizeDigits + 2;
    let off = this.writeOff;
    const tail = this.capacity - off;
    let pad = 0;
    let spaces = 0;
    if (size >= ALIGN_FROM && typeof payload !== 'string') {
      if (off !== 0 && head + 7 + size + 2 > tail) {
        pad = tail;
        off = 0;
      }
      // Copies into shared memory go word by word only when source and target offsets agree mod 8
      // (byte by byte otherwise: ~7x slower for 1 KiB). NATS allows any run of spaces between
      // fields, so the control line is padded until they agree.
      spaces = (offsetOf(payload) - off - head) & 7;
    } else {
      // Frames are at least MIN_FRAME_BYTES long (one frame start per length byte; layout.ts).
      if (head + size + 2 < MIN_FRAME_BYTES) spaces = MIN_FRAME_BYTES - head - size - 2;
      if (head + spaces + size + 2 > tail) {
        pad = tail;
        off = 0;
      }
    }
    const frame = head + spaces + size + 2;
    if (!this.reserve(frame, pad)) return false;
    // Stores into shared memory cost per store, not per byte: words through a DataView where we can.
    const b = this.bytes;
    const dv = this.view;
    let o = off;
    const doubles = prefix.doubles;
    for (let i = prefix.at, end = i + prefix.count; i < end; i++, o += 8) dv.setFloat64(o, doubles[i]!, LITTLE_ENDIAN);
    if (prefix.hasQuad) {
      dv.setInt32(o, prefix.quad, LITTLE_ENDIAN);
      o += 4;
    }
    for (let i = 0; i < spaces; i++) b[o++] = SPACE;
    o = writeDecimal(b, o, size, sizeDigits);
    b[o++] = CR;
    b[o++] = LF;
    // writePayload() by hand: V8 does not inline the call here, and it cost 6-25 ns at 16 B
    // (scripts/compare-publish-cost.mjs).
    if (typeof payload === 'string') this.text.write(payload, o, size, 'utf8');
    else if (size <= SMALL_PAYLOAD) {
      const p = payload;
      let i = 0;
      for (; i + 4 <= size; i += 4) dv.setInt32(o + i, p[i]! | (p[i + 1]! << 8) | (p[i + 2]! << 16) | (p[i + 3]! << 24), true);
      for (; i < size; i++) b[o + i] = p[i]!;
    } else copyPayload(b, payload, o);
    b[o + size] = CR;
    b[o + size + 1] = LF;
    this.commit(off, frame, size);
    return true;
  }

  /**
   * JetStream mode: writes `HPUB <subject> <inbox>.<seq> ...` (see jetstream-frame.ts) as one
   * frame, where seq is this message's number (messages accepted before it), so the worker finds
   * the frame an ack is for. Same reserve/commit path and payload copy as tryWrite(); the frame is
   * always longer than MIN_FRAME_BYTES.
   */
  tryWriteJetStream(prefix: Prefix, payload: Uint8Array | string, size: number, js: JetStreamFrame): boolean {
    let frame = js.prepare(prefix.bytes, this.acceptedMessages, size);
    let off = this.writeOff;
    let pad = 0;
    let spaces = 0;
    if (size >= ALIGN_FROM && typeof payload !== 'string') {
      if (off !== 0 && frame + 7 > this.capacity - off) {
        pad = this.capacity - off;
        off = 0;
      }
      // As in tryWrite: separator spaces on the control line align the payload with its source mod 8.
      spaces = (offsetOf(payload) - (off + frame - size - 2)) & 7;
      frame += spaces;
    } else if (frame > this.capacity - off) {
      pad = this.capacity - off;
      off = 0;
    }
    if (!this.reserve(frame, pad)) return false;
    const b = this.bytes;
    const dv = this.view;
    const o = js.writeHead(b, dv, off, prefix, spaces);
    // The payload by hand, as in tryWrite(): writePayload() is not inlined on these paths.
    if (typeof payload === 'string') this.text.write(payload, o, size, 'utf8');
    else if (size <= SMALL_PAYLOAD) {
      const p = payload;
      let i = 0;
      for (; i + 4 <= size; i += 4) dv.setInt32(o + i, p[i]! | (p[i + 1]! << 8) | (p[i + 2]! << 16) | (p[i + 3]! << 24), true);
      for (; i < size; i++) b[o + i] = p[i]!;
    } else copyPayload(b, payload, o);
    b[o + size] = CR;
    b[o + size + 1] = LF;
    this.commit(off, frame, size);
    return true;
  }

  /**
   * Writes a frame whose head (everything before the payload) was built by the caller. A head
   * that would make the frame shorter than MIN_FRAME_BYTES (a short PUB) gets spaces before its
   * control line's last field.
   */
  tryWriteHead(head: Uint8Array, payload: Uint8Array | string, size: number): boolean {
    const spaces = Math.max(0, MIN_FRAME_BYTES - head.length - size - 2);
    const frame = head.length + spaces + size + 2;
    let off = this.writeOff;
    const pad = frame > this.capacity - off ? this.capacity - off : 0;
    if (!this.reserve(frame, pad)) return false;
    if (pad !== 0) off = 0;
    const b = this.bytes;
    if (spaces === 0) b.set(head, off);
    else {
      const lastField = head.lastIndexOf(SPACE) + 1;
      b.set(head.subarray(0, lastField), off);
      b.fill(SPACE, off + lastField, off + lastField + spaces);
      b.set(head.subarray(lastField), off + lastField + spaces);
    }
    this.writePayload(off + head.length + spaces, payload, size);
    this.commit(off, frame, size);
    return true;
  }

  /** The payload at `o`, then the closing CRLF. Stores into shared memory cost per store, not per byte. */
  private writePayload(o: number, payload: Uint8Array | string, size: number): void {
    const b = this.bytes;
    if (typeof payload === 'string') this.text.write(payload, o, size, 'utf8');
    else if (size <= SMALL_PAYLOAD) {
      const dv = this.view;
      const p = payload;
      let i = 0;
      for (; i + 4 <= size; i += 4) dv.setInt32(o + i, p[i]! | (p[i + 1]! << 8) | (p[i + 2]! << 16) | (p[i + 3]! << 24), true);
      for (; i < size; i++) b[o + i] = p[i]!;
    } else copyPayload(b, payload, o);
    b[o + size] = CR;
    b[o + size + 1] = LF;
  }

  /** Pending bytes and messages, from this thread's positions and the worker's releases. */
  pendingBytes(): number {
    return (this.writePos - Atomics.load(this.control, CONFIRMED_POS)) >>> 0;
  }
  pendingMessages(): number {
    return (this.acceptedMessages - Atomics.load(this.control, RELEASED_MSGS)) >>> 0;
  }
  /** Pending bytes and messages are both at or under their low-water marks. */
  belowLowWater(): boolean {
    return this.pendingBytes() <= this.limits.lowWaterBytes && this.pendingMessages() <= this.limits.lowWaterMessages;
  }

  /**
   * Age in ms of the oldest pending record, 0 when none. The coarse clock is an Int32 of ms that
   * wraps after 24.8 days, so the difference is taken mod 2^32.
   */
  oldestAgeMs(): number {
    const c = this.control;
    if (this.pendingBytes() === 0) return 0;
    const stamp = headStamp(this.views, Atomics.load(c, CONFIRMED_OFF));
    return Math.max(0, (Atomics.load(c, NOW) - stamp) | 0);
  }
  /** The committed position, published to the worker first (flush waits for the worker to reach it). */
  get position(): number {
    if (this.unpublished !== 0) this.publish();
    return this.writePos;
  }

  /**
   * The pending frames counted by walking the record ring from the release position to the write
   * position: an account independent of the message counters (for tests and diagnostics).
   */
  walkPending(): { frames: number; bytes: number } {
    const c = this.control;
    let off = Atomics.load(c, CONFIRMED_OFF);
    let left = this.pendingBytes();
    let frames = 0;
    while (left > 0) {
      const len = frameLengthAt(this.views, off);
      if (this.lengths[lengthIndex(off)] !== PAD_FRAME) frames++;
      left -= len;
      off = off + len === this.capacity ? 0 : off + len;
    }
    return { frames, bytes: left === 0 ? this.pendingBytes() : -1 };
  }

  /** Lifts a full state if the worker has released enough since; true if now open. */
  reopenIfRoom(): boolean {
    return this.reopenedState() === State.OPEN;
  }

  /** Lifts a full state if there is room again; returns the state it leaves (OPEN if open). */
  private reopenedState(): number {
    const c = this.control;
    const s = Atomics.load(c, STATE);
    if (s === State.OPEN) {
      this.blocked = false;
      return s;
    }
    if (s !== State.FULL_BYTES && s !== State.FULL_MESSAGES) return s;
    // While not connected, expired frames make room (maxBufferedAge), and with drop-oldest there
    // is no full state at all: the next publish makes its room by dropping.
    if (this.limits.maxAgeMs > 0) this.releaseExpired();
    const dropping = this.limits.dropOldest && Atomics.load(c, CONNECTION) !== Connection.CONNECTED;
    if (!dropping && !this.belowLowWater()) return s;
    const seen = Atomics.compareExchange(c, STATE, s, State.OPEN);
    if (seen === s) this.onReopen();
    const now = seen === s ? State.OPEN : seen;
    this.blocked = now !== State.OPEN;
    return now;
  }

  /** Moves STATE to a terminal value (closed, worker died); publishes fail from then on. */
  terminate(state: number): void {
    if (this.unpublished !== 0) this.publish();
    this.blocked = true;
    replaceNonTerminalState(this.control, state);
  }

  /**
   * Makes room for a frame of `frame` bytes after `pad` bytes of padding (the unused tail when
   * the frame starts over at offset 0). False, with `rejection` set, when it cannot be accepted.
   */
  private reserve(frame: number, pad: number): boolean {
    const c = this.control;
    if (frame > this.limits.bytes) {
      this.rejection = REJECT_TOO_LARGE;
      this.rejectedFrameBytes = frame;
      return false;
    }
    // Full, closed and dead are raised by this thread, so a field says so without a shared read;
    // only with reconnectBufSize -1 can the worker refuse publishes (disconnected) on its own.
    if (this.blocked || (this.limits.refuseWhileDisconnected && Atomics.load(c, STATE) !== State.OPEN)) {
      const s = this.reopenedState();
      if (s !== State.OPEN) {
        this.rejection = s;
        return false;
      }
    }
    const w = this.writePos;
    // Checked against the last release positions seen; only when short of room are they re-read,
    // so the worker's busy cache line is not pulled over on every publish.
    if (this.atLimit(w, pad, frame)) {
      this.refreshReleased();
      if (this.atLimit(w, pad, frame)) {
        if (!this.overflow(pad, frame)) return false;
        this.refreshReleased();
      }
    }
    if (pad !== 0) {
      this.lengths[lengthIndex(this.writeOff)] = PAD_FRAME;
      this.writePos = (w + pad) >>> 0;
      this.writeOff = 0;
    }
    return true;
  }

  /** True if a frame (after `pad` bytes of unused tail) would pass a limit, given the releases seen. */
  private atLimit(w: number, pad: number, frame: number): boolean {
    return this.exceeds((w - this.confirmedSeen) >>> 0, (this.acceptedMessages - this.releasedSeen) >>> 0, pad, frame);
  }

  /**
   * The limits: frame bytes against the byte limit (the unused tail is not data, so it does not
   * count there), everything against the ring's capacity unless nothing is pending, then messages.
   */
  private exceeds(used: number, messages: number, pad: number, frame: number): boolean {
    const limits = this.limits;
    return this.bytesExceed(used, pad, frame) || (limits.messages !== 0 && messages >= limits.messages);
  }

  /** Frame bytes against the byte limit; frame and unused tail against capacity unless nothing is pending. */
  private bytesExceed(used: number, pad: number, frame: number): boolean {
    return used + frame > this.limits.bytes || (used !== 0 && used + pad + frame > this.capacity);
  }

  private refreshReleased(): void {
    const c = this.control;
    this.confirmedSeen = Atomics.load(c, CONFIRMED_POS) >>> 0;
    this.releasedSeen = Atomics.load(c, RELEASED_MSGS);
  }

  /**
   * At a limit: while not connected, release expired frames (maxBufferedAge) and, with drop-oldest,
   * the oldest ones; otherwise raise the full state.
   */
  private overflow(pad: number, frame: number): boolean {
    const pending = this.pendingBytes();
    if (pending > this.peakPendingBytes) this.peakPendingBytes = pending;
    if (this.limits.maxAgeMs > 0 && this.releaseExpired() && !this.atLimit(this.writePos, pad, frame)) return true;
    if (this.limits.dropOldest && this.dropOldestFor(pad, frame)) return true;
    const full = this.bytesExceed(pending, pad, frame) ? State.FULL_BYTES : State.FULL_MESSAGES;
    const seen = Atomics.compareExchange(this.control, STATE, State.OPEN, full);
    this.blocked = true;
    this.rejection = seen === State.OPEN ? full : seen;
    // The worker may have released everything just before the state changed, and checked for a
    // full state before it was raised: check again, or the 'drain' event might never come.
    if (seen === State.OPEN && this.belowLowWater()) this.reopenIfRoom();
    return false;
  }

  /** Releases the oldest whole frames until this frame (after `pad`) and one more message fit. */
  private dropOldestFor(pad: number, frame: number): boolean {
    const w = this.writePos;
    const dropped = this.releaseHead(
      (pos, _off, released) => this.exceeds((w - pos) >>> 0, (this.acceptedMessages - released) >>> 0, pad, frame),
      'oldest',
    );
    if (dropped < 0) return false;
    this.droppedOldest += dropped;
    return !this.atLimit(w, pad, frame);
  }

  /** Releases frames older than maxAgeMs from the head while not connected; true if any. */
  releaseExpired(): boolean {
    const now = this.control[NOW]!;
    const maxAge = this.limits.maxAgeMs;
    const stamps = this.stamps;
    const expired = this.releaseHead((_pos, off) => ((now - stamps[stampIndex(off)]!) | 0) > maxAge, 'expired');
    if (expired <= 0) return false;
    this.expired += expired;
    return true;
  }

  /**
   * Releases whole frames from the head while `more(pos, off, released)` holds (padding always),
   * counting them; -1 if it may not now. Only while not connected, and only with RING_LOCK,
   * taken without waiting: the worker holds it only to hand frames to a live socket or to release
   * confirmed ones, and then nothing may be dropped anyway. CONNECTION is read after the lock is
   * taken, so a reconnect that resends from the head first is seen.
   */
  private releaseHead(more: (pos: number, off: number, released: number) => boolean, why: 'oldest' | 'expired'): number {
    const c = this.control;
    // Never release past what the worker has been shown: publish the burst's tail first.
    if (this.unpublished !== 0) this.publish();
    if (Atomics.load(c, CONNECTION) === Connection.CONNECTED) return -1;
    if (Atomics.compareExchange(c, RING_LOCK, 0, LOCKED_BY_MAIN) !== 0) return -1;
    try {
      if (Atomics.load(c, CONNECTION) === Connection.CONNECTED) return -1;
      const start = Atomics.load(c, CONFIRMED_POS) >>> 0;
      let pos = start;
      let off = Atomics.load(c, CONFIRMED_OFF);
      let released = Atomics.load(c, RELEASED_MSGS);
      let count = 0;
      while (pos !== this.writePos) {
        const padding = this.lengths[lengthIndex(off)] === PAD_FRAME;
        if (!padding && !more(pos, off, released)) break;
        const len = frameLengthAt(this.views, off);
        if (!padding) {
          released = (released + 1) | 0;
          count++;
          this.onDropped?.(pos, why);
        }
        pos = (pos + len) >>> 0;
        off = off + len === this.capacity ? 0 : off + len;
      }
      if (pos === start) return 0;
      Atomics.store(c, RELEASED_MSGS, released);
      Atomics.store(c, CONFIRMED_OFF, off);
      // Publish: the space before pos is free once this store is seen (by the worker too).
      Atomics.store(c, CONFIRMED_POS, pos | 0);
      Atomics.add(c, CONFIRM_SEQ, 1);
      Atomics.notify(c, CONFIRM_SEQ);
      this.refreshReleased();
      return count;
    } finally {
      Atomics.store(c, RING_LOCK, 0);
    }
  }

  private commit(off: number, frame: number, size: number): void {
    this.lengths[lengthIndex(off)] = Math.min(frame, LONG_FRAME);
    this.stamps[stampIndex(off)] = this.control[NOW]!;
    const end = off + frame;
    this.writeOff = end === this.capacity ? 0 : end;
    this.writePos = (this.writePos + frame) >>> 0;
    this.acceptedMessages++;
    this.acceptedBytes += size;
    // WRITE_POS is stored every PUBLISH_EVERY frames, and for the rest of a burst in a microtask
    // once the caller's synchronous code is done: the atomic store and the idle check are out-of-
    // line calls in V8, the most expensive part of a small publish.
    if (++this.unpublished >= PUBLISH_EVERY) this.publish();
    else if (!this.publishQueued) {
      this.publishQueued = true;
      queueMicrotask(this.publishTail);
    }
  }

  private readonly publishTail = (): void => {
    this.publishQueued = false;
    if (this.unpublished !== 0) this.publish();
  };

  /** Makes every committed frame visible to the worker, and wakes it if it sleeps. */
  publish(): void {
    const c = this.control;
    this.unpublished = 0;
    c[ACCEPTED_MSGS] = this.acceptedMessages; // stored as Int32: wraps like RELEASED_MSGS
    // Publish: frame bytes, records and ACCEPTED_MSGS become visible with this one store.
    Atomics.store(c, WRITE_POS, this.writePos | 0);
    // The worker sets WORKER_IDLE before it sleeps and re-reads WRITE_POS after, so no wake is lost.
    if (Atomics.load(c, WORKER_IDLE) !== 0 && Atomics.compareExchange(c, WORKER_IDLE, 1, 0) === 1) {
      Atomics.notify(c, WRITE_POS);
    }
  }
}
