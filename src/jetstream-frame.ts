/**
 * The frame of a JetStream publish, written straight into the ring:
 *
 *   HPUB <subject> <inbox>.<seq> <hdr> <total>\r\nNATS/1.0\r\nNats-Msg-Id: <publisherId>-<seq>\r\n
 *   [Nats-Expected-Stream: <name>\r\n]\r\n<payload>\r\n
 *
 * Written in two steps, so that the publishing thread pays for little more than a core frame:
 * - the main thread (writeHead) writes the control line with the sequence's digits left as
 *   zeros, skips the header block, and writes the payload: the same bytes for every message but
 *   the payload's size, encoded once per publisher as words (words.ts);
 * - the worker (completeHead), when it first hands the frame to the socket and before any byte
 *   of it is written out, puts the sequence into the reply subject and writes the header block.
 * The control line is complete from the first step, so the frame's length can be read from it
 * (layout.ts) whoever looks. The sequence has a fixed width (zero-padded to SEQ_WIDTH digits, 4
 * more past 10^8 and 10^12), so the header's length is known without its digits.
 */
import { CR, LF, SPACE, ZERO, decimalDigits, writeDecimal } from './ascii.js';
import { InvalidPayloadError } from './errors.js';
import type { Prefix } from './subjects.js';
import { LITTLE_ENDIAN, Words, storeWords } from './words.js';

/**
 * Publisher ids are this long: `NATS/1.0\r\nNats-Msg-Id: ` (23) + id + `-` + SEQ_WIDTH digits +
 * `\r\n\r\n` is 48 bytes, six 8-byte words.
 */
export const PUBLISHER_ID_LENGTH = 12;
/** Digits of the sequence (zero-padded): a multiple of 4, so it fills whole words; 4 more past 10^8. */
export const SEQ_WIDTH = 8;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const H = 72;

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

/** The sequence as zero-padded text of `width` digits (what goes on the wire). */
export function seqText(seq: number, width = widthFor(seq)): string {
  return String(seq).padStart(width, '0');
}

/** SEQ_WIDTH, or the next multiple of 4 digits that holds `seq` (any safe integer: at most 16). */
export function widthFor(seq: number): number {
  return seq < 1e8 ? SEQ_WIDTH : seq < 1e12 ? 12 : 16;
}

const encoder = new TextEncoder();

export class JetStreamFrame {
  /**
   * `<spaces><inbox>.<zeros> <hdr> `: leading spaces (legal separators) make it whole 8-byte
   * words; the header length is constant, so it is part of this too.
   */
  private reply!: Words;
  /** `NATS/1.0\r\nNats-Msg-Id: <publisherId>-<zeros>\r\n[expect]\r\n`, or without the Msg-Id line. */
  private header!: Words;
  private headerSeqAt = 0;
  /** Bytes of `<inbox>.`: from the reply's first non-space byte to the sequence. */
  private readonly inboxBytes: number;
  private width = 0;
  /** Sequences below this have the current width. */
  private widthEnd = 0;
  /** The sequence's digits, worked out by completeHead(). */
  private readonly digits = new Uint8Array(16);
  /** Total (header + payload) of the message prepared last, and its decimal digits. */
  private total = 0;
  private totalDigits = 0;

  /** @throws {RangeError} a publisher id of the wrong length or alphabet */
  constructor(private readonly spec: JetStreamFrameSpec) {
    if (spec.publisherId.length !== PUBLISHER_ID_LENGTH || /[^A-Za-z0-9]/.test(spec.publisherId)) {
      throw new RangeError(`publisherId must be ${PUBLISHER_ID_LENGTH} letters or digits, got ${JSON.stringify(spec.publisherId)}`);
    }
    this.inboxBytes = encoder.encode(`${spec.inbox}.`).length;
    this.setWidth(SEQ_WIDTH);
  }

  /** Header bytes of the message prepared last (constant while the sequence keeps its width). */
  get headerBytes(): number {
    return this.header.bytes;
  }

  /**
   * Prepares the frame of message `seq` (sequences only grow: they are the messages accepted
   * before it) with a payload of `size` bytes under a subject prefix
   * (`PUB <subject> `, padded) of `prefixBytes`, and returns its length (plus any extra spaces the
   * caller adds).
   */
  prepare(prefixBytes: number, seq: number, size: number): number {
    if (seq >= this.widthEnd) this.setWidth(widthFor(seq));
    const total = this.header.bytes + size;
    this.total = total;
    this.totalDigits = decimalDigits(total);
    return 1 + prefixBytes + this.reply.bytes + this.totalDigits + 2 + total + 2;
  }

