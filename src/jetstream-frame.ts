/**
 * The frame of a JetStream publish, written straight into the ring:
 *
 *   HPUB <subject> <inbox>.<seq> <hdr> <total>\r\nNATS/1.0\r\nNats-Msg-Id: <publisherId>-<seq>\r\n
 *   [Nats-Expected-Stream: <name>\r\n]\r\n<payload>\r\n
 *
 * Everything but the numbers is encoded once per publisher (the `PUB <subject> ` prefix comes
 * from the subject cache, preceded by one `H`), as little-endian words where the length allows;
 * the sequence (twice), the header length and the total are the only per-message work.
 */
import type { Prefix } from './subjects.js';

/** Publisher ids are this long: `NATS/1.0\r\nNats-Msg-Id: ` (23) + id + `-` is 36 bytes, whole words. */
export const PUBLISHER_ID_LENGTH = 12;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const H = 72;
const SPACE = 32;
const CR = 13;
const LF = 10;

export interface JetStreamFrameSpec {
  /** The ack inbox; replies go to `<inbox>.<seq>`. */
  readonly inbox: string;
  /** `PUBLISHER_ID_LENGTH` characters; Msg-Ids are `<publisherId>-<seq>`. */
  readonly publisherId: string;
  /** Send a Nats-Msg-Id (deduplication); false sends none. */
  readonly msgId: boolean;
  /** Sent as Nats-Expected-Stream when set. */
  readonly expectStream?: string | undefined;
}

/** A random publisher id of PUBLISHER_ID_LENGTH letters and digits. */
export function newPublisherId(): string {
  let id = '';
  for (let i = 0; i < PUBLISHER_ID_LENGTH; i++) id += ID_ALPHABET[Math.floor(Math.random() * ID_ALPHABET.length)];
  return id;
}

/** A byte string as whole little-endian words plus the bytes after the last whole word. */
class Part {
  readonly words: Int32Array;
  readonly tail: Uint8Array;
  readonly bytes: number;
  constructor(text: string) {
    const utf8 = new TextEncoder().encode(text);
    this.bytes = utf8.length;
    const whole = utf8.length & ~3;
    const view = new DataView(utf8.buffer, utf8.byteOffset, utf8.byteLength);
    this.words = new Int32Array(whole / 4);
    for (let i = 0; i < this.words.length; i++) this.words[i] = view.getInt32(i * 4, true);
    this.tail = utf8.slice(whole);
  }
}

export class JetStreamFrame {
  /** `<spaces><inbox>.`: leading spaces (legal separators) make it whole words. */
  private readonly reply: Part;
  /** `NATS/1.0\r\nNats-Msg-Id: <publisherId>-`, or `NATS/1.0\r\n` without Msg-Ids. */
  private readonly headerOpen: Part;
  /** After the Msg-Id's digits: `\r\n`, the expected stream line, and the blank line. */
  private readonly headerClose: Part;
  private readonly withMsgId: boolean;

  /** @throws {RangeError} a publisher id of the wrong length */
  constructor(spec: JetStreamFrameSpec) {
    if (spec.publisherId.length !== PUBLISHER_ID_LENGTH || /[^A-Za-z0-9]/.test(spec.publisherId)) {
      throw new RangeError(`publisherId must be ${PUBLISHER_ID_LENGTH} letters or digits, got ${JSON.stringify(spec.publisherId)}`);
    }
    const reply = `${spec.inbox}.`;
    this.reply = new Part(' '.repeat((4 - (Buffer.byteLength(reply) & 3)) & 3) + reply);
    this.withMsgId = spec.msgId;
    this.headerOpen = new Part(spec.msgId ? `NATS/1.0\r\nNats-Msg-Id: ${spec.publisherId}-` : 'NATS/1.0\r\n');
    const expect = spec.expectStream === undefined ? '' : `Nats-Expected-Stream: ${spec.expectStream}\r\n`;
    this.headerClose = new Part(`${spec.msgId ? '\r\n' : ''}${expect}\r\n`);
  }

  /** Header bytes of the message with sequence `seq`. */
  headerBytes(seq: number): number {
    return this.headerOpen.bytes + (this.withMsgId ? digits(seq) : 0) + this.headerClose.bytes;
  }

  /**
   * Bytes of the whole frame for a subject prefix (`PUB <subject> `, padded) of `prefixBytes`, the
   * sequence `seq`, a payload of `size` bytes, and `spaces` extra separator spaces.
   */
  frameBytes(prefixBytes: number, seq: number, size: number, spaces = 0): number {
    const hdr = this.headerBytes(seq);
    return 1 + prefixBytes + this.reply.bytes + digits(seq) + 1 + spaces + digits(hdr) + 1 + digits(hdr + size) + 2 + hdr + size + 2;
  }

  /**
   * Writes everything before the payload at `o` (into `b`, with `dv` a DataView over the same
   * bytes) and returns where the payload goes; `spaces` extra spaces go before the header length
   * (to align the payload for the copy). The caller writes the payload and the closing CRLF.
   */
  writeHead(b: Uint8Array, dv: DataView, o: number, prefix: Prefix, seq: number, size: number, spaces: number): number {
    const seqDigits = digits(seq);
    const hdr = this.headerOpen.bytes + (this.withMsgId ? seqDigits : 0) + this.headerClose.bytes;
    b[o++] = H;
    const pw = prefix.words;
    for (let i = 0, n = prefix.bytes >> 2; i < n; i++, o += 4) dv.setInt32(o, pw[i]!, true);
    o = writePart(b, dv, o, this.reply);
    o = writeDecimal(b, o, seq, seqDigits);
    b[o++] = SPACE;
    for (let i = 0; i < spaces; i++) b[o++] = SPACE;
    o = writeDecimal(b, o, hdr, digits(hdr));
    b[o++] = SPACE;
    const total = hdr + size;
    o = writeDecimal(b, o, total, digits(total));
    b[o++] = CR;
    b[o++] = LF;
    o = writePart(b, dv, o, this.headerOpen);
    if (this.withMsgId) o = writeDecimal(b, o, seq, seqDigits);
    return writePart(b, dv, o, this.headerClose);
  }
}

function writePart(b: Uint8Array, dv: DataView, o: number, part: Part): number {
  const w = part.words;
  for (let i = 0; i < w.length; i++, o += 4) dv.setInt32(o, w[i]!, true);
  const t = part.tail;
  for (let i = 0; i < t.length; i++) b[o++] = t[i]!;
  return o;
}

/** Decimal digits of a non-negative integer below 2^53. */
export function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function writeDecimal(b: Uint8Array, o: number, n: number, nDigits: number): number {
  const end = o + nDigits;
  let i = end;
  do {
    const q = Math.floor(n / 10);
    b[--i] = 48 + (n - q * 10);
    n = q;
  } while (n !== 0);
  return end;
}
