/** Tracks which sequence numbers a subscriber saw: arrivals, unique, duplicates, gaps. */

export interface SeqReport {
  readonly received: number;
  readonly unique: number;
  readonly duplicates: number;
  /** Arrivals whose sequence was lower than one seen before (resends after a reconnect show here). */
  readonly outOfOrder: number;
  /** Sequences in [0, expected) never seen. */
  readonly missing: number;
  /** Up to 10 missing ranges, `[first, last]` inclusive. */
  readonly missingRanges: [number, number][];
  /** Sequences >= expected (should be 0). */
  readonly unexpected: number;
  /** Of the missing, those below the `split` the report was asked for (0 without one). */
  readonly missingBelowSplit: number;
}

export class SeqTracker {
  private seen = new Uint8Array(1 << 16);
  private highest = -1;
  received = 0;
  unique = 0;
  duplicates = 0;
  outOfOrder = 0;

  record(seq: number): void {
    this.received++;
    if (seq >= this.seen.length) {
      let n = this.seen.length;
      while (n <= seq) n *= 2;
      const grown = new Uint8Array(n);
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[seq] === 0) {
      this.seen[seq] = 1;
      this.unique++;
    } else this.duplicates++;
    if (seq < this.highest) this.outOfOrder++;
    else this.highest = seq;
  }

  /** True once every sequence in [0, expected) was seen. */
  complete(expected: number): boolean {
    return this.unique >= expected && this.countMissing(expected) === 0;
  }

  report(expected: number, split = 0): SeqReport {
    const ranges: [number, number][] = [];
    let missing = 0;
    let missingBelowSplit = 0;
    let runStart = -1;
    for (let s = 0; s < expected; s++) {
      const have = s < this.seen.length && this.seen[s] === 1;
      if (!have) {
        missing++;
        if (s < split) missingBelowSplit++;
        if (runStart < 0) runStart = s;
      } else if (runStart >= 0) {
        if (ranges.length < 10) ranges.push([runStart, s - 1]);
        runStart = -1;
      }
    }
    if (runStart >= 0 && ranges.length < 10) ranges.push([runStart, expected - 1]);
    let unexpected = 0;
    for (let s = expected; s < this.seen.length; s++) unexpected += this.seen[s]!;
    return {
      received: this.received,
      unique: this.unique,
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      missing,
      missingRanges: ranges,
      unexpected,
      missingBelowSplit,
    };
  }

  private countMissing(expected: number): number {
    if (expected > this.seen.length) return expected - this.unique;
    let have = 0;
    for (let s = 0; s < expected; s++) have += this.seen[s]!;
    return expected - have;
  }
}
