/**
 * THE shared-memory layout of the publish ring. Main thread and worker both import this file;
 * no other file computes an offset into the SharedArrayBuffer.
 *
 * ```
 *  byte 0                                            CONTROL_BYTES
 *  +-------------------+------------------+-----------------+---------------------+--------------------+-------------------+------------------+
 *  | control Int32 0.. | control 16..31   | control 32..47  | stats Float64 0..31 | frame lengths      | frame stamps      | frame bytes      |
 *  | written by main   | by the worker    | rarely written  | by the worker       | Uint8 per 16 bytes | Int32 per 256 B   | Uint8 x capacity |
 *  +-------------------+------------------+-----------------+---------------------+--------------------+-------------------+------------------+
 *     one 64-byte line per writer, and one for slots main reads on every publish but rarely changes.
 * ```
 *
 * Frame bytes are wire-ready NATS commands (`PUB subj [reply] n\r\n<payload>\r\n`, `HPUB ...`),
 * written back to back, so any run [sent, written) can go to the socket as one write. A frame never
 * wraps: when it does not fit before the end, the writer marks the tail as padding and starts the
 * frame at offset 0. The capacity is what was asked for plus a little slack (geometryFor()), not
 * a power of two.
 *
 * Positions are unsigned 32-bit byte counters that wrap (`>>> 0` arithmetic): `(a - b) >>> 0` is a
 * correct distance while the ring holds < 2^31 bytes. Offsets into the frame bytes are not derived
 * from positions (the capacity does not divide 2^32): each side moves its own offset along with
 * its position, and the release position's offset is shared as CONFIRMED_OFF.
 *
 * Per-frame metadata is indexed by the frame's offset, not by a record count, so it needs no
 * positions of its own and costs no memory per message:
 * - Frame lengths: one byte per 16 bytes of ring, at `off >>> 4` of each frame's first byte.
 *   Frames are at least MIN_FRAME_BYTES (16) long (the writer pads tiny control lines with spaces,
 *   which NATS allows between fields), so no two frames start in one 16-byte block. The byte is
 *   the frame's length when below LONG_FRAME, LONG_FRAME for longer frames (the reader parses the
 *   size from their control line: a few ns against the copy of >= 255 bytes), or PAD_FRAME for
 *   the unused tail of a lap, which runs to the end of the ring.
 * - Frame stamps: the coarse clock (NOW, ms since EPOCH_MS, stored by the worker every
 *   CLOCK_TICK_MS) one Int32 per 256 bytes, at `off >>> 8`, written by the producer when it
 *   commits a frame starting in that block: the age of the youngest frame starting there. Ages
 *   are for the maximum age and the oldest-message gauge; a frame may look younger than it is by
 *   the time the producer took to write the rest of its 256 bytes. The producer reads NOW as a
 *   plain Int32 (a slot that changes every tick), so the publish path calls no clock.
 *
 * Who moves what (single writer per slot; the other side only Atomics.load()s it):
 *   WRITE_POS          main    bytes committed; stored after the frame, its length and stamp are written
 *   ACCEPTED_MSGS      main    messages committed, wrapping (the worker's view of pending messages)
 *   CONFIRMED_POS      worker* bytes released: confirmed by a PONG, or dropped; space is freed up to here
 *   CONFIRMED_OFF      worker* the offset of CONFIRMED_POS in the frame bytes
 *   RELEASED_MSGS      worker* messages released (confirmed or dropped), wrapping; for the message limit
 *                      * and main, which drops from the head (overflow 'drop-oldest', maxBufferedAge)
 *                        while not connected. Both move these three only while holding RING_LOCK,
 *                        and neither ever waits for it: the worker takes it only to hand frames to a
 *                        live socket or to release confirmed ones; main takes it, then re-reads
 *                        CONNECTION, and drops only if still not connected. A frame on a live
 *                        socket is never dropped, and the publish path never blocks.
 *   NOW                worker  coarse clock, ms since EPOCH_MS
 *   SENT_POS           worker  bytes handed to the socket (<= WRITE_POS, >= CONFIRMED_POS)
 *   WORKER_IDLE        worker sets 1 before sleeping on WRITE_POS; main clears it when it wakes it
 *   MAIN_WAITING       main    threads waiting on CONFIRM_SEQ; the mirror of WORKER_IDLE
 *   STATE              both, by compareExchange: see State below
 */

/** Int32 slot indices into the control block. Line 0 (0..15): written by main on every publish. */
export const WRITE_POS = 0;
/** Messages accepted, wrapping; a plain store made visible by the WRITE_POS store after it. */
export const ACCEPTED_MSGS = 1;
/** Line 1 (16..31): written by the worker on every pass; main reads it only when short of room. */
export const SENT_POS = 16;
export const CONFIRMED_POS = 17;
export const CONFIRMED_OFF = 18;
export const RELEASED_MSGS = 19;
/** Bumped by the worker each time a confirmation lands; main threads may Atomics.wait on it. */
export const CONFIRM_SEQ = 20;
/** Mutual exclusion for moving the release positions: 0 free, LOCKED_BY_MAIN, LOCKED_BY_WORKER. */
export const RING_LOCK = 21;
/**
 * Line 2 (32..47): read by main on every publish but written rarely, so it stays in main's cache;
 * sharing a line with the positions above would cost a cache miss per publish.
 */
