/**
 * The frame of a JetStream publish, written straight into the ring:
 *
 *   HPUB <subject> <inbox>.<seq> <hdr> <total>\r\nNATS/1.0\r\nNats-Msg-Id: <publisherId>-<seq>\r\n
 *   [Nats-Expected-Stream: <name>\r\n]\r\n<payload>\r\n
 *
 * Everything but the numbers is encoded once per publisher (the `PUB <subject> ` prefix comes
 * from the subject cache, preceded by one `H`), as words (words.ts). The sequence has a fixed
 * width (zero-padded to SEQ_WIDTH digits, 4 more each time it outgrows them), so the header
 * length is constant and the sequence's digits sit inside those words: moving on by one rewrites
 * a digit or two, and the payload's size is the only number written per message.
 */
import { CR, LF, NINE, SPACE, ZERO, decimalDigits, writeDecimal } from './ascii.js';
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

/** SEQ_WIDTH, or the next multiple of 4 digits that holds `seq`. */
export function widthFor(seq: number): number {
  const d = String(seq).length;
  return d <= SEQ_WIDTH ? SEQ_WIDTH : (d + 3) & ~3;
}

const encoder = new TextEncoder();

export class JetStreamFrame {
  /**
   * `<spaces><inbox>.<seq> <hdr> `: leading spaces (legal separators) put the sequence on whole
   * words; the header length is constant, so it is part of this too.
   */
  private reply!: Words;
  /** Where the sequence's digits start in reply.text (and in header.text with Msg-Ids). */
  private replySeqAt = 0;
  /** `NATS/1.0\r\nNats-Msg-Id: <publisherId>-<seq>\r\n[expect]\r\n`, or without the Msg-Id line. */
  private header!: Words;
  private headerSeqAt = 0;
  private width = 0;
  /** The sequence the words hold now. */
  private seq = 0;
  /** Of the message prepared last: total (header + payload) and the frame without extra spaces. */
  private total = 0;
  private frame = 0;

  /** @throws {RangeError} a publisher id of the wrong length or alphabet */
  constructor(private readonly spec: JetStreamFrameSpec) {
    if (spec.publisherId.length !== PUBLISHER_ID_LENGTH || /[^A-Za-z0-9]/.test(spec.publisherId)) {
      throw new RangeError(`publisherId must be ${PUBLISHER_ID_LENGTH} letters or digits, got ${JSON.stringify(spec.publisherId)}`);
    }
    this.setSeq(0);
  }

  /** Header bytes (constant while the sequence fits its width). */
  get headerBytes(): number {
    return this.header.bytes;
  }

  /**
   * Prepares the frame of message `seq` with a payload of `size` bytes under a subject prefix
   * (`PUB <subject> `, padded) of `prefixBytes`, and returns its length (plus any extra spaces the
   * caller adds). The next sequence is the cached one moved on by one: no digits computed.
   */
  prepare(prefixBytes: number, seq: number, size: number): number {
    if (seq !== this.seq) this.setSeq(seq);
    const hdr = this.header.bytes;
    const total = hdr + size;
    this.total = total;
    this.frame = 1 + prefixBytes + this.reply.bytes + decimalDigits(total) + 2 + total + 2;
    return this.frame;
  }

  /**
   * Writes everything before the payload of the message prepared last at `o` (into `b`, with `dv`
   * a DataView over the same bytes) and returns where the payload goes; `spaces` extra spaces go
   * before the total length (to align the payload for the copy). The caller writes the payload
   * and the closing CRLF; the sequence moves on by one.
   */
  writeHead(b: Uint8Array, dv: DataView, o: number, prefix: Prefix, spaces: number): number {
    b[o++] = H;
    const pd = prefix.doubles;
    for (let i = 0; i < pd.length; i++, o += 8) dv.setFloat64(o, pd[i]!, LITTLE_ENDIAN);
    if (prefix.hasQuad) {
      dv.setInt32(o, prefix.quad, LITTLE_ENDIAN);
      o += 4;
    }
    o = storeWords(b, dv, o, this.reply);
    for (let i = 0; i < spaces; i++) b[o++] = SPACE;
    o = writeDecimal(b, o, this.total, decimalDigits(this.total));
    b[o++] = CR;
    b[o++] = LF;
    o = storeWords(b, dv, o, this.header);
    this.nextSeq();
    return o;
  }

  /** Rebuilds the parts for `seq` (at start, after a refused write's retry with another seq, or a wider width). */
  private setSeq(seq: number): void {
    const width = widthFor(seq);
    if (width !== this.width) {
      this.width = width;
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
      // Leading spaces make the reply part whole 8-byte words, so it is stored with the fewest stores.
      const lead = (8 - ((reply.length + width + after.length) & 7)) & 7;
      const replyBytes = new Uint8Array(lead + reply.length + width + after.length).fill(SPACE);
      replyBytes.set(reply, lead);
      replyBytes.set(after, lead + reply.length + width);
      this.reply = new Words(replyBytes);
      this.replySeqAt = lead + reply.length;
    }
    this.seq = seq;
    const text = seqText(seq, width);
    const withMsgId = this.spec.msgId;
    for (let i = 0; i < width; i++) {
      const digit = text.charCodeAt(i);
      this.reply.text[this.replySeqAt + i] = digit;
      if (withMsgId) this.header.text[this.headerSeqAt + i] = digit;
    }
  }

  /**
   * seq + 1 on the digits in place (the parts' words are views of them): a carry through
   * trailing nines, usually one digit in each part.
   */
  private nextSeq(): void {
    const r = this.reply.text;
    const h = this.header.text;
    const ri = this.replySeqAt;
    const hi = this.headerSeqAt;
    const withMsgId = this.spec.msgId;
    let i = this.width - 1;
    while (i >= 0 && r[ri + i] === NINE) {
      r[ri + i] = ZERO;
      if (withMsgId) h[hi + i] = ZERO;
      i--;
    }
    this.seq++;
    if (i < 0)
      this.setSeq(this.seq); // all nines: one more word of digits
    else {
      r[ri + i]!++;
      if (withMsgId) h[hi + i]!++;
    }
  }
}
