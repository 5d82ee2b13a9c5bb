/**
 * Fault 2: the path to the server stalls (no bytes forwarded either way, no FIN) until the
 * client's ping timeout declares the connection dead. The publisher must reconnect on its own
 * and deliver everything it accepted.
 */
import { describe, expect, it } from 'vitest';
import {
  cleanupsAfterEach,
  closeAndCount,
  expectNothingLost,
  recordOffload,
  sleep,
  startProxiedRig,
  startSeqPublisher,
} from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const PING_INTERVAL_MS = 250;
const MAX_PING_OUT = 2;

describe('stalled path (no bytes, no FIN)', () => {
  it('is declared dead by the ping timeout, reconnects, and loses nothing', async () => {
    const capacity = 2_000_000;
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.stall', capacity);
    const { pub, events, stream } = await startSeqPublisher(cleanups, subject, {
      servers: proxy.url,
      waitForConnect: true,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PING_OUT,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
    });

    // A steady producer (~100 k msg/s) running through the whole fault.
    const producer = stream.produce({ until: () => stream.next >= capacity - 10_000, batch: 1_000, paceMs: 10 });
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
    await producer.stop();
    await pub.flush({ timeout: 30_000 });
    const stats = pub.stats();
    const { report, d } = await closeAndCount(pub, sub, stats.accepted, { settleMs: 100 });
    recordOffload(report, d, {
      id: 'stall',
      fault: `path stalled (no bytes, no FIN); pingInterval ${PING_INTERVAL_MS} ms x maxPingOut ${MAX_PING_OUT}`,
      userSees: `disconnect after ${detectedMs} ms (ping timeout), then reconnect; publish kept accepting (buffered)`,
      notes: `out-of-order=${d.outOfOrder}`,
    });
    expect(stream.next).toBeGreaterThan(beforeStall);
    expect(stats.disconnects).toBeGreaterThanOrEqual(1);
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
    expectNothingLost(d, report);
  });
});
