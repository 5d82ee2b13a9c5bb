/**
 * The reference for test/unit/ring-model.test.ts: the ring as a plain queue of records (frames and
 * the padding before a frame that starts over at offset 0) with the limits of README "The full
 * flag", plus a parser for the frames handed to the socket. Nothing here reads shared memory.
 */
import { State } from '../../src/shared/layout.js';

/** One message as the server must receive it. */
export interface Msg {
  readonly subject: string;
  readonly reply: string | undefined;
  /** The header block (`NATS/1.0\r\n…\r\n\r\n`), or undefined for a PUB. */
  readonly headers: Uint8Array | undefined;
  readonly payload: Uint8Array;
}

export type ReleaseCause = 'confirmed' | 'dropped' | 'expired' | 'oversize';
export type SkipCause = 'expired' | 'oversize';

export interface Frame {
  /** Acceptance order, from 0. */
  readonly id: number;
  readonly msg: Msg;
  /** The size on the control line: payload bytes, or header + payload bytes for HPUB. */
  readonly declared: number;
  /** NOW when the worker first saw it (a pass or a clock tick). */
  stamp: number | undefined;
  /** Connections it was handed over on (ids), and the connections that skipped it, and why. */
  readonly handedOn: Set<number>;
  readonly skippedOn: Map<number, SkipCause>;
  released: ReleaseCause | undefined;
}

export interface Rec {
  /** Ring position, not wrapped (start + bytes before it). */
  readonly pos: number;
  readonly len: number;
  /** Undefined for padding. */
  readonly frame: Frame | undefined;
}

export interface ModelLimits {
  readonly capacity: number;
  readonly recordCapacity: number;
  /** Frame bytes allowed pending. */
  readonly bytes: number;
  /** Messages allowed pending, 0 = none. */
  readonly messages: number;
  readonly lowWaterBytes: number;
  /** The writer's message low-water mark (no limit: every count is under it). */
  readonly lowWaterMessages: number;
  readonly dropOldest: boolean;
}

export type Admission =
  | { readonly accept: true; readonly dropRecords: number; readonly lifted: boolean }
  | { readonly accept: false; readonly rejection: number; readonly raised: number | undefined; readonly lifted: boolean };

/** `rejection` for a frame larger than the byte limit (RingWriter's REJECT_TOO_LARGE). */
export const TOO_LARGE = -1;

export class RingModel {
  readonly records: Rec[] = [];
  /** First record not released. */
  head = 0;
  writePos: number;
  accepted = 0;
  readonly released: Record<ReleaseCause, number> = { confirmed: 0, dropped: 0, expired: 0, oversize: 0 };
  state: number;
  /** Full states lifted (each is one `{ type: 'drain' }`). */
  drains = 0;

  constructor(
    readonly limits: ModelLimits,
    readonly start: number,
    initialState: number,
  ) {
    this.writePos = start;
    this.state = initialState;
  }

  get releasedMessages(): number {
    const r = this.released;
    return r.confirmed + r.dropped + r.expired + r.oversize;
  }
  get headPos(): number {
    return this.head < this.records.length ? this.records[this.head]!.pos : this.writePos;
  }
  pendingBytes(): number {
    return this.writePos - this.headPos;
  }
  /** Frame bytes pending (padding excluded), kept as records come and go. */
  private frameBytes = 0;
  /** Called for each frame as it is released. */
  onRelease: (rec: Rec) => void = () => {};

  pendingFrameBytes(): number {
    return this.frameBytes;
  }
  /** The oldest pending frame's record, skipping leading padding. */
  oldestFrame(): Rec | undefined {
    for (let i = this.head; i < this.records.length; i++) if (this.records[i]!.frame !== undefined) return this.records[i];
    return undefined;
  }
  pendingRecords(): number {
    return this.records.length - this.head;
  }
  pendingMessages(): number {
    return this.accepted - this.releasedMessages;
  }

  /**
   * Where the next frame goes: frames never wrap, so a frame that does not fit before the end of
   * the ring starts at offset 0 after a padding record covering the tail. Byte payloads from 64
   * bytes are placed at the same offset mod 8 as their source (spaces after the subject; legal
   * NATS), and for them the tail is judged with room for 7 such spaces.
   */
  placeTryWrite(prefixBytes: number, size: number, alignedSourceOffset: number | undefined): { pad: number; frame: number } {
    const cap = this.limits.capacity;
    const head = prefixBytes + String(size).length + 2;
    let off = this.writePos % cap;
    const tail = cap - off;
    let pad = 0;
    let spaces = 0;
    if (alignedSourceOffset !== undefined) {
      if (off !== 0 && head + 7 + size + 2 > tail) {
        pad = tail;
        off = 0;
      }
      spaces = (((alignedSourceOffset - off - head) % 8) + 8) % 8;
    } else if (head + size + 2 > tail) {
      pad = tail;
      off = 0;
    }
    return { pad, frame: head + spaces + size + 2 };
  }

  placeTryWriteHead(headBytes: number, size: number): { pad: number; frame: number } {
    const cap = this.limits.capacity;
    const frame = headBytes + size + 2;
    const tail = cap - (this.writePos % cap);
    return { pad: frame > tail ? tail : 0, frame };
  }

