/**
 * Fault 1: the publisher's TCP connection is reset every ~200 ms while it streams a million small
 * messages. Every accepted message must arrive; duplicates only from the resend after a cut
 * (bounded by stats().resent); order kept apart from those resends.
 */
import { describe, expect, it } from 'vitest';
import {
  cleanupsAfterEach,
  closeAndCount,
  expectBalanced,
  expectDelivered,
  expectNothingLost,
  patternIntact,
  recordOffload,
  startCutter,
  startProxiedRig,
  startSeqPublisher,
} from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const MESSAGES = 1_000_000;
const CUT_EVERY_MS = 200;

describe('connection cuts every 200 ms', () => {
  it(`delivers all ${MESSAGES} accepted messages, duplicates bounded by resent`, async () => {
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.cut', MESSAGES);
    const { pub, events, stream } = await startSeqPublisher(cleanups, subject, { servers: proxy.url, waitForConnect: true, reconnectTimeWait: 20, reconnectJitter: 0 });

    const cutter = startCutter(cleanups, proxy, CUT_EVERY_MS);
    // Keep cutting until every message is confirmed, so cuts also land during the final drain.
    // Paced at ~400 k msg/s so that the stream spans a dozen cuts or more.
    await stream.run({ count: MESSAGES, batch: 4_000, paceMs: 10 });
    await pub.flush({ timeout: 60_000 });
    cutter.stop();

    const mid = pub.stats();
    expectBalanced(mid, pub);
    expect(mid.pendingMessages).toBe(0);
    const { report, d } = await closeAndCount(pub, sub, MESSAGES);
    recordOffload(report, d, {
      id: 'cut-connections',
      fault: `TCP reset of the publisher's connection every ${CUT_EVERY_MS} ms (${cutter.cuts} cuts) during ${MESSAGES} msgs`,
      userSees: `${events.count('disconnect')} disconnect / ${events.count('reconnect')} reconnect events; publish never failed`,
      notes: `reconnects=${mid.reconnects} out-of-order=${d.outOfOrder}`,
    });
    expect(report.accepted).toBe(MESSAGES);
    expect(cutter.cuts).toBeGreaterThanOrEqual(5);
    expect(mid.reconnects).toBeGreaterThan(0);
    expectNothingLost(d, report);
  });
  it('random sizes through a small ring that wraps constantly, cuts at random 20-250 ms: every payload intact', async () => {
    const count = 150_000;
    // Mostly small, some large: frames from ~25 B to ~6 KiB, so padding records appear on most laps.
    const sizeOf = (seq: number): number => {
      const h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
      return 8 + (h % 16 === 0 ? h % 6_000 : h % 300);
    };
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.cut.wrap', count, { verify: (d, seq) => patternIntact(d, seq, sizeOf) });
    const { pub, events, stream } = await startSeqPublisher(
      cleanups,
      subject,
      { servers: proxy.url, waitForConnect: true, reconnectBufSize: 128 * 1024, reconnectTimeWait: 10, reconnectJitter: 0 },
      sizeOf,
      8_192,
    );
    let seed = 7;
    const cutter = startCutter(cleanups, proxy, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return 20 + (seed % 230);
    });
    await stream.run({ count, batch: 2_000, paceMs: 2 });
    await pub.flush({ timeout: 60_000 });
    cutter.stop();
    const stats = pub.stats();
    const { report, d } = await closeAndCount(pub, sub, count);
    recordOffload(report, d, {
      id: 'cut-connections-wrap',
      fault: `TCP reset at random 20-250 ms intervals (${cutter.cuts} cuts), ${count} msgs of 8 B-6 KiB through a 128 KiB ring`,
      userSees: `${events.count('disconnect')} disconnect / ${events.count('reconnect')} reconnect events; tryPublish() false ${report.rejected} times while the ring was full`,
      notes: `corrupt payloads=${sub.badContent()} reconnects=${stats.reconnects}`,
    });
    expect(sub.badContent()).toBe(0);
    expect(report.accepted).toBe(count);
    expect(report.unsent).toBe(0);
    expect(stats.reconnects).toBeGreaterThan(0);
    expectDelivered(d, report);
  });
});
