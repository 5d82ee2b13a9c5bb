/**
 * Issue 8, defect 2: drop-oldest racing a reconnect. The main thread used to read CONNECTION, then
 * wait for RING_LOCK: if the worker meanwhile reconnected, resent from the head and unlocked, main
 * dropped frames that were already on the wire (counted both sent and dropped, pending negative).
 * A test hook holds the worker's lock from the reconnect through its first pass, so the
 * interleaving happens every time rather than by luck.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { INTERNAL } from '../../src/publisher.js';
import { recordResult } from '../helpers/faults-harness.js';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe("overflow 'drop-oldest' across a reconnect", () => {
  it('never drops a frame the worker has handed to the new socket', async () => {
    const limit = 100;
    rig = await outageRig('dor.seq', 1_000_000, {
      overflow: 'drop-oldest',
      reconnectBufMessages: limit,
      [INTERNAL]: { testHooks: { holdLockOnReconnectMs: 50 } },
    } as Parameters<typeof outageRig>[2]);
    await rig.stopServer();
    let next = 0;
    let stop = false;
    // A hot producer at the limit: while disconnected every publish drops the oldest message.
    const producer = (async () => {
      while (!stop) {
        for (let i = 0; i < 50; i++) {
          if (rig!.pub.tryPublish('dor.seq', seqPayload(next))) next++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await waitUntil(() => next > 5 * limit, 10_000, 'the producer to be dropping');
    await rig.restartServer();
    await waitUntil(() => rig!.pub.status === 'connected', 15_000, 'reconnect');
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await producer;
    await rig.pub.flush().catch(() => {}); // rejects with MessagesDroppedError: drops happened
    await rig.sub.nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    const s = rig.pub.stats();
    const arrived = rig.sub.counter.report(next);
    // Independent sources: the subscriber's arrivals and the ring's own pending count.
    expect(s.accepted).toBe(next);
    expect(s.pendingMessages).toBe(0);
    expect(arrived.distinct, 'a message counted as dropped also arrived').toBeLessThanOrEqual(s.accepted - s.droppedOldest);
    expect(arrived.distinct).toBe(s.sent);
    expect(arrived.missing.length).toBe(s.droppedOldest);
    expect(s.droppedOldest).toBeGreaterThan(0);
    recordResult({
      id: 'drop-oldest-reconnect',
      fault: "overflow 'drop-oldest' at its message limit while the worker reconnects and resends (a test hook holds the worker's lock through its first pass)",
      client: 'nats-offload',
      userSees: `no frame on the new socket dropped: ${s.droppedOldest} dropped, ${s.sent} confirmed, ${arrived.distinct} arrived, pending ${s.pendingMessages}; full state lifts`,
      accepted: s.accepted,
      sent: s.sent,
      droppedOldest: s.droppedOldest,
      rejected: s.rejected,
      lostSilently: Math.max(0, s.sent - arrived.distinct),
      defect: 2,
    });
    // The full state lifts: with the message limit, an over-release used to keep it shut for good.
    expect(rig.pub.full).toBe(false);
    expect(rig.pub.tryPublish('dor.seq', seqPayload(next))).toBe(true);
  });
});