/** Publishing state; 0 = accepting. Shared by both threads, changed only by compareExchange. */
export const STATE = 32;
export const MAX_PAYLOAD = 33;
/** Coarse clock: ms since EPOCH_MS, stored by the worker every CLOCK_TICK_MS. */
export const NOW = 34;
export const WORKER_IDLE = 35;
export const CONNECTION = 36;
/**
 * Main-thread waiters on CONFIRM_SEQ (ready(), flushSync()), counted by main around each wait:
 * the worker calls Atomics.notify only when it is not 0, since a notify that wakes a thread costs
 * the notifier up to ~100 us. Main raises it before re-checking, so no wake-up is lost.
 */
export const MAIN_WAITING = 37;
export const LOCKED_BY_MAIN = 1;
export const LOCKED_BY_WORKER = 2;
export const CLOCK_TICK_MS = 10;

export const CONTROL_SLOTS = 48;
export const CONTROL_BYTES = CONTROL_SLOTS * 4;

/** Values of the STATE slot. 1..3 are cleared by the worker when room returns; 4.. are terminal. */
export const State = {
  OPEN: 0,
  FULL_BYTES: 1,
  FULL_MESSAGES: 2,
  DISCONNECTED: 3,
  CLOSED: 4,
  WORKER_DIED: 5,
} as const;
export type StateValue = (typeof State)[keyof typeof State];
export const FIRST_TERMINAL_STATE = State.CLOSED;

/** Sets STATE to `to` unless it is already terminal (closed, worker died): those never change. */
export function replaceNonTerminalState(control: Int32Array, to: number): void {
  for (;;) {
    const s = Atomics.load(control, STATE);
    if (s >= FIRST_TERMINAL_STATE || s === to) return;
    if (Atomics.compareExchange(control, STATE, s, to) === s) return;
  }
}

/** Values of the CONNECTION slot, in the words of `Publisher.status`. */
export const Connection = {
  CONNECTING: 0,
  CONNECTED: 1,
  RECONNECTING: 2,
  CLOSED: 3,
} as const;
export const CONNECTION_NAMES = ['connecting', 'connected', 'reconnecting', 'closed'] as const;

/** Float64 slot indices into the stats block: monotonic totals, each written by the worker only. */
export const Stat = {
  SENT_MSGS: 0,
  SENT_BYTES: 1,
  CONFIRMED_MSGS: 2,
  CONFIRMED_BYTES: 3,
  RESENT_MSGS: 4,
  RESENT_BYTES: 5,
  RECONNECTS: 6,
  DISCONNECTS: 7,
  DROPPED_OVERSIZE: 8,
  SERVER_ERRORS: 9,
  /** Date.now() when the current outage began, 0 while connected. */
  DISCONNECTED_SINCE: 10,
  /** Milliseconds spent disconnected in finished outages. */
  DISCONNECTED_TOTAL_MS: 11,
  PINGS: 12,
  WRITES: 13,
  /** Frames discarded unsent because they were older than maxBufferedAge. */
  EXPIRED: 14,
  /** Highest pending frame bytes the worker has seen (sampled each pass and clock tick). */
  PEAK_PENDING_BYTES: 15,
  /** Date.now() of the clock's zero; written by the main thread before the worker starts. */
  EPOCH_MS: 16,
  /** Flushes the worker is holding (a gauge): cancelled ones must not pile up. */
  FLUSHES_WAITING: 17,
  /** JetStream mode, counted when released: messages a stream acked (stored), and those it refused. */
  STORED: 18,
  SERVER_REJECTED: 19,
  /** JetStream mode: acks that said duplicate (an earlier copy was stored). */
  DUPLICATES: 20,
  /** JetStream mode: messages sent again after ackTimeout, and every send again (timeouts, 503 retries). */
  ACK_TIMEOUTS: 21,
  RETRIES: 22,
} as const;
export const STATS_SLOTS = 32;
export const STATS_BYTES = STATS_SLOTS * 8;

/**
 * Frames are at least this long: one frame start per 16-byte block of the ring. `PUB a 1\r\nx\r\n`
 * is 12 bytes; the writer pads such control lines with spaces.
 */
export const MIN_FRAME_BYTES = 16;
const LENGTH_SHIFT = 4;
const STAMP_SHIFT = 8;
/** Frame-length byte of a frame of LONG_FRAME bytes or more: the length is on its control line. */
export const LONG_FRAME = 255;
/** Frame-length byte of the unused tail of a lap (padding to the end of the ring). */
export const PAD_FRAME = 0;
/** The ring never gets smaller than this, so that a connected publisher has room to stream. */
export const MIN_CAPACITY = 64 * 1024;
/** nats-server's default max_payload, assumed until the server's INFO says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface RingGeometry {
  /** Byte capacity of the frame ring (a multiple of 512, not a power of two). */
  readonly capacity: number;
}

