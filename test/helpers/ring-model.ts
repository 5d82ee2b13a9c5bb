/**
 * The reference for test/unit/ring-model.test.ts: the ring as a plain queue of records (frames and
 * the padding before a frame that starts over at offset 0) with the limits of README "The full
 * flag", plus a parser for the frames handed to the socket. Nothing here reads shared memory.
 */
import { MIN_FRAME_BYTES, State } from '../../src/shared/layout.js';

/** One message as the server must receive it. */
export interface Msg {
  readonly subject: string;
  readonly reply: string | undefined;
  /** The header block (`NATS/1.0\r\n…\r\n\r\n`), or undefined for a PUB. */
  readonly headers: Uint8Array | undefined;
  readonly payload: Uint8Array;
}

/** Why a frame left the ring: a PONG, or a policy (main's drop-oldest and expiry, the worker's skips). */
export type ReleaseCause = 'confirmed' | 'dropped' | 'expiredByMain' | 'expired' | 'oversize';
export type SkipCause = 'expired' | 'oversize';

export interface Frame {
  /** Acceptance order, from 0. */
  readonly id: number;
  /** Offset of its first byte in the ring. */
  readonly off: number;
  readonly msg: Msg;
  /** The size on the control line: payload bytes, or header + payload bytes for HPUB. */
  readonly declared: number;
  /** NOW when committed. */
  readonly committedAt: number;
  /** Connections it was handed over on (ids), and the connections that skipped it, and why. */
  readonly handedOn: Set<number>;
  readonly skippedOn: Map<number, SkipCause>;
  /** Event sequence number of the first time the worker skipped it (for flush counts). */
  firstSkip: number | undefined;
  released: ReleaseCause | undefined;
  releasedAt: number | undefined;
}

export interface Rec {
  /** Ring position, not wrapped (start + bytes before it). */
  readonly pos: number;
  /** Offset in the frame bytes. */
  readonly off: number;
  readonly len: number;
  /** Undefined for padding (the unused tail of a lap). */
  readonly frame: Frame | undefined;
}

export interface ModelLimits {
  readonly capacity: number;
  /** Frame bytes allowed pending. */
  readonly bytes: number;
  /** Messages allowed pending, 0 = none. */
  readonly messages: number;
  readonly lowWaterBytes: number;
  /** The writer's message low-water mark (no limit: every count is under it). */
  readonly lowWaterMessages: number;
  readonly dropOldest: boolean;
  /** maxBufferedAge, 0 = none. */
  readonly maxAgeMs: number;
}

export type Admission =
  | { readonly accept: true; readonly lifted: boolean }
  | { readonly accept: false; readonly rejection: number; readonly raised: number | undefined; readonly lifted: boolean };

/** `rejection` for a frame larger than the byte limit (RingWriter's REJECT_TOO_LARGE). */
export const TOO_LARGE = -1;
/** The layout stamps one Int32 per this many bytes of ring (layout.ts: the youngest frame starting there). */
const STAMP_BLOCK = 256;

export class RingModel {
  readonly records: Rec[] = [];
  /** First record not released. */
  head = 0;
  writePos: number;
  writeOff = 0;
  accepted = 0;
  readonly released: Record<ReleaseCause, number> = { confirmed: 0, dropped: 0, expiredByMain: 0, expired: 0, oversize: 0 };
  state: number;
  /** Full states lifted (each is one `{ type: 'drain' }`). */
  drains = 0;
  /** The coarse clock (NOW). */
  now: number;
  /** Per 256-byte block: the frame that last stamped it (layout.ts), for the age the ring reports. */
  private readonly blockStamps: (Frame | undefined)[];
  /** Advances on every release and skip, to order them against flushes. */
  seq = 0;
  /** Frame bytes pending (padding excluded), kept as records come and go. */
  private frameBytes = 0;
  /** Called for each frame as it is released. */
  onRelease: (rec: Rec) => void = () => {};

  constructor(
    readonly limits: ModelLimits,
    readonly start: number,
    startOff: number,
    initialState: number,
    now: number,
  ) {
    this.writePos = start;
    this.writeOff = startOff;
    this.state = initialState;
    this.now = now;
    this.blockStamps = new Array<Frame | undefined>(Math.ceil(limits.capacity / STAMP_BLOCK)).fill(undefined);
  }

