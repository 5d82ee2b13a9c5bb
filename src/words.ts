/**
 * Encoded text as the frame encoders store it into the ring: 8-byte words, then at most one 4-byte
 * word, then at most 3 bytes. Stores into shared memory cost per store, not per byte, and one
 * DataView#setFloat64 moves 8 bytes, where setInt32 moves 4 (scripts/compare-word-stores.mjs:
 * ~35% less time for an 80-byte head on Node 20-26).
 *
 * Why a double carries text bits unchanged: only NaNs may be re-encoded on their way through a
 * Float64Array and a DataView (the spec lets an implementation pick one NaN), and a little-endian
 * double is a NaN only when its last byte is 0x7F or 0xFF (and the one before is 0xF0 or more).
 * Validated subjects and names have neither byte (UTF-8 never contains 0xFF; 0x7F is a control
 * character, refused), and the constructor checks it anyway.
 */

/** The platform's byte order: typed arrays use it, DataView stores are told it, so the bytes come out as encoded. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class Words {
  /** The text itself (the views below share its memory). */
  readonly text: Uint8Array;
  /** Its whole 8-byte words. */
  readonly doubles: Float64Array;
  /** The 4-byte word after them, when there are 4 to 7 bytes left. */
  readonly quad: Int32Array;
  /** The last 1 to 3 bytes. */
  readonly tail: Uint8Array;
  /** Byte length of the text. */
  readonly bytes: number;

  /** @throws {RangeError} text with a 0x7F or 0xFF byte (see the module comment) */
  constructor(utf8: Uint8Array) {
    if (utf8.includes(0x7f) || utf8.includes(0xff)) throw new RangeError('text with a 0x7F or 0xFF byte cannot be stored as words');
    this.bytes = utf8.length;
    const buffer = new ArrayBuffer((utf8.length + 7) & ~7);
    this.text = new Uint8Array(buffer, 0, utf8.length);
    this.text.set(utf8);
    const whole = utf8.length >> 3;
    this.doubles = new Float64Array(buffer, 0, whole);
    const quads = (utf8.length - whole * 8) >> 2;
    this.quad = new Int32Array(buffer, whole * 8, quads);
    this.tail = this.text.subarray(whole * 8 + quads * 4);
  }
}

/** Stores `w` at `o` (through `dv`, a DataView over `b`); returns the offset after it. */
export function storeWords(b: Uint8Array, dv: DataView, o: number, w: Words): number {
  const d = w.doubles;
  for (let i = 0; i < d.length; i++, o += 8) dv.setFloat64(o, d[i]!, LITTLE_ENDIAN);
  if (w.quad.length !== 0) {
    dv.setInt32(o, w.quad[0]!, LITTLE_ENDIAN);
    o += 4;
  }
  const t = w.tail;
  for (let i = 0; i < t.length; i++) b[o++] = t[i]!;
  return o;
}
