/**
 * The ring alone, on one thread: the writer encodes random frames, a reader built like the
 * worker's walks the record lengths, checks every frame byte for byte and releases space at
 * random moments. Positions start near 2^32 so the 32-bit wrap is crossed, and the small ring
 * is lapped hundreds of times.
 */
import { describe, expect, it } from 'vitest';
import { RingWriter, payloadCopyPaths } from '../../src/ring-writer.js';
import { CONFIRMED_POS, SENT_POS, STATE, State, WRITE_POS, allocateRing, geometryFor, viewsOf } from '../../src/shared/layout.js';
import { SubjectCache } from '../../src/subjects.js';
import { RingReader } from '../../worker/ring-reader.js';
import { mulberry32 } from '../../scripts/prng.js';

interface Sent {
  subject: string;
  payload: Uint8Array | string;
}

function setup(bytes: number, start: number, messages = 0) {
  const g = geometryFor(bytes);
  const views = viewsOf(allocateRing(g), g);
  views.control[WRITE_POS] = views.control[CONFIRMED_POS] = views.control[SENT_POS] = start | 0;
  const limit = Math.min(bytes, g.capacity);
  const writer = new RingWriter(views, {
    bytes: limit,
    messages,
    lowWaterBytes: Math.floor(limit / 2),
    lowWaterMessages: messages === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(messages / 2),
    dropOldest: false,
    maxAgeMs: 0,
    refuseWhileDisconnected: false,
  });
  const reader = new RingReader(views);
  return { views, writer, reader, limit };
}

const dec = new TextDecoder();

/** Reads the next record like the drain loop does; returns the decoded frame or null for padding. */
function readFrame(reader: RingReader, reply?: 'with reply'): { subject: string; payload: Uint8Array } | null {
  const len = reader.frameAtSent();
  if (len < 0) {
    reader.advanceSent(-len);
    return null;
  }
  const frame = reader.view(reader.sentOff, len).slice();
  reader.advanceSent(len);
  const text = dec.decode(frame.subarray(0, frame.indexOf(13)));
  // Runs of spaces are legal field separators; the writer pads with them to align payloads.
  const fields = text.split(/ +/);
  const [verb, subject] = fields;
  const size = fields[reply === undefined ? 2 : 3];
  expect(verb).toBe('PUB');
  const n = Number(size);
  const head = text.length + 2;
  expect(frame.length).toBe(head + n + 2);
  expect(frame[head + n]).toBe(13);
  expect(frame[head + n + 1]).toBe(10);
  return { subject: subject!, payload: frame.subarray(head, head + n) };
}

