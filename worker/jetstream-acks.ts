/**
 * Parses JetStream publish acks as they arrive on `<inbox>.<seq>`: the publisher's sequence from
 * the reply subject, the outcome from the body. A PubAck is `{"stream":"S", "seq":1}` (plus
 * `,"duplicate": true`); an error is `{"error":{"code":503,"err_code":10077,"description":"…"},…}`;
 * no stream bound to the subject is a `NATS/1.0 503` status header with no body (nats-server 2.9).
 * Success bodies are scanned, not JSON.parsed: `"seq":` cannot occur inside a JSON string (its
 * quotes would be escaped), and the scan is several times cheaper (scripts/compare-ack-parse.ts).
 */

export const AckKind = {
  /** Stored now. */
  STORED: 0,
  /** The stream had seen this Nats-Msg-Id within its duplicate window: stored by an earlier copy. */
  DUPLICATE: 1,
  /** A JetStream API error (err_code): final. */
  ERROR: 2,
  /** 503 no responders: nothing listens on the subject (no stream, or no leader yet). */
  NO_RESPONDERS: 3,
  /** Neither: a reply this parser does not understand. */
  INVALID: 4,
} as const;
export type AckKindValue = (typeof AckKind)[keyof typeof AckKind];

/** One parse result, reused for every ack (no allocation per ack on the success path). */
export class ParsedAck {
  kind: AckKindValue = AckKind.INVALID;
  /** The publisher's sequence, from the reply subject; -1 if the subject has none. */
  seq = -1;
  /** The stream's sequence for the message (0 on errors). */
  streamSeq = 0;
  /** Error details (kind ERROR; NO_RESPONDERS has code 503 and errCode 0). */
  code = 0;
  errCode = 0;
  description = '';
  /** Where the stream name lies in the body the parse saw; see streamName(). */
  private body: Uint8Array | undefined;
  private streamStart = -1;
  private streamEnd = -1;

  /** The stream name, decoded on demand (it is not needed per ack). */
  streamName(): string {
    if (this.body === undefined || this.streamStart < 0) return '';
    const text = Buffer.from(this.body.buffer, this.body.byteOffset + this.streamStart, this.streamEnd - this.streamStart).toString('utf8');
    return text.includes('\\') ? (JSON.parse(`"${text}"`) as string) : text;
  }

  /** @internal */
  setStream(body: Uint8Array, start: number, end: number): void {
    this.body = body;
    this.streamStart = start;
    this.streamEnd = end;
  }
}

const DOT = 46;
const QUOTE = 34;
const SPACE = 32;
const BACKSLASH = 92;
const ZERO = 48;
const NINE = 57;

const SEQ_KEY = bytes('"seq":');
const STREAM_KEY = bytes('"stream":');
const STREAM_OPEN = bytes('{"stream":');
const DUPLICATE_KEY = bytes('"duplicate":');
const ERROR_KEY = bytes('"error":');
const ERROR_OPEN = bytes('{"error":');
const STATUS_503 = bytes('NATS/1.0 503');

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** The decimal number after the last `.` of a reply subject, or -1. */
export function seqFromSubject(subject: Uint8Array): number {
  let n = 0;
  let scale = 1;
  let i = subject.length - 1;
  for (; i >= 0; i--) {
    const c = subject[i]!;
    if (c === DOT) break;
    if (c < ZERO || c > NINE) return -1;
    n += (c - ZERO) * scale;
    scale *= 10;
  }
  return i < 0 || i === subject.length - 1 ? -1 : n;
}

/** Index of `key` in `b` from `from`, or -1. Keys are short and bodies ~40 bytes. */
function indexOf(b: Uint8Array, key: Uint8Array, from: number): number {
  const first = key[0]!;
  const last = b.length - key.length;
  outer: for (let i = from; i <= last; i++) {
    if (b[i] !== first) continue;
    for (let j = 1; j < key.length; j++) if (b[i + j] !== key[j]) continue outer;
    return i;
  }
  return -1;
}

function skipSpaces(b: Uint8Array, i: number): number {
  while (i < b.length && b[i] === SPACE) i++;
  return i;
}

/**
 * Parses one ack into `out`. `subject` is the reply subject's bytes, `raw` the message as received
 * (headers then body), `hdrLen` the header length (-1 for none). Returns `out.kind`.
 */
