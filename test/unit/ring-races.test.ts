/**
 * Interleavings of the two threads that timing alone hits only rarely, forced on one thread:
 * the worker's step runs inside the writer's, at the moment the race would put it there.
 * Issue 8, defects 5 and 7.
 */
import { describe, expect, it } from 'vitest';
import { RingWriter } from '../../src/ring-writer.js';
import {
  CONFIRMED_POS,
  CONNECTION,
  Connection,
  NOW,
  SENT_POS,
  STATE,
  State,
  WRITE_POS,
  allocateRing,
  geometryFor,
  viewsOf,
} from '../../src/shared/layout.js';
import { SubjectCache } from '../../src/subjects.js';
import { RingReader } from '../../worker/ring-reader.js';
import { recordResult } from '../helpers/faults-harness.js';

function setup(opts: { start?: number; messages?: number; maxAgeMs?: number } = {}) {
  const bytes = 64 * 1024;
  const g = geometryFor(bytes);
  const views = viewsOf(allocateRing(g), g);
  const start = opts.start ?? 0;
  views.control[WRITE_POS] = views.control[CONFIRMED_POS] = views.control[SENT_POS] = start | 0;
  views.control[CONNECTION] = Connection.CONNECTED;
  const messages = opts.messages ?? 0;
  const writer = new RingWriter(views, {
    bytes,
    messages,
    lowWaterBytes: bytes / 2,
    lowWaterMessages: messages === 0 ? Number.MAX_SAFE_INTEGER : messages / 2,
    dropOldest: false,
    maxAgeMs: opts.maxAgeMs ?? 0,
    refuseWhileDisconnected: false,
  });
  const reader = new RingReader(views);
  const prefix = new SubjectCache().resolve('race.s');
  return { views, writer, reader, prefix };
}

/** The worker's side of a confirmation: hand everything over, then release it (as a PONG would). */
function workerConfirmsAll(reader: RingReader): void {
  expect(reader.tryLock()).toBe(true);
  const end = reader.written();
  let messages = 0;
  while (reader.sentPos !== end) {
    const len = reader.frameAtSent();
    if (len > 0) messages++;
    reader.advanceSent(len < 0 ? -len : len);
  }
  reader.confirm(reader.sentPos, reader.sentOff, messages);
  reader.unlock();
}

describe('races between the full state and the worker', () => {
  it("defect 5: a release landing between the writer's last look and its raising FULL still ends in a 'drain'", () => {
    const { writer, reader, prefix, views } = setup({ messages: 10 });
    let drains = 0;
    writer.onReopen = () => drains++;
    for (let i = 0; i < 10; i++) expect(writer.tryWrite(prefix, 'x', 1)).toBe(true);
    writer.publish();
    // The worker releases everything right after the writer re-read the release positions, and
    // checks for a full state before the writer raised it (so the worker lifts nothing).
    const w = writer as unknown as { refreshReleased(): void };
    const refresh = w.refreshReleased.bind(writer);
    let raced = false;
    w.refreshReleased = () => {
      refresh();
      if (!raced) {
        raced = true;
        workerConfirmsAll(reader);
        expect(Atomics.load(views.control, STATE)).toBe(State.OPEN);
      }
    };
    expect(writer.tryWrite(prefix, 'x', 1)).toBe(false);
    expect(raced).toBe(true);
    // Whoever raised FULL looked again: the buffer is empty, so it must be open with a 'drain'.
    expect(drains).toBe(1);
    expect(Atomics.load(views.control, STATE)).toBe(State.OPEN);
    expect(writer.tryWrite(prefix, 'x', 1)).toBe(true);
    recordResult({
      id: 'drain-after-release-race',
      fault: "the worker releases everything between the producer's last look and its raising FULL (forced on one thread)",
      client: 'nats-offload',
      userSees: "the producer looks again after raising FULL: state open, one 'drain' event",
      accepted: writer.acceptedMessages,
      lostSilently: 0,
      defect: 5,
    });
  });

  it('defect 7: the rejection names the limit that was hit, even if the worker lifts FULL right after it was raised', () => {
    const { writer, reader, prefix, views } = setup({ messages: 5 });
    for (let i = 0; i < 5; i++) expect(writer.tryWrite(prefix, 'x', 1)).toBe(true);
    writer.publish();
    // Right after the writer raises FULL, the worker releases everything and lifts it.
    const cas = Atomics.compareExchange;
    let raced = false;
    Atomics.compareExchange = ((a: Int32Array, i: number, expected: number, value: number) => {
      const seen = cas(a, i, expected, value);
      if (!raced && a === views.control && i === STATE && value === State.FULL_MESSAGES && seen === State.OPEN) {
        raced = true;
        workerConfirmsAll(reader);
        cas(a, STATE, State.FULL_MESSAGES, State.OPEN);
      }
      return seen;
    }) as typeof Atomics.compareExchange;
    try {
      expect(writer.tryWrite(prefix, 'x', 1)).toBe(false);
    } finally {
      Atomics.compareExchange = cas;
    }
    expect(raced).toBe(true);
    expect(writer.rejection).toBe(State.FULL_MESSAGES);
  });
});

describe('the oldest-message gauge', () => {
  it('defect 7: reads the real age across the 24.8-day wrap of the coarse clock', () => {
    const { writer, prefix, views } = setup();
    views.control[NOW] = 2 ** 31 - 5; // 5 ms before the Int32 clock wraps
    expect(writer.tryWrite(prefix, 'x', 1)).toBe(true);
    writer.publish();
    views.control[NOW] = (2 ** 31 + 20) | 0; // 25 ms later, after the wrap
    expect(writer.oldestAgeMs()).toBe(25);
  });
});
