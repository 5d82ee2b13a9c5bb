/**
 * Fault 2: the path to the server stalls (no bytes forwarded either way, no FIN) until the
 * client's ping timeout declares the connection dead. The publisher must reconnect on its own
 * and deliver everything it accepted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cleanups,
  EventLog,
  SeqStream,
  delivery,
  expectDelivered,
  faultSubscriber,
  flushEventually,
  recordResult,
  sleep,
  startPublisher,
} from '../../helpers/faults-harness.js';
import { startFaultProxy } from '../../helpers/fault-proxy.js';
import { startNatsServer } from '../../helpers/nats-server.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const PING_INTERVAL_MS = 250;
const MAX_PING_OUT = 2;

describe('stalled path (no bytes, no FIN)', () => {
  it('is declared dead by the ping timeout, reconnects, and loses nothing', async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.stall';
    const capacity = 2_000_000;
    const sub = await faultSubscriber({ servers: server.url }, subject, capacity);
    cleanups.add(() => sub.close());

    const pub = await startPublisher(cleanups, {
      servers: proxy.url,
      waitForConnect: true,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PING_OUT,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
    });
    const events = new EventLog(pub);
    const stream = new SeqStream(pub, subject);

    // A steady producer (~100 k msg/s) running through the whole fault.
    let stop = false;
    const producing = stream.run({ until: () => stop || stream.next >= capacity - 10_000, batch: 1_000, paceMs: 10 });
    await sleep(300);
    const beforeStall = stream.next;
    proxy.stall();
    const stalledAt = Date.now();
    await events.waitFor('disconnect', 1, 30_000);
    const detectedMs = Date.now() - stalledAt;
    // New connections would stall too: lift the stall once the client has given up on the old one.
    proxy.allow();
    await events.waitFor('reconnect', 1, 30_000);
    await sleep(300);
    stop = true;
    await producing;
    await pub.flush({ timeout: 30_000 });
    const stats = pub.stats();
    await sub.waitFor(stats.accepted, 30_000);
    await flushEventually(sub.nc);
    await sleep(100);
    const report = await pub.close({ timeout: 5_000 });
    const d = delivery(sub.counter, report);
    recordResult({
      id: 'stall',
      fault: `path stalled (no bytes, no FIN); pingInterval ${PING_INTERVAL_MS} ms x maxPingOut ${MAX_PING_OUT}`,
      client: 'nats-offload',
      userSees: `disconnect after ${detectedMs} ms (ping timeout), then reconnect; publish kept accepting (buffered)`,
      accepted: report.accepted,
      sent: report.sent,
      unsent: report.unsent,
      rejected: report.rejected,
      resent: report.resent,
      duplicates: d.duplicates,
      lostSilently: d.lostSilently,
      notes: `out-of-order=${d.outOfOrder}`,
    });
    expect(stream.next).toBeGreaterThan(beforeStall);
    expect(stats.disconnects).toBeGreaterThanOrEqual(1);
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(report.unsent).toBe(0);
    expect(report.error).toBeUndefined();
    expectDelivered(d, report);
  });
});