  get releasedMessages(): number {
    const r = this.released;
    return r.confirmed + r.dropped + r.expiredByMain + r.expired + r.oversize;
  }
  get headPos(): number {
    return this.head < this.records.length ? this.records[this.head]!.pos : this.writePos;
  }
  get headOff(): number {
    return this.head < this.records.length ? this.records[this.head]!.off : this.writeOff;
  }
  pendingBytes(): number {
    return this.writePos - this.headPos;
  }
  pendingFrameBytes(): number {
    return this.frameBytes;
  }
  pendingMessages(): number {
    return this.accepted - this.releasedMessages;
  }
  /** The oldest pending frame's record, skipping leading padding. */
  oldestFrame(): Rec | undefined {
    for (let i = this.head; i < this.records.length; i++) if (this.records[i]!.frame !== undefined) return this.records[i];
    return undefined;
  }

  /**
   * Where the next frame goes: frames never wrap, so one that does not fit before the end of the
   * ring starts at offset 0 after padding covering the tail. Byte payloads from 64 bytes are placed
   * at the same offset mod 8 as their source (spaces after the subject; legal NATS), and for them
   * the tail is judged with room for 7 such spaces; other frames get spaces up to 16 bytes.
   */
  placeTryWrite(prefixBytes: number, size: number, alignedSourceOffset: number | undefined): { pad: number; frame: number } {
    const cap = this.limits.capacity;
    const head = prefixBytes + String(size).length + 2;
    let off = this.writeOff;
    const tail = cap - off;
    let pad = 0;
    let spaces = 0;
    if (alignedSourceOffset !== undefined) {
      if (off !== 0 && head + 7 + size + 2 > tail) {
        pad = tail;
        off = 0;
      }
      spaces = (((alignedSourceOffset - off - head) % 8) + 8) % 8;
    } else {
      spaces = Math.max(0, MIN_FRAME_BYTES - head - size - 2);
      if (head + spaces + size + 2 > tail) pad = tail;
    }
    return { pad, frame: head + spaces + size + 2 };
  }

  placeTryWriteHead(headBytes: number, size: number): { pad: number; frame: number } {
    const frame = Math.max(headBytes + size + 2, MIN_FRAME_BYTES);
    const tail = this.limits.capacity - this.writeOff;
    return { pad: frame > tail ? tail : 0, frame };
  }

  /** README "The full flag": a frame is refused when it would pass a limit. */
  exceeds(pad: number, frame: number, from = this.head): boolean {
    const used = this.writePos - (from < this.records.length ? this.records[from]!.pos : this.writePos);
    let messages = this.pendingMessages();
    for (let i = this.head; i < from; i++) if (this.records[i]!.frame !== undefined) messages--;
    return this.bytesExceed(used, pad, frame) || (this.limits.messages !== 0 && messages >= this.limits.messages);
  }

  /** Frame bytes against the byte limit (the unused tail is not data); everything against the ring. */
  bytesExceed(used: number, pad: number, frame: number): boolean {
    return used + frame > this.limits.bytes || (used !== 0 && used + pad + frame > this.limits.capacity);
  }

  /** The writer's rule for lifting a full state: both low-water marks. */
  writerMayLift(): boolean {
    return this.pendingBytes() <= this.limits.lowWaterBytes && this.pendingMessages() <= this.limits.lowWaterMessages;
  }

  /**
   * README: the full flag lifts "only once pending bytes ≤ lowWaterMark × the byte limit and
   * pending messages ≤ lowWaterMark × the message limit".
   */
  belowLowWater(): boolean {
    return (
      this.pendingBytes() <= this.limits.lowWaterBytes &&
      (this.limits.messages === 0 || this.pendingMessages() <= this.limits.lowWaterMessages)
    );
  }

