/**
 * The JetStream frame encoder against a reference built as a plain string, for many subjects,
 * sequences (across digit boundaries and past 2^32) and payload sizes, at unaligned offsets.
 */
import { describe, expect, it } from 'vitest';
import { JetStreamFrame, PUBLISHER_ID_LENGTH, newPublisherId, seqText, type JetStreamFrameSpec } from '../../src/jetstream-frame.js';
import { longFrameLength } from '../../src/shared/layout.js';
import { Subject } from '../../src/subjects.js';

/** The frame as a plain string; the sequence zero-padded to 8 digits (a multiple of 4 past 10^8). */
function reference(spec: JetStreamFrameSpec, subject: string, n: number, payload: string, spaces: number): string {
  const seq = String(n).padStart(String(n).length <= 8 ? 8 : (String(n).length + 3) & ~3, '0');
  let hdr = 'NATS/1.0\r\n';
  if (spec.msgId) hdr += `Nats-Msg-Id: ${spec.publisherId}-${seq}\r\n`;
  if (spec.expectStream !== undefined) hdr += `Nats-Expected-Stream: ${spec.expectStream}\r\n`;
  hdr += '\r\n';
  const h = Buffer.byteLength(hdr);
  return `HPUB ${subject} ${spec.inbox}.${seq} ${' '.repeat(spaces)}${h} ${h + Buffer.byteLength(payload)}\r\n${hdr}${payload}\r\n`;
}

/**
 * The frame as the two sides build it: the main thread's encoder (`main`) writes the control line
 * and the payload, the worker's (`worker`, another instance from the same spec) completes the
 * head. Checks on the way that the main thread's part leaves the header block alone, writes
 * nothing outside the frame, and that its control line alone gives the frame's length.
 */
function encode(
  main: JetStreamFrame,
  worker: JetStreamFrame,
  subject: Subject,
  seq: number,
  payload: string,
  spaces: number,
  at: number,
): { text: string; length: number } {
  const size = Buffer.byteLength(payload);
  const length = main.prepare(subject.bytes, seq, size) + spaces;
  const b = new Uint8Array(at + length + 8).fill(0xee);
  const dv = new DataView(b.buffer);
  let o = main.writeHead(b, dv, at, subject, spaces);
  const headerBytes = main.headerBytes;
  expect(b.subarray(o - headerBytes, o).every((x) => x === 0xee)).toBe(true);
  o += Buffer.from(b.buffer).write(payload, o);
  b[o++] = 13;
  b[o++] = 10;
  expect(o - at).toBe(length);
  expect(longFrameLength(b, at)).toBe(length);
  worker.completeHead(b, dv, at, seq);
  expect(b[at - 1] ?? 0xee).toBe(0xee); // nothing written outside the frame
  expect(b[o]).toBe(0xee);
  return { text: Buffer.from(b.subarray(at, o)).toString('utf8'), length };
}

/** The control line's fields as the server splits them (any run of spaces separates). */
function normalise(frame: string): string {
  const eol = frame.indexOf('\r\n');
  return frame.slice(0, eol).split(/ +/).join(' ') + frame.slice(eol);
}

