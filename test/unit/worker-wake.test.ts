/**
 * When the publishing thread wakes a sleeping worker: at the end of a synchronous burst (the
 * microtask), once a burst has published its share of the ring, or when the ring refuses a
 * publish (only the worker can make room) — never every PUBLISH_EVERY frames in between, which
 * would have the worker read lines the burst is still writing. A sleeping worker is simulated
 * by WORKER_IDLE = 1; the writer clears it when it wakes the worker.
 */
import { describe, expect, it } from 'vitest';
import { RingWriter } from '../../src/ring-writer.js';
import { WORKER_IDLE, WRITE_POS, allocateRing, geometryFor, viewsOf } from '../../src/shared/layout.js';
import { SubjectCache } from '../../src/subjects.js';

function sleepingWorker(ringBytes: number, limitBytes: number) {
  const g = geometryFor(ringBytes);
  const views = viewsOf(allocateRing(g), g);
  const writer = new RingWriter(views, {
    bytes: limitBytes,
    messages: 0,
    lowWaterBytes: Math.floor(limitBytes / 2),
    lowWaterMessages: Number.MAX_SAFE_INTEGER,
    dropOldest: false,
    maxAgeMs: 0,
    refuseWhileDisconnected: false,
  });
  views.control[WORKER_IDLE] = 1;
  return { control: views.control, writer, capacity: g.capacity, prefix: new SubjectCache().prefix('wake.test') };
}

const payload = new Uint8Array(16).fill(120);

describe('waking the worker', () => {
  it('publishes positions during a burst but wakes a sleeping worker only when the burst ends', async () => {
    const { control, writer, prefix } = sleepingWorker(1 << 20, 1 << 20);
    for (let i = 0; i < 100; i++) expect(writer.tryWrite(prefix, payload, 16)).toBe(true);
    // Positions went out every PUBLISH_EVERY frames, so an awake worker would be sending already.
    expect(control[WRITE_POS]).toBeGreaterThan(0);
    expect(control[WORKER_IDLE]).toBe(1);
    await Promise.resolve();
    expect(control[WORKER_IDLE]).toBe(0);
    expect(control[WRITE_POS]).toBe(writer.position);
  });

  it('wakes it within a long synchronous burst once an eighth of the ring is published', () => {
    const { control, writer, capacity, prefix } = sleepingWorker(1 << 20, 1 << 20);
    let bytes = 0;
    while (control[WORKER_IDLE] === 1) {
      expect(writer.tryWrite(prefix, payload, 16)).toBe(true);
      bytes = control[WRITE_POS]!; // not writer.position, which publishes and wakes
    }
    expect(bytes).toBeGreaterThanOrEqual(capacity / 8);
    expect(bytes).toBeLessThan(capacity / 8 + 16 * 64);
  });

  it('wakes it when the byte limit refuses a publish within a synchronous burst', () => {
    // A limit far below an eighth of the ring: without the wake at the refusal, a caller spinning
    // synchronously on tryPublish would wait for the worker's idle timeout.
    const { control, writer, prefix } = sleepingWorker(1 << 20, 4096);
    let n = 0;
    while (writer.tryWrite(prefix, payload, 16)) n++;
    expect(n).toBeGreaterThan(16);
    expect(control[WORKER_IDLE]).toBe(0);
    expect(control[WRITE_POS]).toBe(writer.position);
  });
});
