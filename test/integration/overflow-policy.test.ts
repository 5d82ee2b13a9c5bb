/**
 * What to keep when the buffer is full during an outage: 'drop-oldest' keeps the newest that fit;
 * maxBufferedAge discards stale samples instead of sending a burst of them on reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function accountsAddUp(r: OutageRig): void {
  const s = r.pub.stats();
  expect(s.accepted).toBe(s.sent + s.pendingMessages + s.unsent + s.droppedOversize + s.droppedOldest + s.expired);
}

describe("overflow 'drop-oldest'", () => {
  it('keeps the newest messages that fit, in order, and counts exactly what it dropped', async () => {
    rig = await outageRig('ovf.seq', 100_000, { overflow: 'drop-oldest', reconnectBufMessages: 1000 });
    for (let i = 0; i < 100; i++) rig.pub.publish('ovf.seq', seqPayload(i));
    await rig.pub.flush();
    await rig.stopServer();
    const total = 100 + 5000;
    for (let i = 100; i < total; i++) rig.pub.publish('ovf.seq', seqPayload(i)); // never throws
    const s = rig.pub.stats();
    expect(s.rejected).toBe(0);
    expect(s.pendingMessages).toBe(1000);
    expect(s.droppedOldest).toBe(4000);
    expect(rig.pub.full).toBe(false);
    accountsAddUp(rig);
    await rig.restartServer();
    await rig.pub.flush();
    await rig.sub.waitFor(100 + 1000);
    await rig.sub.nc.flush();
    // Exactly the first 100 (sent before the outage) and the newest 1000.
    const rep = rig.sub.counter.report((seq) => seq < 100 || (seq >= total - 1000 && seq < total));
    expect(rep.missing).toEqual([]);
    expect(rep.distinct).toBe(1100);
    expect(rep.outOfOrder).toBe(0);
    expect(rep.duplicates).toBe(0);
    accountsAddUp(rig);
    expect(rig.pub.stats()).toMatchObject({ sent: 1100, droppedOldest: 4000, pendingMessages: 0 });
  });

  it('drops by bytes too, whole frames only', async () => {
    rig = await outageRig('ovf.seq', 100_000, { overflow: 'drop-oldest', reconnectBufSize: 64 * 1024 });
    await rig.stopServer();
    const total = 20_000;
    for (let i = 0; i < total; i++) rig.pub.publish('ovf.seq', seqPayload(i, 8 + (i % 50)));
    const s = rig.pub.stats();
    expect(s.pendingBytes).toBeLessThanOrEqual(64 * 1024);
    expect(s.droppedOldest + s.pendingMessages).toBe(total);
    const kept = s.pendingMessages;
    await rig.restartServer();
    await rig.pub.flush();
    await rig.sub.waitFor(kept);
    const rep = rig.sub.counter.report((seq) => seq >= total - kept && seq < total);
    expect(rep).toMatchObject({ missing: [], distinct: kept, corrupt: 0, outOfOrder: 0, duplicates: 0 });
    accountsAddUp(rig);
  });

  it('still refuses while connected: back-pressure is not data loss', async () => {
    rig = await outageRig('ovf.seq', 10, { overflow: 'drop-oldest', reconnectBufMessages: 5 });
    await rig.stopServer();
    rig.proxy.refuse(Infinity);
    await rig.server.restart();
    // Connected but the path stalls: once connected, a full buffer refuses rather than drops.
    rig.proxy.allow();
    await waitUntil(() => rig!.pub.status === 'connected', 15_000, 'reconnect');
    rig.proxy.stall();
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) refused = !rig.pub.tryPublish('ovf.seq', seqPayload(i));
    expect(refused).toBe(true);
    expect(rig.pub.stats().droppedOldest).toBe(0);
    rig.proxy.allow();
  });
});

describe('maxBufferedAge', () => {
  it('discards what is older than the limit when the connection returns, and counts it', async () => {
    rig = await outageRig('age.seq', 10_000, { maxBufferedAge: 400 });
    await rig.stopServer();
    for (let i = 0; i < 1000; i++) rig.pub.publish('age.seq', seqPayload(i));
    await waitUntil(() => rig!.pub.stats().oldestPendingAgeMs >= 600, 5000, 'the backlog to age');
    const fresh = 1000;
    for (let i = fresh; i < fresh + 500; i++) rig.pub.publish('age.seq', seqPayload(i));
    await rig.restartServer();
    await rig.pub.flush();
    await rig.sub.waitFor(500);
    await rig.sub.nc.flush();
    const rep = rig.sub.counter.report((seq) => seq >= fresh && seq < fresh + 500);
    expect(rep.missing).toEqual([]);
    expect(rep.distinct).toBe(500); // none of the stale 1000 arrived
    const s = rig.pub.stats();
    expect(s.expired).toBe(1000);
    expect(s.sent).toBe(500);
    accountsAddUp(rig);
  });
});

describe('gauges during an outage', () => {
  it('show pending, oldest age, outage time and peak while it happens', async () => {
    rig = await outageRig('g.seq', 1000, {});
    await rig.stopServer();
    for (let i = 0; i < 100; i++) rig.pub.publish('g.seq', seqPayload(i, 100));
    await new Promise((r) => setTimeout(r, 300));
    const s = rig.pub.stats();
    expect(s.pendingMessages).toBe(100);
    // Each frame may carry up to 3 + 7 spaces that word-align its control line and payload.
    const frame = 'PUB g.seq 100\r\n'.length + 102;
    expect(s.pendingBytes).toBeGreaterThanOrEqual(100 * frame);
    expect(s.pendingBytes).toBeLessThanOrEqual(100 * (frame + 10));
    expect(s.oldestPendingAgeMs).toBeGreaterThanOrEqual(200);
    expect(s.outageMs).toBeGreaterThanOrEqual(200);
    expect(s.peakPendingBytes).toBe(s.pendingBytes);
    await rig.restartServer();
    await rig.pub.flush();
    const after = rig.pub.stats();
    expect(after).toMatchObject({ pendingMessages: 0, pendingBytes: 0, oldestPendingAgeMs: 0, outageMs: 0 });
    expect(after.disconnectedMs).toBeGreaterThanOrEqual(200);
    expect(after.peakPendingBytes).toBe(s.pendingBytes);
  });
});
