/**
 * Issue 8, defect 4: what flush() promises. It used to compare the flush's position with the
 * release position, which drops (drop-oldest, expiry, oversize) also move, so it could resolve
 * during an outage for messages no server saw; and a flush that timed out was forgotten on the
 * main thread only, so the worker kept it forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessagesDroppedError, TimeoutError } from '../../src/index.js';
import { recordResult } from '../helpers/faults-harness.js';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** A promise's state, without waiting for it. */
function settled(p: Promise<unknown>): { done: boolean; value?: unknown } {
  const s: { done: boolean; value?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e: unknown) => Object.assign(s, { done: true, value: e }),
  );
  return s;
}

describe('flush()', () => {
  it('never resolves while disconnected, even when drop-oldest releases everything it covers; then reports the drops', async () => {
    rig = await outageRig('flush.seq', 10_000, { overflow: 'drop-oldest', reconnectBufMessages: 100 });
    await rig.stopServer();
    for (let i = 0; i < 10; i++) rig.pub.publish('flush.seq', seqPayload(i));
    const first = settled(rig.pub.flush());
    // Drop the 10 it covers (and more), then make the worker look at its flushes again.
    for (let i = 10; i < 210; i++) rig.pub.publish('flush.seq', seqPayload(i));
    await new Promise((r) => setTimeout(r, 50));
    const second = settled(rig.pub.flush({ timeout: 300 }));
    await new Promise((r) => setTimeout(r, 400));
    expect(first.done, 'a flush resolved while no server was reachable').toBe(false);
    expect(second.value).toBeInstanceOf(TimeoutError);
    await rig.restartServer();
    await waitUntil(() => first.done, 15_000, 'the first flush to settle after the reconnect');
    // Every message it covered was dropped, not confirmed: it says so, counting them.
    expect(first.value).toBeInstanceOf(MessagesDroppedError);
    expect((first.value as MessagesDroppedError).dropped).toEqual({ oldest: 10, expired: 0, oversize: 0 });
    // A flush after the drops covers only what was kept: all confirmed, so it resolves.
    await rig.pub.flush();
    await rig.sub.nc.flush();
    const kept = rig.sub.counter.report((seq) => seq >= 110 && seq < 210);
    expect(kept.missing).toEqual([]);
    expect(rig.sub.counter.report((seq) => seq < 110).missing.length).toBe(110); // none of the dropped arrived
    const s = rig.pub.stats();
    recordResult({
      id: 'flush-during-outage',
      fault: "flush() during an outage while overflow 'drop-oldest' releases every message it covers",
      client: 'nats-offload',
      userSees: 'flush stays pending while disconnected; after the reconnect it rejects with MESSAGES_DROPPED { oldest: 10 }; a later flush resolves',
      accepted: s.accepted,
      sent: s.sent,
      droppedOldest: s.droppedOldest,
      lostSilently: kept.missing.length,
      defect: 4,
    });
  });

  it('resolves only after a server answered, when nothing was dropped', async () => {
    rig = await outageRig('flush.ok', 10_000, {});
    await rig.stopServer();
    for (let i = 0; i < 100; i++) rig.pub.publish('flush.ok', seqPayload(i));
    const f = settled(rig.pub.flush());
    await new Promise((r) => setTimeout(r, 300));
    expect(f.done).toBe(false);
    await rig.restartServer();
    await waitUntil(() => f.done, 15_000, 'the flush to settle');
    expect(f.value).toBeUndefined();
    // It resolved after the server had every message: the subscriber sees them all on its next round trip.
    await rig.sub.nc.flush();
    expect(rig.sub.counter.report(100).missing).toEqual([]);
  });

  it('that timed out is forgotten by the worker too: health-check flushes during an outage do not pile up', async () => {
    rig = await outageRig('flush.hc', 10, {});
    await rig.stopServer();
    rig.pub.publish('flush.hc', seqPayload(0));
    const timeouts = await Promise.all(Array.from({ length: 200 }, () => rig!.pub.flush({ timeout: 20 }).catch((e: unknown) => e)));
    for (const t of timeouts) expect(t).toBeInstanceOf(TimeoutError);
    await waitUntil(() => rig!.pub.workerFlushesForTest() === 0, 5_000, () => `the worker to drop the cancelled flushes (holds ${rig!.pub.workerFlushesForTest()})`);
    recordResult({
      id: 'flush-timeouts-forgotten',
      fault: '200 flush({ timeout: 20 }) during an outage (health checks)',
      client: 'nats-offload',
      userSees: 'each rejects with TIMEOUT; the worker holds 0 flushes afterwards',
      accepted: rig.pub.stats().accepted,
      lostSilently: 0,
      defect: 4,
    });
  });
});
