/**
 * Positions are 32-bit and wrap (at 1 GB/s in about 4 s). Through the real worker and server:
 * a small ring lapped thousands of times, starting just below 2^32 so the wrap is crossed.
 */
import { describe, expect, it } from 'vitest';
import { INTERNAL } from '../../src/publisher.js';
import { cleanupsAfterEach, startCountingSubscriber, startPublisher, startServer } from '../helpers/lifecycle.js';
import { seqPayload } from '../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

describe('position wrap-around', () => {
  it('delivers a long run in order through a 64 KiB ring across the 2^32 wrap', async () => {
    const server = await startServer(cleanups);
    const N = 400_000;
    const sub = await startCountingSubscriber(cleanups, server.url, 'wrap.seq', N);
    const pub = await startPublisher(cleanups, {
      servers: server.url,
      waitForConnect: true,
      reconnectBufSize: 64 * 1024,
      [INTERNAL]: { initialPosition: 2 ** 32 - 3 * 1024 * 1024 },
    } as never);
    const sizes = [8, 40, 100, 333, 1500];
    for (let i = 0; i < N; ) {
      if (pub.tryPublish('wrap.seq', seqPayload(i, sizes[i % sizes.length]))) i++;
      else await new Promise((r) => setImmediate(r));
    }
    await pub.flush();
    await sub.waitFor(N);
    expect(sub.counter.report(N)).toMatchObject({ missing: [], duplicates: 0, outOfOrder: 0, corrupt: 0 });
    const s = pub.stats();
    // Frame bytes through the ring: well past 2^32 - start, and thousands of laps.
    expect(s.sentBytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(s.sentBytes / (64 * 1024)).toBeGreaterThan(1000);
  });
});