export function parseAck(subject: Uint8Array, raw: Uint8Array, hdrLen: number, out: ParsedAck): AckKindValue {
  out.seq = seqFromSubject(subject);
  out.streamSeq = 0;
  out.code = 0;
  out.errCode = 0;
  out.description = '';
  out.setStream(raw, -1, -1);
  const bodyStart = Math.max(hdrLen, 0);
  if (hdrLen > 0 && raw.length === hdrLen) {
    // A status with no body: only 503 (no responders) is expected on a publish's reply.
    out.kind = startsWith(raw, STATUS_503) ? AckKind.NO_RESPONDERS : AckKind.INVALID;
    if (out.kind === AckKind.NO_RESPONDERS) {
      out.code = 503;
      out.description = 'no responders: no stream (or no stream leader) for the subject';
    }
    return out.kind;
  }
  const body = bodyStart === 0 ? raw : raw.subarray(bodyStart);
  // The server writes an error first (`{"error":{…},"stream":"S","seq":0}`); stored messages have
  // a stream sequence >= 1, so a zero or missing seq is checked for an error anywhere too.
  if (startsWith(body, ERROR_OPEN)) return parseError(body, out);
  const seqAt = indexOf(body, SEQ_KEY, 0);
  let i = seqAt < 0 ? 0 : skipSpaces(body, seqAt + SEQ_KEY.length);
  const digitsFrom = i;
  let n = 0;
  for (; seqAt >= 0 && i < body.length; i++) {
    const c = body[i]!;
    if (c < ZERO || c > NINE) break;
    n = n * 10 + (c - ZERO);
  }
  if (seqAt < 0 || i === digitsFrom || n === 0) {
    return indexOf(body, ERROR_KEY, 0) >= 0 ? parseError(body, out) : (out.kind = AckKind.INVALID);
  }
  out.streamSeq = n;
  // The server writes `{"stream":` first; look elsewhere only if it did not.
  const st = startsWith(body, STREAM_OPEN) ? 1 : indexOf(body, STREAM_KEY, 0);
  if (st >= 0) {
    const open = skipSpaces(body, st + STREAM_KEY.length);
    if (body[open] === QUOTE) {
      let close = open + 1;
      while (close < body.length && body[close] !== QUOTE) close += body[close] === BACKSLASH ? 2 : 1;
      if (close < body.length) out.setStream(body, open + 1, close);
    }
  }
  // `duplicate` follows `seq` in the server's PubAck; fall back to the whole body if not found there.
  let dup = indexOf(body, DUPLICATE_KEY, i);
  if (dup < 0 && i > 0) dup = indexOf(body, DUPLICATE_KEY, 0);
  out.kind = dup >= 0 && body[skipSpaces(body, dup + DUPLICATE_KEY.length)] === 116 /* t */ ? AckKind.DUPLICATE : AckKind.STORED;
  return out.kind;
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** Errors are rare and carry a free-text description with JSON escapes: JSON.parse them. */
function parseError(body: Uint8Array, out: ParsedAck): AckKindValue {
  try {
    const v = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8')) as {
      error?: { code?: unknown; err_code?: unknown; description?: unknown };
    };
    const e = v.error ?? {};
    out.code = typeof e.code === 'number' ? e.code : 0;
    out.errCode = typeof e.err_code === 'number' ? e.err_code : 0;
    out.description = typeof e.description === 'string' ? e.description : '';
    return (out.kind = AckKind.ERROR);
  } catch {
    return (out.kind = AckKind.INVALID);
  }
}

/** The reference: the same result by JSON.parse of every body (for tests and the micro-benchmark). */
export function parseAckWithJson(subject: Uint8Array, raw: Uint8Array, hdrLen: number, out: ParsedAck): AckKindValue {
  out.seq = seqFromSubject(subject);
  out.streamSeq = 0;
  out.code = 0;
  out.errCode = 0;
  out.description = '';
  if (hdrLen > 0 && raw.length === hdrLen) return parseAck(subject, raw, hdrLen, out);
  const body = hdrLen > 0 ? raw.subarray(hdrLen) : raw;
  try {
    const v = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8')) as {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { code?: number; err_code?: number; description?: string };
    };
    if (v.error !== undefined) {
      out.code = v.error.code ?? 0;
      out.errCode = v.error.err_code ?? 0;
      out.description = v.error.description ?? '';
      return (out.kind = AckKind.ERROR);
    }
    if (typeof v.seq !== 'number') return (out.kind = AckKind.INVALID);
    out.streamSeq = v.seq;
    return (out.kind = v.duplicate === true ? AckKind.DUPLICATE : AckKind.STORED);
  } catch {
    return (out.kind = AckKind.INVALID);
  }
}
