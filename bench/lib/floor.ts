/**
 * The naive floor of a publish into shared memory: one Map lookup of a prebuilt `PUB <subject>
 * <size>\r\n` line and two TypedArray#set calls (line, payload) into a SharedArrayBuffer. No
 * limits, no record, no CRLF after the payload, nothing made visible to another thread: what a
 * call costs in JavaScript before any of the work a publisher must do. Lines are space-padded to
 * whole 8-byte words and frames start on a word: V8 copies into shared memory word by word only
 * when source and target agree mod 8 (byte by byte otherwise, ~7x slower at 1 KiB).
 */
export class NaiveFloor {
  private readonly bytes: Uint8Array;
  private readonly lines = new Map<string, Uint8Array>();
  private pos = 0;

  constructor(bufferBytes: number) {
    this.bytes = new Uint8Array(new SharedArrayBuffer(bufferBytes)).fill(0);
  }

  /** Prebuilds the lines for these subjects at this payload size (replacing any earlier ones). */
  prepare(subjects: readonly string[], payloadBytes: number): void {
    this.lines.clear();
    const encoder = new TextEncoder();
    for (const s of subjects) {
      const unpadded = `PUB ${s} ${payloadBytes}\r\n`.length;
      this.lines.set(s, encoder.encode(`PUB ${s} ${' '.repeat((8 - (unpadded & 7)) & 7)}${payloadBytes}\r\n`));
    }
  }

  publish(subject: string, payload: Uint8Array): boolean {
    const line = this.lines.get(subject)!;
    let p = this.pos;
    if (p + line.length + payload.length > this.bytes.length) p = 0;
    this.bytes.set(line, p);
    this.bytes.set(payload, p + line.length);
    this.pos = (p + line.length + payload.length + 7) & ~7;
    return true;
  }
}