describe('JetStreamFrame', () => {
  const specs: JetStreamFrameSpec[] = [
    { inbox: '_INBOX.abcdefghij0123456789', publisherId: 'Ab3dEf7hIj0K', msgId: true },
    { inbox: '_I.x', publisherId: 'ZZZZZZZZZZZZ', msgId: true, expectStream: 'TELEMETRY' },
    { inbox: '_INBOX.k', publisherId: '000000000000', msgId: false, expectStream: 'S' },
    { inbox: '_INBOX.kk', publisherId: '000000000000', msgId: false },
  ];
  const subjects = ['a', 'telemetry.cpu', 'x.y.z.ü', `${'long.'.repeat(30)}end`];
  const seqs = [0, 1, 9, 10, 99, 100, 65535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
  const payloads = ['', 'x', 'hello world', 'ü'.repeat(50), 'p'.repeat(1000)];

  it('matches the reference string for every combination, at any offset', () => {
    let at = 0;
    for (const spec of specs) {
      const worker = new JetStreamFrame(spec);
      for (const name of subjects) {
        const subject = new Subject(name);
        for (const seq of seqs) {
          const frame = new JetStreamFrame(spec); // the main thread's sequences only grow
          for (const payload of payloads) {
            const spaces = (seq + payload.length) % 8;
            const got = encode(frame, worker, subject, seq, payload, spaces, (at = (at + 1) % 13));
            expect(normalise(got.text)).toBe(normalise(reference(spec, name, seq, payload, 0)));
            expect(frame.headerBytes + Buffer.byteLength(payload)).toBe(Number(/ (\d+)\r\n/.exec(got.text)![1]));
          }
        }
      }
    }
  });

  it('the worker completes frames in any order (resends, across digit-width boundaries), over stale bytes', () => {
    const spec = specs[1]!;
    const worker = new JetStreamFrame(spec);
    const subject = new Subject('telemetry.cpu');
    const order = [5, 99_999_999, 100_000_000, 6, 10 ** 12 + 3, 100_000_001, 7, 7, 2 ** 32];
    for (const seq of order) {
      // The main thread's sequences only grow: one encoder per frame here, the worker's is shared.
      const got = encode(new JetStreamFrame(spec), worker, subject, seq, 'abc', seq % 8, 3);
      expect(normalise(got.text)).toBe(normalise(reference(spec, 'telemetry.cpu', seq, 'abc', 0)));
    }
    // A frame completed again (a resend) over a head that another sequence completed before: the
    // worker writes every byte of its part, so nothing stale survives.
    const size = 3;
    const b = new Uint8Array(256).fill(0xee);
    const dv = new DataView(b.buffer);
    const fresh = new JetStreamFrame(spec);
    fresh.prepare(subject.bytes, 123, size);
    let o = fresh.writeHead(b, dv, 0, subject, 0);
    o += Buffer.from(b.buffer).write('abc', o);
    b[o++] = 13;
    b[o++] = 10;
    worker.completeHead(b, dv, 0, 456);
    worker.completeHead(b, dv, 0, 123);
    expect(normalise(Buffer.from(b.subarray(0, o)).toString())).toBe(normalise(reference(spec, 'telemetry.cpu', 123, 'abc', 0)));
  });

  it("leaves a head the main thread wrote whole (a publish with headers) alone, even one whose header length is the worker's", () => {
    const spec = specs[0]!;
    const main = new JetStreamFrame(spec);
    const worker = new JetStreamFrame(spec);
    // A caller's Msg-Id as long as ours: the same header length as the worker's own block.
    const own = `Nats-Msg-Id: ${'x'.repeat(PUBLISHER_ID_LENGTH + 1 + 8)}\r\n`;
    for (const lines of [own, 'X-A: 1\r\n', '']) {
      const head = main.headWithHeaders('telemetry.cpu', 42, lines, 3);
      const b = new Uint8Array(head.length + 5);
      b.set(head);
      b.set([97, 98, 99, 13, 10], head.length);
      const before = Buffer.from(b).toString();
      if (lines === own) expect(head.length - head.indexOf(10) - 1).toBe(main.headerBytes);
      worker.completeHead(b, new DataView(b.buffer), 0, 42);
      expect(Buffer.from(b).toString()).toBe(before);
      const hdr = `NATS/1.0\r\n${lines === own ? '' : `Nats-Msg-Id: ${spec.publisherId}-00000042\r\n`}${lines}\r\n`;
      expect(normalise(before)).toBe(`HPUB telemetry.cpu ${spec.inbox}.00000042 ${hdr.length} ${hdr.length + 3}\r\n${hdr}abc\r\n`);
    }
  });

  it('the sequence text is zero-padded to 8 digits, 12 past 10^8, 16 past 10^12', () => {
    expect(seqText(7)).toBe('00000007');
    expect(seqText(10 ** 8)).toBe('000100000000');
    expect(seqText(10 ** 12)).toBe('0001000000000000');
  });

  it('new publisher ids are the fixed length, letters and digits, and differ', () => {
    const a = newPublisherId();
    expect(a).toMatch(new RegExp(`^[A-Za-z0-9]{${PUBLISHER_ID_LENGTH}}$`));
    expect(newPublisherId()).not.toBe(a);
  });

  it('refuses a publisher id that would break the header or its word alignment', () => {
    expect(() => new JetStreamFrame({ inbox: '_I', publisherId: 'short', msgId: true })).toThrow(RangeError);
    expect(() => new JetStreamFrame({ inbox: '_I', publisherId: 'has space 12', msgId: true })).toThrow(RangeError);
  });
});
