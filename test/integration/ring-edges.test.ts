/**
 * Edges found in review: drops in the middle of a synchronous burst (before the burst's tail is
 * published to the worker), and frames that leave an unused tail larger than the spare room.
 */
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, startPublisher, startServer } from '../helpers/lifecycle.js';
import { freePort } from '../helpers/nats-server.js';

const cleanups = cleanupsAfterEach();

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('ring edges', () => {
  it("drop-oldest within one synchronous burst, across the worker's clock ticks, keeps the worker alive", async () => {
    const port = await freePort();
    const pub = await startPublisher(cleanups, { servers: `nats://127.0.0.1:${port}`, reconnectBufSize: 64 * 1024, overflow: 'drop-oldest' });
    const big = new Uint8Array(30_000);
    await new Promise((r) => setTimeout(r, 500)); // the worker is up and ticking
    for (let i = 0; i < 10; i++) {
      pub.publish('edge.drop', big); // never BUFFER_FULL with drop-oldest while disconnected
      busyWait(15); // the worker's 10 ms tick runs while this burst's tail is unpublished
    }
    const s = pub.stats();
    expect(s.droppedOldest + s.pendingMessages).toBe(10);
    // Frame bytes stay within the limit; pending bytes may also hold the unused tail of a lap (< one frame).
    expect(s.peakPendingBytes).toBeLessThanOrEqual(64 * 1024 + big.length);
    const report = await pub.close({ timeout: 200 });
    expect(report.error).toBeUndefined();
    expect(report.accepted).toBe(report.unsent + report.droppedOldest);
  });

  it('accepts a frame that only fits after the unused tail, when nothing is pending', async () => {
    const server = await startServer(cleanups);
    const pub = await startPublisher(cleanups, { servers: server.url, reconnectBufSize: 70_000, waitForConnect: true });
    const payload = new Uint8Array(60_000);
    for (let i = 0; i < 6; i++) {
      expect(pub.tryPublish('edge.tail', payload), `publish ${i}`).toBe(true);
      await pub.flush();
    }
    expect(pub.stats()).toMatchObject({ accepted: 6, sent: 6, rejected: 0 });
  });
});
