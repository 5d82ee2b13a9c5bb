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
    await sub.nc.flush();
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
});
