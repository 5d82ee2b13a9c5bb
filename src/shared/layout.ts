/**
 * THE shared-memory layout of the publish ring. Main thread and worker both import this file;
 * no other file computes an offset into the SharedArrayBuffer.
 *
 * ```
 *  byte 0                                        CONTROL_BYTES           STATS_END
 *  +---------------------+-----------------------+----------------------+-----------------+-------------------+
 *  | control Int32 0..15 | control 16..31 | control 32..47  | stats Float64 0..31 | record lengths | record stamps  | frame bytes      |
 *  | written by main     | by the worker  | rarely written  | by the worker       | Int32 x recCap | Int32 x recCap | Uint8 x capacity |
 *  +---------------------+-----------------------+----------------------+-----------------+-----------------+-------------------+
 *     one 64-byte line per writer, and one for slots main reads on every publish but rarely changes.
 * ```
 *
 * Positions are unsigned 32-bit counters that wrap (`>>> 0` arithmetic). The byte capacity and the
 * record capacity are powers of two, so `position & (capacity - 1)` is the same offset before and
 * after a 2^32 wrap, and `(a - b) >>> 0` is a correct distance while the ring holds < 2^31 bytes.
 *
 * Frame bytes are wire-ready NATS commands (`PUB subj [reply] n\r\n<payload>\r\n`, `HPUB ...`),
 * written back to back, so any run [sent, written) can go to the socket as one write. A frame never
 * wraps: when it does not fit before the end, the writer records a padding record (negative
 * length) covering the tail and starts the frame at offset 0. Each record's length goes into the
 * record-length ring, so the worker counts messages and finds frame boundaries without parsing.
 * Each record also gets a stamp: the coarse clock (NOW, ms since EPOCH_MS, stored by the worker every
 * CLOCK_TICK_MS) when the producer committed it; for the maximum age and the oldest-message gauge.
 * The producer reads NOW as a plain Int32 (a slot that changes every tick), so no clock is read and
 * every committed record has its stamp before WRITE_POS publishes it.
 *
 * Who moves what (single writer per slot; the other side only Atomics.load()s it):
 *   WRITE_POS          main    bytes committed; stored after the frame and its length are written
 *   ACCEPTED_MSGS      main    messages committed, wrapping (the worker's view of pending messages)
 *   CONFIRMED_POS      worker* bytes released: confirmed by a PONG, or dropped; space is freed up to here
 *   CONFIRMED_RECS     worker* records (frames and pads) released up to CONFIRMED_POS, wrapping
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
 *   STATE              both, by compareExchange: see State below
 */

/** Int32 slot indices into the control block. Line 0 (0..15): written by main on every publish. */
export const WRITE_POS = 0;
/** Messages accepted, wrapping; a plain store made visible by the WRITE_POS store after it. */
export const ACCEPTED_MSGS = 1;
/** Line 1 (16..31): written by the worker on every pass; main reads it only when short of room. */
export const SENT_POS = 16;
export const CONFIRMED_POS = 17;
export const CONFIRMED_RECS = 18;
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
  /** JetStream mode, counted when released: messages a stream acked (stored), and those it refused. */
  STORED: 17,
  SERVER_REJECTED: 18,
  /** JetStream mode: acks that said duplicate (an earlier copy was stored). */
  DUPLICATES: 19,
  /** JetStream mode: messages sent again after ackTimeout, and every send again (timeouts, 503 retries). */
  ACK_TIMEOUTS: 20,
  RETRIES: 21,
} as const;
export const STATS_SLOTS = 32;
export const STATS_BYTES = STATS_SLOTS * 8;

/** Smallest possible frame: `PUB a 0\r\n\r\n`. Bounds how many records fit in the byte ring. */
export const MIN_FRAME_BYTES = 11;
/**
 * Record slots per byte of ring: one per 16 bytes. Frames are rarely smaller (`PUB a.b 1\r\nx\r\n`
 * is 16), and sizing for the 11-byte minimum would cost more memory than the frames themselves;
 * a ring of tiny frames reaches its slot count first, which the producer treats as the message limit.
 */
export const BYTES_PER_RECORD = 16;
/** The ring never gets smaller than this, so that a connected publisher has room to stream. */
export const MIN_CAPACITY = 64 * 1024;
/** nats-server's default max_payload, assumed until the server's INFO says otherwise. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export interface RingGeometry {
  /** Byte capacity of the frame ring (power of two). */
  readonly capacity: number;
  /** Slots in the record-length ring (power of two). */
  readonly recordCapacity: number;
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * The smallest ring that holds `bytes` of frames. Records: at most one padding record per lap,
 * plus one record per BYTES_PER_RECORD; the producer refuses when the slots run out.
 */
export function geometryFor(bytes: number): RingGeometry {
  const capacity = nextPowerOfTwo(Math.max(bytes, MIN_CAPACITY));
  const recordCapacity = capacity / BYTES_PER_RECORD;
  return { capacity, recordCapacity };
}

const STATS_OFFSET = CONTROL_BYTES;
const RECORDS_OFFSET = STATS_OFFSET + STATS_BYTES;

export function byteLengthFor(g: RingGeometry): number {
  return RECORDS_OFFSET + g.recordCapacity * 8 + g.capacity;
}

/** Typed views over one ring buffer; both sides build exactly these. */
export interface RingViews {
  readonly control: Int32Array;
  readonly stats: Float64Array;
  readonly records: Int32Array;
  readonly stamps: Int32Array;
  readonly bytes: Uint8Array;
  readonly geometry: RingGeometry;
}

export function viewsOf(sab: SharedArrayBuffer, g: RingGeometry): RingViews {
  if (sab.byteLength !== byteLengthFor(g)) {
    throw new RangeError(`ring buffer is ${sab.byteLength} bytes, layout expects ${byteLengthFor(g)}`);
  }
  return {
    control: new Int32Array(sab, 0, CONTROL_SLOTS),
    stats: new Float64Array(sab, STATS_OFFSET, STATS_SLOTS),
    records: new Int32Array(sab, RECORDS_OFFSET, g.recordCapacity),
    stamps: new Int32Array(sab, RECORDS_OFFSET + g.recordCapacity * 4, g.recordCapacity),
    bytes: new Uint8Array(sab, RECORDS_OFFSET + g.recordCapacity * 8, g.capacity),
    geometry: g,
  };
}

export function allocateRing(g: RingGeometry): SharedArrayBuffer {
  return new SharedArrayBuffer(byteLengthFor(g));
}
