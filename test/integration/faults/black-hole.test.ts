/**
 * Issue 8, defect 1: a path that stops reading (no FIN, no RST) under load. nats.js declares such a
 * connection stale, then waits for its socket's write queue before closing it; with an in-flight
 * window larger than the kernel's socket buffers that queue never drains, and the publisher stayed
 * `connected` until TCP's own timeout (minutes). The worker owns the deadline now.
 */
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, closeAndCount, expectNothingLost, recordOffload, sleep, startProxiedRig, startSeqPublisher } from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const PING_INTERVAL_MS = 250;
const MAX_PING_OUT = 2;
const MiB = 1024 * 1024;

describe('black-holed path under load', () => {
  it('is noticed within pingInterval x maxPingOut even when the write queue cannot drain, and loses nothing', async () => {
    const capacity = 200_000;
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.blackhole', capacity);
    const { pub, events, stream } = await startSeqPublisher(
      cleanups,
      subject,
      {
        servers: proxy.url,
        waitForConnect: true,
        pingInterval: PING_INTERVAL_MS,
        maxPingOut: MAX_PING_OUT,
        // More in flight than the kernel holds: loopback autotunes a receive buffer up to
        // net.ipv4.tcp_rmem's maximum (32 MiB here) plus the sender's 4 MiB.
        reconnectBufSize: 256 * MiB,
        maxInFlightBytes: 128 * MiB,
        reconnectTimeWait: 50,
        reconnectJitter: 0,
      },
      8 * 1024,
    );
    // A hot producer of 8 KiB messages through the whole fault.
    const producer = stream.produce({ until: () => stream.next >= capacity - 1_000, batch: 500 });
    await stream.waitForAccepted(5_000);
    // The proxy stops reading both ways: the kernel buffers fill, then Node's write queue grows.
    proxy.stall();
    const stalledAt = Date.now();
    const bound = PING_INTERVAL_MS * MAX_PING_OUT;
    await events.waitFor('disconnect', 1, 20_000);
    const detectedMs = Date.now() - stalledAt;
    expect(detectedMs, `noticed after ${detectedMs} ms; the bound is ${bound} ms`).toBeLessThanOrEqual(bound + 2_000);
    proxy.allow();
    await events.waitFor('reconnect', 1, 30_000);
    await sleep(300);
    await producer.stop();
    await pub.flush({ timeout: 60_000 });
    const stats = pub.stats();
    const { report, d } = await closeAndCount(pub, sub, stats.accepted, { settleMs: 100 });
    recordOffload(report, d, {
      id: 'black-hole',
      fault: `path stops reading both ways under a hot 8 KiB producer, maxInFlightBytes 128 MiB (more than the kernel buffers hold); pingInterval ${PING_INTERVAL_MS} ms x maxPingOut ${MAX_PING_OUT}`,
      userSees: `disconnect after ${detectedMs} ms (the worker destroyed the socket whose PONG was overdue), then reconnect; publish kept accepting (buffered)`,
      notes: `${stats.resent} resent after the reconnect`,
      defect: 1,
    });
    expect(stats.disconnects).toBeGreaterThanOrEqual(1);
    expectNothingLost(d, report);
  });
});