  /**
   * Main thread: writes the control line of the message prepared last at `o` (into `b`, with `dv`
   * a DataView over the same bytes), its sequence left as zeros, and returns where the payload
   * goes, past the header block (left unwritten); `spaces` extra spaces go before the total
   * length (to align the payload for the copy). The caller writes the payload and the closing CRLF.
   */
  writeHead(b: Uint8Array, dv: DataView, o: number, prefix: Prefix, spaces: number): number {
    b[o++] = H;
    const pd = prefix.doubles;
    for (let i = prefix.at, end = i + prefix.count; i < end; i++, o += 8) dv.setFloat64(o, pd[i]!, LITTLE_ENDIAN);
    if (prefix.hasQuad) {
      dv.setInt32(o, prefix.quad, LITTLE_ENDIAN);
      o += 4;
    }
    o = storeWords(b, dv, o, this.reply);
    for (let i = 0; i < spaces; i++) b[o++] = SPACE;
    o = writeDecimal(b, o, this.total, this.totalDigits);
    b[o++] = CR;
    b[o++] = LF;
    return o + this.header.bytes;
  }

  /**
   * Worker: completes the frame at `off`, message `seq`, as writeHead() left it: the sequence's
   * digits in the reply subject, then the header block after the control line. Idempotent (a
   * resent frame may be completed again).
   */
  completeHead(b: Uint8Array, dv: DataView, off: number, seq: number): void {
    const width = widthFor(seq);
    if (width !== this.width) this.setWidth(width);
    const d = this.digits;
    for (let i = width - 1, n = seq; i >= 0; i--) {
      const q = Math.floor(n / 10);
      d[i] = ZERO + (n - q * 10); // (ZERO + n could round past 2^53)
      n = q;
    }
    // Past `HPUB `, the subject (no spaces in it), then its padding and the reply's lead spaces.
    let o = off + 5;
    while (b[o] !== SPACE) o++;
    while (b[o] === SPACE) o++;
    o += this.inboxBytes;
    for (let i = 0; i < width; i++) b[o + i] = d[i]!;
    o += width + 1;
    // Two spaces after the sequence: a head the main thread wrote whole (a publish with headers).
    if (b[o] === SPACE) return;
    while (b[o] !== CR) o++;
    const h = o + 2;
    storeWords(b, dv, h, this.header);
    if (this.spec.msgId) for (let i = 0, at = h + this.headerSeqAt; i < width; i++) b[at + i] = d[i]!;
  }

  /**
   * Main thread, publishes with headers: the whole head of message `seq` (control line and header
   * block, user headers after ours) as bytes, for RingWriter.tryWriteHead(). Two spaces follow its
   * sequence (a legal separator), which tells completeHead() to leave the head alone: its header
   * length may even equal the worker's. `userLines` is headerLines() of the caller's headers; with
   * a Nats-Msg-Id among them, the caller's id deduplicates and none is added.
   * @throws {InvalidPayloadError} an empty Nats-Msg-Id
   */
  headWithHeaders(subject: string, seq: number, userLines: string, size: number): Uint8Array {
    const spec = this.spec;
    const digits = seqText(seq);
    // Header names are case-sensitive to nats-server: only `Nats-Msg-Id` is its deduplication key.
    const own = /^Nats-Msg-Id:/m.test(userLines);
    if (/^Nats-Msg-Id: *\r?$/m.test(userLines)) throw new InvalidPayloadError('an empty Nats-Msg-Id header would turn deduplication off');
    const header =
      `NATS/1.0\r\n${spec.msgId && !own ? `Nats-Msg-Id: ${spec.publisherId}-${digits}\r\n` : ''}` +
      `${spec.expectStream === undefined ? '' : `Nats-Expected-Stream: ${spec.expectStream}\r\n`}${userLines}\r\n`;
    const hdr = Buffer.byteLength(header);
    return encoder.encode(`HPUB ${subject} ${spec.inbox}.${digits}  ${hdr} ${hdr + size}\r\n${header}`);
  }

  /** Builds the parts for sequences of `width` digits (at start, and past 10^8 and 10^12). */
  private setWidth(width: number): void {
    this.width = width;
    this.widthEnd = 10 ** width;
    const spec = this.spec;
    const open = encoder.encode(spec.msgId ? `NATS/1.0\r\nNats-Msg-Id: ${spec.publisherId}-` : 'NATS/1.0\r\n');
    const close = encoder.encode(
      `${spec.msgId ? '\r\n' : ''}${spec.expectStream === undefined ? '' : `Nats-Expected-Stream: ${spec.expectStream}\r\n`}\r\n`,
    );
    const header = new Uint8Array(open.length + (spec.msgId ? width : 0) + close.length).fill(ZERO);
    header.set(open, 0);
    header.set(close, header.length - close.length);
    this.header = new Words(header);
    this.headerSeqAt = open.length;
    const reply = encoder.encode(`${spec.inbox}.`);
    const after = encoder.encode(` ${header.length} `);
    const lead = (8 - ((reply.length + width + after.length) & 7)) & 7;
    const replyBytes = new Uint8Array(lead + reply.length + width + after.length).fill(SPACE);
    replyBytes.set(reply, lead);
    replyBytes.fill(ZERO, lead + reply.length, lead + reply.length + width);
    replyBytes.set(after, lead + reply.length + width);
    this.reply = new Words(replyBytes);
  }
}
