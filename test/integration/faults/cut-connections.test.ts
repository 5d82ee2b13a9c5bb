/**
 * Fault 1: the publisher's TCP connection is reset every ~200 ms while it streams a million small
 * messages. Every accepted message must arrive; duplicates only from the resend after a cut
 * (bounded by stats().resent); order kept apart from those resends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cleanups,
  EventLog,
  SeqStream,
  delivery,
  expectBalanced,
  expectDelivered,
  faultSubscriber,
  patternIntact,
  flushEventually,
  recordResult,
  startPublisher,
} from '../../helpers/faults-harness.js';
import { startFaultProxy } from '../../helpers/fault-proxy.js';
import { startNatsServer } from '../../helpers/nats-server.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const MESSAGES = 1_000_000;
const CUT_EVERY_MS = 200;

describe('connection cuts every 200 ms', () => {
  it(`delivers all ${MESSAGES} accepted messages, duplicates bounded by resent`, async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.cut';
    const sub = await faultSubscriber({ servers: server.url }, subject, MESSAGES);
    cleanups.add(() => sub.close());

    const pub = await startPublisher(cleanups, {
      servers: proxy.url,
      waitForConnect: true,
      reconnectTimeWait: 20,
      reconnectJitter: 0,
    });
    const events = new EventLog(pub);
    const stream = new SeqStream(pub, subject);

    let cuts = 0;
    const cutter = setInterval(() => {
      proxy.cutAll();
      cuts++;
    }, CUT_EVERY_MS);
    cleanups.add(() => clearInterval(cutter));
    // Keep cutting until every message is confirmed, so cuts also land during the final drain.
    // Paced at ~400 k msg/s so that the stream spans a dozen cuts or more.
    await stream.run({ count: MESSAGES, batch: 4_000, paceMs: 10 });
    await pub.flush({ timeout: 60_000 });
    clearInterval(cutter);

    const mid = pub.stats();
    expectBalanced(mid);
    expect(mid.pendingMessages).toBe(0);
    await sub.waitFor(MESSAGES, 30_000);
    await flushEventually(sub.nc);
    const report = await pub.close({ timeout: 5_000 });
    const d = delivery(sub.counter, report);
    recordResult({
      id: 'cut-connections',
      fault: `TCP reset of the publisher's connection every ${CUT_EVERY_MS} ms (${cuts} cuts) during ${MESSAGES} msgs`,
      client: 'nats-offload',
      userSees: `${events.count('disconnect')} disconnect / ${events.count('reconnect')} reconnect events; publish never failed`,
      accepted: report.accepted,
      sent: report.sent,
      unsent: report.unsent,
      rejected: report.rejected,
      resent: report.resent,
      duplicates: d.duplicates,
      lostSilently: d.lostSilently,
      notes: `reconnects=${mid.reconnects} out-of-order=${d.outOfOrder}`,
    });
    expect(report.accepted).toBe(MESSAGES);
    expect(report.unsent).toBe(0);
    expect(report.error).toBeUndefined();
    expect(cuts).toBeGreaterThanOrEqual(5);
    expect(mid.reconnects).toBeGreaterThan(0);
    expectDelivered(d, report);
  });
  it('random sizes through a small ring that wraps constantly, cuts at random 20-250 ms: every payload intact', async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.cut.wrap';
    const count = 150_000;
    // Mostly small, some large: frames from ~25 B to ~6 KiB, so padding records appear on most laps.
    const sizeOf = (seq: number): number => {
      const h = Math.imul(seq ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
      return 8 + (h % 16 === 0 ? h % 6_000 : h % 300);
    };
    const sub = await faultSubscriber({ servers: server.url }, subject, count, (d, seq) => patternIntact(d, seq, sizeOf));
    cleanups.add(() => sub.close());
    const pub = await startPublisher(cleanups, {
      servers: proxy.url,
      waitForConnect: true,
      reconnectBufSize: 128 * 1024,
      reconnectTimeWait: 10,
      reconnectJitter: 0,
    });
    const events = new EventLog(pub);
    const stream = new SeqStream(pub, subject, sizeOf, 8_192);
    let cuts = 0;
    let seed = 7;
    let cutTimer: NodeJS.Timeout | undefined;
    const scheduleCut = (): void => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      cutTimer = setTimeout(() => {
        proxy.cutAll();
        cuts++;
        scheduleCut();
      }, 20 + (seed % 230));
    };
    scheduleCut();
    cleanups.add(() => clearTimeout(cutTimer));
    await stream.run({ count, batch: 2_000, paceMs: 2 });
    await pub.flush({ timeout: 60_000 });
    clearTimeout(cutTimer);
    const stats = pub.stats();
    await sub.waitFor(count, 30_000);
    await flushEventually(sub.nc);
    const report = await pub.close({ timeout: 5_000 });
    const d = delivery(sub.counter, report);
    recordResult({
      id: 'cut-connections-wrap',
      fault: `TCP reset at random 20-250 ms intervals (${cuts} cuts), ${count} msgs of 8 B-6 KiB through a 128 KiB ring`,
      client: 'nats-offload',
      userSees: `${events.count('disconnect')} disconnect / ${events.count('reconnect')} reconnect events; tryPublish() false ${report.rejected} times while the ring was full`,
      accepted: report.accepted,
      sent: report.sent,
      unsent: report.unsent,
      rejected: report.rejected,
      resent: report.resent,
      duplicates: d.duplicates,
      lostSilently: d.lostSilently,
      notes: `corrupt payloads=${sub.badContent()} reconnects=${stats.reconnects}`,
    });
    expect(sub.badContent()).toBe(0);
    expect(report.accepted).toBe(count);
    expect(report.unsent).toBe(0);
    expect(stats.reconnects).toBeGreaterThan(0);
    expectDelivered(d, report);
  });
});