describe('ring writer and reader', () => {
  it('carries random frames intact across many laps and the 2^32 position wrap', () => {
    const rand = mulberry32(42);
    const start = 2 ** 32 - 200_000;
    const { writer, reader, limit } = setup(64 * 1024, start);
    const subjects = new SubjectCache();
    const queue: Sent[] = [];
    const enc = new TextEncoder();
    let written = 0;
    let read = 0;
    let refusedWhileRoom = 0;
    let wrappedPast32 = false;
    for (let step = 0; step < 60_000; step++) {
      if (rand() < 0.6) {
        const subject = `s.${Math.floor(rand() * 50)}`;
        const size = rand() < 0.05 ? Math.floor(rand() * 8000) : Math.floor(rand() * 300);
        let payload: Uint8Array | string;
        if (rand() < 0.3) payload = `${'é'.repeat(Math.floor(size / 2))}x`;
        else {
          payload = new Uint8Array(size);
          for (let i = 0; i < size; i++) payload[i] = Math.floor(rand() * 256);
        }
        const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
        const prefix = subjects.prefix(subject);
        const frame = RingWriter.frameBytes(prefix.bytes, bytes);
        const room = limit - reader.pendingBytes();
        const ok = writer.tryWrite(prefix, payload, bytes);
        if (ok) {
          queue.push({ subject, payload });
          written++;
        } else {
          // Refusals are allowed only without room, allowing one frame of padding at the end,
          // or while the full state waits for the low-water mark (hysteresis).
          const hysteresis = writer.rejection === State.FULL_BYTES && reader.pendingBytes() > limit / 2;
          if (!hysteresis && frame + 7 <= room - frame - 7) refusedWhileRoom++;
        }
      } else {
        // Read and release a random number of frames.
        const n = Math.floor(rand() * 20);
        for (let i = 0; i < n && reader.sentPos !== reader.written(); i++) {
          const f = readFrame(reader);
          if (f === null) continue;
          const want = queue.shift()!;
          expect(f.subject).toBe(want.subject);
          const bytes = typeof want.payload === 'string' ? enc.encode(want.payload) : want.payload;
          expect(Buffer.compare(f.payload, bytes)).toBe(0);
          read++;
          if (reader.sentPos < start) wrappedPast32 = true;
        }
        if (rand() < 0.5) reader.confirm(reader.sentPos, reader.sentOff, read - (reader.releasedMsgs >>> 0));
      }
    }
    expect(refusedWhileRoom).toBe(0);
    expect(written).toBeGreaterThan(20_000);
    expect(read).toBeGreaterThan(15_000);
    expect(wrappedPast32).toBe(true);
    // Bytes through a 64 KiB ring: hundreds of laps.
    expect(writer.acceptedBytes / (64 * 1024)).toBeGreaterThan(100);
  });

  it('refuses at the byte limit and reopens only below the low-water mark', () => {
    const { writer, reader, views } = setup(64 * 1024, 0);
    const prefix = new SubjectCache().prefix('a');
    const payload = new Uint8Array(1000);
    let n = 0;
    while (writer.tryWrite(prefix, payload, payload.length)) n++;
    const frame = RingWriter.frameBytes(prefix.bytes, 1000);
    // Up to 7 alignment spaces per frame.
    expect(n).toBeGreaterThanOrEqual(Math.floor((64 * 1024) / (frame + 7)));
    expect(n).toBeLessThanOrEqual(Math.floor((64 * 1024) / frame));
    expect(writer.rejection).toBe(State.FULL_BYTES);
    expect(Atomics.load(views.control, STATE)).toBe(State.FULL_BYTES);
    // Release a little: still above the low-water mark, so still refused (no flapping).
    for (let i = 0; i < 5; i++) readFrame(reader);
    reader.confirm(reader.sentPos, reader.sentOff, 5);
    expect(writer.tryWrite(prefix, payload, payload.length)).toBe(false);
    // Release down to half: open again.
    while (reader.pendingBytes() > 32 * 1024) {
      readFrame(reader);
      reader.confirm(reader.sentPos, reader.sentOff, 1);
    }
    expect(writer.tryWrite(prefix, payload, payload.length)).toBe(true);
    expect(Atomics.load(views.control, STATE)).toBe(State.OPEN);
  });

  it('refuses at the message limit', () => {
    const { writer } = setup(64 * 1024, 0, 10);
    const prefix = new SubjectCache().prefix('a');
    let n = 0;
    while (writer.tryWrite(prefix, 'x', 1)) n++;
    expect(n).toBe(10);
    expect(writer.rejection).toBe(State.FULL_MESSAGES);
  });

  it('pads frames under 16 bytes to 16, so tiny frames fill the byte limit exactly', () => {
    const { writer, reader } = setup(64 * 1024, 0);
    const prefix = new SubjectCache().prefix('a');
    let n = 0;
    while (writer.tryWrite(prefix, '', 0)) n++;
    // 'PUB a 0\r\n\r\n' is 11 bytes, padded with spaces to 16: 4096 of them are the 64 KiB limit.
    expect(n).toBe((64 * 1024) / 16);
    expect(writer.rejection).toBe(State.FULL_BYTES);
    writer.publish();
    for (let i = 0; i < n; i++) expect(readFrame(reader)).toEqual({ subject: 'a', payload: new Uint8Array(0) });
    reader.confirm(reader.sentPos, reader.sentOff, n);
    expect(writer.tryWrite(prefix, '', 0)).toBe(true);
  });

  it('carries frames with a prebuilt head (reply subjects) across laps, short ones padded to 16 bytes', () => {
    const rand = mulberry32(7);
    const { writer, reader } = setup(64 * 1024, 2 ** 32 - 100_000);
    const enc = new TextEncoder();
    const queue: Sent[] = [];
    let laps = 0;
    for (let step = 0; step < 20_000; step++) {
      if (rand() < 0.6) {
        const subject = `h.${Math.floor(rand() * 9)}`;
        const size = rand() < 0.1 ? Math.floor(rand() * 5000) : Math.floor(rand() * 40);
        const payload = new Uint8Array(size);
        for (let i = 0; i < size; i++) payload[i] = Math.floor(rand() * 256);
        if (writer.tryWriteHead(enc.encode(`PUB ${subject} r ${size}\r\n`), payload, size)) queue.push({ subject, payload });
      } else {
        const n = Math.floor(rand() * 20);
        for (let i = 0; i < n && reader.sentPos !== reader.written(); i++) {
          const before = reader.sentOff;
          const f = readFrame(reader, 'with reply');
          if (reader.sentOff < before) laps++;
          if (f === null) continue;
          const want = queue.shift()!;
          expect(f.subject).toBe(want.subject);
          expect(Buffer.compare(f.payload, want.payload as Uint8Array)).toBe(0);
        }
        reader.confirm(reader.sentPos, reader.sentOff, 0);
        writer.publish();
      }
    }
    expect(laps).toBeGreaterThan(10);
  });

  it('refuses a frame larger than the whole buffer without raising the full flag', () => {
    const { writer, views } = setup(1000, 0);
    const prefix = new SubjectCache().prefix('a');
    expect(writer.tryWrite(prefix, new Uint8Array(2000), 2000)).toBe(false);
    expect(writer.rejection).toBe(-1);
    expect(Atomics.load(views.control, STATE)).toBe(State.OPEN);
    expect(writer.tryWrite(prefix, new Uint8Array(900), 900)).toBe(true);
  });
});

describe('payload copy paths (one is chosen by V8 version: BUILTIN_CALLS)', () => {
  // Only the chosen path runs in the suite above on a given Node; both must align and copy alike.
  it.each(Object.keys(payloadCopyPaths) as (keyof typeof payloadCopyPaths)[])('%s: reads the offset and copies every byte', (name) => {
    const path = payloadCopyPaths[name];
    const target = new Uint8Array(new SharedArrayBuffer(4096));
    const source = new Uint8Array(2048);
    for (let i = 0; i < source.length; i++) source[i] = (i * 7 + 3) & 0xff;
    for (const [start, length, at] of [
      [0, 128, 0],
      [3, 1000, 11],
      [8, 33, 4000 - 33],
      [1021, 1024, 2048],
    ] as const) {
      const payload = source.subarray(start, start + length);
      expect(path.offsetOf(payload)).toBe(start);
      target.fill(0);
      path.copy(target, payload, at);
      expect(target.subarray(at, at + length)).toEqual(payload);
      expect(target[at - 1] ?? 0).toBe(0);
      expect(target[at + length] ?? 0).toBe(0);
    }
  });
});
