/**
 * Bytes and decimal numbers as the frame encoders write them into the ring (ring-writer.ts,
 * jetstream-frame.ts): without strings, without allocation.
 */
export const SPACE = 32;
export const CR = 13;
export const LF = 10;
export const ZERO = 48;
export const NINE = 57;

/** Decimal digits of a non-negative integer below 10^8 (sizes and lengths), without a loop. */
export function decimalDigits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : 8;
}

/** Writes `n` as `nDigits` decimal digits at `o`; returns the offset after them. */
export function writeDecimal(b: Uint8Array, o: number, n: number, nDigits: number): number {
  const end = o + nDigits;
  let i = end;
  do {
    b[--i] = ZERO + (n % 10);
    n = (n / 10) | 0;
  } while (n !== 0);
  return end;
}