  /** README "The full flag": a frame is refused when it would pass a limit. */
  exceeds(pad: number, frame: number, from = this.head): boolean {
    const used = this.writePos - (from < this.records.length ? this.records[from]!.pos : this.writePos);
    const records = this.records.length - from;
    let messages = this.accepted - this.releasedMessages;
    for (let i = this.head; i < from; i++) if (this.records[i]!.frame !== undefined) messages--;
    const limits = this.limits;
    return this.bytesExceed(used, pad, frame) || records >= limits.recordCapacity - 2 || (limits.messages !== 0 && messages >= limits.messages);
  }

  /** Frame bytes against the byte limit (the unused tail is not data); everything against the ring. */
  bytesExceed(used: number, pad: number, frame: number): boolean {
    return used + frame > this.limits.bytes || (used !== 0 && used + pad + frame > this.limits.capacity);
  }

  /** The writer's rule for lifting a full state: all its low-water marks, record slots included. */
  writerMayLift(): boolean {
    return (
      this.pendingBytes() <= this.limits.lowWaterBytes &&
      this.pendingMessages() <= this.limits.lowWaterMessages &&
      this.pendingRecords() <= (this.limits.recordCapacity - 2) >> 1
    );
  }

  /**
   * README: the full flag lifts "only once pending bytes ≤ lowWaterMark × the byte limit and
   * pending messages ≤ lowWaterMark × the message limit".
   */
  belowLowWater(): boolean {
    return this.pendingBytes() <= this.limits.lowWaterBytes && (this.limits.messages === 0 || this.pendingMessages() <= this.limits.lowWaterMessages);
  }

  /** What publish() must do with a frame of `frame` bytes after `pad`, in the current state. */
  admit(pad: number, frame: number, connected: boolean, refuseWhileDisconnected: boolean): Admission {
    if (frame > this.limits.bytes) return { accept: false, rejection: TOO_LARGE, raised: undefined, lifted: false };
    let lifted = false;
    const s = this.state;
    if (s === State.CLOSED || s === State.WORKER_DIED) return { accept: false, rejection: s, raised: undefined, lifted };
    if (s === State.DISCONNECTED && refuseWhileDisconnected) return { accept: false, rejection: s, raised: undefined, lifted };
    const dropping = this.limits.dropOldest && !connected;
    if (s === State.FULL_BYTES || s === State.FULL_MESSAGES) {
      if (!dropping && !this.writerMayLift()) return { accept: false, rejection: s, raised: undefined, lifted };
      lifted = true;
    }
    if (!this.exceeds(pad, frame)) return { accept: true, dropRecords: 0, lifted };
    if (dropping) {
      let from = this.head;
      while (from < this.records.length && this.exceeds(pad, frame, from)) from++;
      return { accept: true, dropRecords: from - this.head, lifted };
    }
    const full = this.bytesExceed(this.pendingBytes(), pad, frame) ? State.FULL_BYTES : State.FULL_MESSAGES;
    return { accept: false, rejection: full, raised: full, lifted };
  }

  /** Appends an accepted frame (after its padding, if any). */
  commit(pad: number, len: number, msg: Msg, declared: number): Frame {
    if (pad !== 0) {
      this.records.push({ pos: this.writePos, len: pad, frame: undefined });
      this.writePos += pad;
    }
    const frame: Frame = { id: this.accepted, msg, declared, stamp: undefined, handedOn: new Set(), skippedOn: new Map(), released: undefined };
    this.records.push({ pos: this.writePos, len, frame });
    this.writePos += len;
    this.frameBytes += len;
    this.accepted++;
    return frame;
  }

  /** Releases records [head, to); frames take `cause(frame)`. */
  release(to: number, cause: (f: Frame) => ReleaseCause): void {
    if (to > this.records.length || to < this.head) throw new Error(`model: release to record ${to} outside [${this.head}, ${this.records.length}]`);
    for (; this.head < to; this.head++) {
      const f = this.records[this.head]!.frame;
      if (f === undefined) continue;
      if (f.released !== undefined) throw new Error(`model: frame #${f.id} released twice (${f.released}, then ${cause(f)})`);
      f.released = cause(f);
      this.released[f.released]++;
      this.frameBytes -= this.records[this.head]!.len;
      this.onRelease(this.records[this.head]!);
    }
  }

  /** Record index at ring position `pos` (uint32), between the head and the write position. */
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

  /** Why the drain loop must not hand frame `f` over now, if it must not. */
  skipCause(f: Frame, now: number, maxAgeMs: number, maxPayload: number, len: number): SkipCause | undefined {
    if (maxAgeMs > 0 && f.stamp !== undefined && ((now - f.stamp) | 0) > maxAgeMs) return 'expired';
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
  if ((got.headers === undefined) !== (want.headers === undefined)) return `headers ${got.headers === undefined ? 'missing' : 'unexpected'}`;
  if (got.headers !== undefined && want.headers !== undefined && Buffer.compare(got.headers, want.headers) !== 0) return 'header bytes differ';
  if (Buffer.compare(got.payload, want.payload) !== 0) return `payload differs (${got.payload.length} bytes, want ${want.payload.length})`;
  return undefined;
}