  /**
   * What publish() must do with a frame of `frame` bytes after `pad`, moving the model as the
   * producer does: while not connected it first releases expired frames from the head
   * (maxBufferedAge) and, with drop-oldest, the oldest ones; else it raises the full state.
   */
  admit(pad: number, frame: number, connected: boolean, refuseWhileDisconnected: boolean): Admission {
    if (frame > this.limits.bytes) return { accept: false, rejection: TOO_LARGE, raised: undefined, lifted: false };
    let lifted = false;
    const s = this.state;
    if (s === State.CLOSED || s === State.WORKER_DIED) return { accept: false, rejection: s, raised: undefined, lifted };
    if (s === State.DISCONNECTED && refuseWhileDisconnected) return { accept: false, rejection: s, raised: undefined, lifted };
    const dropping = this.limits.dropOldest && !connected;
    if (s === State.FULL_BYTES || s === State.FULL_MESSAGES) {
      if (this.limits.maxAgeMs > 0 && !connected) this.releaseExpired();
      if (!dropping && !this.writerMayLift()) return { accept: false, rejection: s, raised: undefined, lifted };
      this.state = State.OPEN;
      this.drains++;
      lifted = true;
    }
    if (!this.exceeds(pad, frame)) return { accept: true, lifted };
    const pendingBefore = this.pendingBytes();
    if (this.limits.maxAgeMs > 0 && !connected && this.releaseExpired() > 0 && !this.exceeds(pad, frame)) return { accept: true, lifted };
    if (dropping) {
      this.releaseHead((_f, i) => this.exceeds(pad, frame, i), 'dropped');
      if (!this.exceeds(pad, frame)) return { accept: true, lifted };
    }
    const full = this.bytesExceed(pendingBefore, pad, frame) ? State.FULL_BYTES : State.FULL_MESSAGES;
    this.state = full;
    return { accept: false, rejection: full, raised: full, lifted };
  }

  /** Main's expiry while not connected: frames at the head older than maxBufferedAge; the count. */
  releaseExpired(): number {
    return this.releaseHead((f) => this.expired(f), 'expiredByMain');
  }

  /** Main's release from the head: padding always, frames while `more`; the frames released. */
  private releaseHead(more: (f: Frame, index: number) => boolean, cause: ReleaseCause): number {
    let to = this.head;
    let frames = 0;
    for (; to < this.records.length; to++) {
      const f = this.records[to]!.frame;
      if (f === undefined) continue;
      if (!more(f, to)) break;
      frames++;
    }
    this.release(to, () => cause);
    return frames;
  }

  /** Appends an accepted frame (after its padding, if any), stamped with NOW. */
  commit(pad: number, len: number, msg: Msg, declared: number): Frame {
    if (pad !== 0) {
      this.records.push({ pos: this.writePos, off: this.writeOff, len: pad, frame: undefined });
      this.writePos += pad;
      this.writeOff = 0;
    }
    const frame: Frame = {
      id: this.accepted,
      off: this.writeOff,
      msg,
      declared,
      committedAt: this.now,
      handedOn: new Set(),
      skippedOn: new Map(),
      firstSkip: undefined,
      released: undefined,
      releasedAt: undefined,
    };
    this.records.push({ pos: this.writePos, off: this.writeOff, len, frame });
    this.blockStamps[Math.floor(this.writeOff / STAMP_BLOCK)] = frame;
    this.writePos += len;
    this.writeOff = this.writeOff + len === this.limits.capacity ? 0 : this.writeOff + len;
    this.frameBytes += len;
    this.accepted++;
    return frame;
  }

  /** Releases records [head, to); frames take `cause(frame)`. */
  release(to: number, cause: (f: Frame) => ReleaseCause): void {
    if (to > this.records.length || to < this.head)
      throw new Error(`model: release to record ${to} outside [${this.head}, ${this.records.length}]`);
    for (; this.head < to; this.head++) {
      const rec = this.records[this.head]!;
      const f = rec.frame;
      if (f === undefined) continue;
      if (f.released !== undefined) throw new Error(`model: frame #${f.id} released twice (${f.released}, then ${cause(f)})`);
      f.released = cause(f);
      f.releasedAt = ++this.seq;
      this.released[f.released]++;
      this.frameBytes -= rec.len;
      this.onRelease(rec);
    }
  }

  /** Record index at ring position `pos` (uint32), between `from` and the write position. */
  recordAt(pos: number, from = this.head): number | undefined {
    const base = from < this.records.length ? this.records[from]!.pos : this.writePos;
    const target = base + ((pos - base) >>> 0);
    if (target > this.writePos) return undefined;
    for (let i = from; i < this.records.length; i++) {
      const p = this.records[i]!.pos;
      if (p === target) return i;
      if (p > target) return undefined;
    }
    return target === this.writePos ? this.records.length : undefined;
  }