/**
 * The ring for a byte limit of `bytes`: the limit plus slack for the unused tail a lap may leave
 * (a sixteenth, at most 1 MiB), so that the limit, not the wrap, is what refuses, for frames up to
 * that slack. Metadata adds 1/16 + 1/64 of it: about 1.1 x the limit in all.
 */
export function geometryFor(bytes: number): RingGeometry {
  const slack = Math.min(Math.ceil(bytes / 16), 1024 * 1024);
  // A multiple of 512: the stamps (capacity / 64 bytes) then end 8-byte aligned, as frames start.
  const capacity = Math.ceil(Math.max(bytes + slack, MIN_CAPACITY) / 512) * 512;
  return { capacity };
}

const STATS_OFFSET = CONTROL_BYTES;
const LENGTHS_OFFSET = STATS_OFFSET + STATS_BYTES;

function lengthsBytes(g: RingGeometry): number {
  return g.capacity >>> LENGTH_SHIFT;
}
function stampsOffset(g: RingGeometry): number {
  return LENGTHS_OFFSET + lengthsBytes(g);
}
function stampCount(g: RingGeometry): number {
  return g.capacity >>> STAMP_SHIFT;
}
/** Frame bytes start 8-byte aligned: the writer aligns payload copies to words (ring-writer.ts). */
function framesOffset(g: RingGeometry): number {
  return stampsOffset(g) + stampCount(g) * 4;
}

export function byteLengthFor(g: RingGeometry): number {
  return framesOffset(g) + g.capacity;
}

/** Typed views over one ring buffer; both sides build exactly these. */
export interface RingViews {
  readonly control: Int32Array;
  readonly stats: Float64Array;
  /** Frame-length byte per 16-byte block (see lengthIndex). */
  readonly lengths: Uint8Array;
  /** Coarse-clock stamp per 256-byte block (see stampIndex). */
  readonly stamps: Int32Array;
  readonly bytes: Uint8Array;
  readonly geometry: RingGeometry;
}

/** Where the length byte of a frame starting at `off` lives. */
export function lengthIndex(off: number): number {
  return off >>> LENGTH_SHIFT;
}
/** Where the stamp of a frame starting at `off` lives. */
export function stampIndex(off: number): number {
  return off >>> STAMP_SHIFT;
}

/**
 * The length of the frame at `off`, or of the padding from `off` to the end of the ring. Long
 * frames are measured from their control line: the size is its last field, and HPUB's last field
 * is the total of headers and payload, so `line + CRLF + size + CRLF` either way.
 */
export function frameLengthAt(v: RingViews, off: number): number {
  const len = v.lengths[off >>> LENGTH_SHIFT]!;
  if (len !== LONG_FRAME && len !== PAD_FRAME) return len;
  if (len === PAD_FRAME) return v.geometry.capacity - off;
  return longFrameLength(v.bytes, off);
}

/**
 * The stamp of the oldest frame when the head of the pending bytes is at `off`: padding at the
 * head has no stamp of its own, and the frame after it starts the next lap at offset 0.
 */
export function headStamp(v: RingViews, off: number): number {
  return v.stamps[stampIndex(v.lengths[off >>> LENGTH_SHIFT] === PAD_FRAME ? 0 : off)]!;
}

/** Length of the frame at `off` from its control line (`PUB`/`HPUB ... <size>\r\n`). */
export function longFrameLength(b: Uint8Array, off: number): number {
  let cr = off + 4;
  while (b[cr] !== 13) cr++;
  let size = 0;
  let scale = 1;
  for (let i = cr - 1, d = b[i]!; d >= 48 && d <= 57; d = b[--i]!) {
    size += (d - 48) * scale;
    scale *= 10;
  }
  return cr - off + 2 + size + 2;
}

export function viewsOf(sab: SharedArrayBuffer, g: RingGeometry): RingViews {
  if (sab.byteLength !== byteLengthFor(g)) {
    throw new RangeError(`ring buffer is ${sab.byteLength} bytes, layout expects ${byteLengthFor(g)}`);
  }
  return {
    control: new Int32Array(sab, 0, CONTROL_SLOTS),
    stats: new Float64Array(sab, STATS_OFFSET, STATS_SLOTS),
    lengths: new Uint8Array(sab, LENGTHS_OFFSET, lengthsBytes(g)),
    stamps: new Int32Array(sab, stampsOffset(g), stampCount(g)),
    bytes: new Uint8Array(sab, framesOffset(g), g.capacity),
    geometry: g,
  };
}

export function allocateRing(g: RingGeometry): SharedArrayBuffer {
  return new SharedArrayBuffer(byteLengthFor(g));
}
