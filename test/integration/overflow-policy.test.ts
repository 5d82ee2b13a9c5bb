/**
 * What to keep when the buffer is full during an outage: 'drop-oldest' keeps the newest that fit;
 * maxBufferedAge discards stale samples instead of sending a burst of them on reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessagesDroppedError } from '../../src/index.js';
import { expectBalanced, recordResult } from '../helpers/faults-harness.js';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** The identity across independently kept counters, and pending against a walk of the ring. */
function accountsAddUp(r: OutageRig): void {
  expectBalanced(r.pub.stats(), r.pub);
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
  // Issue 8, defect 3: expired messages used to be released only when sent, so during an outage
  // longer than the age limit the buffer filled with messages that then all expired, and
  // everything published later was refused: nothing from the outage survived.
  it('frees expired messages during an outage, so those of the last maxBufferedAge before the server returns arrive', async () => {
    const maxAge = 1000;
    rig = await outageRig('age.seq', 100_000, { maxBufferedAge: maxAge, reconnectBufMessages: 300 });
    await rig.stopServer();
    const acceptedAt: number[] = [];
    let refused = 0;
    let stop = false;
    const producer = (async () => {
      while (!stop) {
        if (rig!.pub.tryPublish('age.seq', seqPayload(acceptedAt.length))) acceptedAt.push(Date.now());
        else refused++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 4 * maxAge));
    await rig.restartServer();
    await waitUntil(() => rig!.pub.status === 'connected', 15_000, 'reconnect');
    const returned = Date.now();
    stop = true;
    await producer;
    await rig.pub.flush().catch(() => {}); // rejects with MessagesDroppedError: some expired
    await rig.sub.nc.flush();
    // Messages accepted within the last maxBufferedAge before the publisher was back (less the
    // clock's resolution and the time to send them) had not expired: each must arrive.
    const fresh = acceptedAt.findIndex((t) => t >= returned - maxAge + 200);
    expect(fresh).toBeGreaterThan(0);
    const lastBeforeReturn = acceptedAt.findIndex((t) => t > returned);
    const end = lastBeforeReturn < 0 ? acceptedAt.length : lastBeforeReturn;
    expect(end - fresh, "messages accepted in the window (none before the fix: the buffer stayed full of expired ones)").toBeGreaterThan(10);
    const rep = rig.sub.counter.report((seq) => seq >= fresh && seq < end);
    expect(rep.missing).toEqual([]);
    const s = rig.pub.stats();
    expect(refused).toBeGreaterThan(0);
    expect(s.expired).toBeGreaterThan(0);
    // Every accepted message is confirmed, expired, or still counted in the ring.
    expect(s.accepted).toBe(acceptedAt.length);
    expect(s.accepted).toBe(s.sent + s.pendingMessages + s.expired);
    const all = rig.sub.counter.report((seq) => seq < acceptedAt.length);
    expect(all.distinct).toBeGreaterThanOrEqual(s.sent);
    expect(all.distinct).toBeLessThanOrEqual(s.accepted - s.expired);
    recordResult({
      id: 'expiry-during-outage',
      fault: `outage of 4 x maxBufferedAge (${maxAge} ms), overflow 'reject', reconnectBufMessages 300, steady producer`,
      client: 'nats-offload',
      userSees: `expired messages released during the outage (${s.expired}); all ${end - fresh} accepted in the last maxBufferedAge before the reconnect arrived`,
      accepted: s.accepted,
      sent: s.sent,
      expired: s.expired,
      rejected: s.rejected,
      lostSilently: rep.missing.length,
      defect: 3,
    });
  });
});

describe('maxBufferedAge while connected', () => {
  it('skips messages that waited too long behind a slow path, counts them, and delivers the rest', async () => {
    rig = await outageRig('age.slow', 100_000, { maxBufferedAge: 200, reconnectBufSize: 4 * 1024 * 1024 });
    // 3,000 x 1 KiB behind a 2 MB/s path: the tail waits ~1.5 s in the ring, far past 200 ms.
    rig.proxy.throttle(2_000_000);
    for (let i = 0; i < 3_000; i++) expect(rig.pub.tryPublish('age.slow', seqPayload(i, 1024))).toBe(true);
    const flushed = await rig.pub.flush({ timeout: 30_000 }).catch((e: unknown) => e);
    rig.proxy.throttle(null);
    expect(flushed).toBeInstanceOf(MessagesDroppedError);
    const s = rig.pub.stats();
    expect(s.expired).toBeGreaterThan(0);
    expect((flushed as MessagesDroppedError).dropped.expired).toBe(s.expired);
    await rig.sub.nc.flush();
    const rep = rig.sub.counter.report(3_000);
    // The ones that arrived are exactly the ones confirmed; the missing ones are the expired ones.
    expect(rep.missing.length).toBe(s.expired);
    expect(3_000 - rep.missing.length).toBe(s.sent);
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