  /**
   * The stamp the ring holds for frame `f` (at `off`): that of the youngest frame starting in its
   * 256-byte block. layout.ts allows it to be younger than `f` by "the time the producer took to
   * write the rest of its 256 bytes"; `stampFromLaterLap` says when a later lap rewrote it instead.
   */
  ringStamp(off: number): { stamp: number; stampFromLaterLap: (f: Frame) => boolean } {
    const by = this.blockStamps[Math.floor(off / STAMP_BLOCK)];
    const stamp = by?.committedAt ?? 0;
    return { stamp, stampFromLaterLap: (f) => by !== undefined && by !== f && by.off < f.off };
  }

  /** Older than maxBufferedAge by the ring's stamp. */
  expired(f: Frame): boolean {
    const age = this.limits.maxAgeMs;
    return age > 0 && ((this.now - this.ringStamp(f.off).stamp) | 0) > age;
  }

  /** Why the drain loop must not hand frame `f` over now, if it must not. */
  skipCause(f: Frame, maxPayload: number, len: number): SkipCause | undefined {
    if (this.expired(f)) return 'expired';
    if (len > maxPayload && f.declared > maxPayload) return 'oversize';
    return undefined;
  }
}

/** A frame as found on the wire, and where it ended in the buffer parsed. */
export interface ParsedFrame extends Msg {
  readonly end: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits bytes handed to the socket into NATS PUB / HPUB frames. Fields may be separated by runs of
 * spaces (legal NATS; the writer pads with them); anything else malformed throws.
 */
export function parseFrames(buf: Uint8Array): ParsedFrame[] {
  const out: ParsedFrame[] = [];
  let at = 0;
  while (at < buf.length) {
    let cr = at;
    while (cr < buf.length && buf[cr] !== 13) cr++;
    if (cr + 1 >= buf.length || buf[cr + 1] !== 10) throw new Error(`wire: control line at byte ${at} has no CRLF`);
    const fields = decoder.decode(buf.subarray(at, cr)).split(/ +/);
    if (fields[fields.length - 1] === '') fields.pop();
    const verb = fields.shift();
    const numbers = verb === 'PUB' ? 1 : verb === 'HPUB' ? 2 : -1;
    if (numbers < 0 || fields.length < 1 + numbers || fields.length > 2 + numbers) {
      throw new Error(`wire: bad control line ${JSON.stringify(decoder.decode(buf.subarray(at, cr)))}`);
    }
    const sizes = fields.slice(fields.length - numbers).map((f) => {
      if (!/^[0-9]+$/.test(f)) throw new Error(`wire: size ${JSON.stringify(f)} is not a number`);
      return Number(f);
    });
    const total = sizes[sizes.length - 1]!;
    const hdr = numbers === 2 ? sizes[0]! : 0;
    if (hdr > total) throw new Error(`wire: header size ${hdr} > total ${total}`);
    const body = cr + 2;
    if (body + total + 2 > buf.length || buf[body + total] !== 13 || buf[body + total + 1] !== 10) {
      throw new Error(`wire: frame at byte ${at} does not end with CRLF after its ${total} bytes`);
    }
    out.push({
      subject: fields[0]!,
      reply: fields.length === 2 + numbers ? fields[1]! : undefined,
      headers: numbers === 2 ? buf.slice(body, body + hdr) : undefined,
      payload: buf.slice(body + hdr, body + total),
      end: body + total + 2,
    });
    at = body + total + 2;
  }
  return out;
}

/** How `got` differs from `want`, or undefined if it is the same message. */
export function messageDifference(got: Msg, want: Msg): string | undefined {
  if (got.subject !== want.subject) return `subject ${JSON.stringify(got.subject)} instead of ${JSON.stringify(want.subject)}`;
  if (got.reply !== want.reply) return `reply ${JSON.stringify(got.reply)} instead of ${JSON.stringify(want.reply)}`;
  if ((got.headers === undefined) !== (want.headers === undefined))
    return `headers ${got.headers === undefined ? 'missing' : 'unexpected'}`;
  if (got.headers !== undefined && want.headers !== undefined && Buffer.compare(got.headers, want.headers) !== 0)
    return 'header bytes differ';
  if (Buffer.compare(got.payload, want.payload) !== 0) return `payload differs (${got.payload.length} bytes, want ${want.payload.length})`;
  return undefined;
}
