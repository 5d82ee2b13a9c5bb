/** Back-pressure for Node code: ready(), the 'drain' event, and a Writable for stream.pipeline(). */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { recordResult } from '../helpers/faults-harness.js';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('back-pressure', () => {
  it('ready() waits while full and resolves once the backlog drains; a drain event follows', async () => {
    rig = await outageRig('bp.seq', 10_000, { reconnectBufMessages: 100 });
    const events: string[] = [];
    void (async () => {
      for await (const e of rig!.pub.events()) events.push(e.type);
    })();
    await rig.stopServer();
    let i = 0;
    while (rig.pub.tryPublish('bp.seq', seqPayload(i))) i++;
    expect(i).toBe(100);
    expect(rig.pub.full).toBe(true);
    let ready = false;
    const waiting = rig.pub.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(ready).toBe(false);
    await rig.restartServer();
    await waiting;
    expect(rig.pub.stats().pendingMessages).toBeLessThanOrEqual(50);
    expect(rig.pub.full).toBe(false);
    await waitUntil(() => events.includes('drain'), 5000, 'the drain event');
    await expect(rig.pub.ready({ timeout: 10 })).resolves.toBeUndefined();
  });

  it('pipes 1 M records through pub.writable() across a server restart: every record arrives, memory stays bounded', async () => {
    const N = 1_000_000;
    const limit = 1024 * 1024;
    rig = await outageRig('pipe.seq', N, { reconnectBufSize: limit });
    const r = rig;
    let produced = 0;
    const source = new Readable({
      objectMode: true,
      read() {
        for (let k = 0; k < 1000 && produced < N; k++) this.push(seqPayload(produced++, 16));
        if (produced >= N) this.push(null);
      },
    });
    let restarted: Promise<void> | undefined;
    const outage = setInterval(() => {
      if (produced >= N / 3 && restarted === undefined) {
        clearInterval(outage);
        restarted = (async () => {
          await r.server.stop();
          await new Promise((res) => setTimeout(res, 500));
          await r.restartServer();
        })();
      }
    }, 5);
    await pipeline(source, r.pub.writable('pipe.seq', { objectMode: true }));
    clearInterval(outage);
    await restarted;
    await r.pub.flush();
    await r.sub.waitFor(N, 60_000);
    const rep = r.sub.counter.report(N);
    const s = r.pub.stats();
    expect(rep.missing.length).toBe(0);
    expect(rep.corrupt).toBe(0);
    // At-least-once: duplicates only from resends after the cut, and counted.
    expect(rep.duplicates).toBeLessThanOrEqual(s.resent);
    expect(s.accepted).toBe(N);
    expect(s.sent).toBe(N);
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    // Bounded: the buffer never held more than its limit; the stream waited instead.
    expect(s.peakPendingBytes).toBeLessThanOrEqual(limit);
    expect(s.rejectedByLimit.bytes).toBeGreaterThan(0);
  });

  // Issue 8, defect 7: with reconnectBufSize -1, ready() resolved while disconnected (pending was
  // below low water), so writable() retried every millisecond for the whole outage.
  it('with reconnectBufSize -1, ready() waits for the connection and writable() does not spin', async () => {
    rig = await outageRig('bp.nobuf', 1_000, { reconnectBufSize: -1 });
    await rig.stopServer();
    expect(rig.pub.tryPublish('bp.nobuf', seqPayload(0))).toBe(false);
    let ready = false;
    const waiting = rig.pub.ready().then(() => (ready = true));
    const stream = rig.pub.writable('bp.nobuf');
    let written = 0;
    for (let i = 1; i <= 10; i++) stream.write(seqPayload(i), () => written++);
    const outageMs = 1_000;
    await new Promise((r) => setTimeout(r, outageMs));
    expect(ready, 'ready() resolved while publishes were refused').toBe(false);
    expect(written).toBe(0);
    // One refusal to learn it is full, then it waits: not one per millisecond of outage.
    expect(rig.pub.stats().rejected).toBeLessThan(10);
    await rig.restartServer();
    await waiting;
    await waitUntil(() => written === 10, 10_000, 'the stream to write its chunks after the reconnect');
    await new Promise<void>((r) => stream.end(r));
    await rig.sub.nc.flush();
    expect(rig.sub.counter.report((seq) => seq >= 1 && seq <= 10).missing).toEqual([]);
    const s = rig.pub.stats();
    recordResult({
      id: 'no-buffer-ready',
      fault: 'reconnectBufSize -1: ready() and a writable() stream during a 1 s outage',
      client: 'nats-offload',
      userSees: `ready() waits for the reconnect; ${s.rejected} refusal(s) in the outage (not one per ms); the stream's chunks delivered after it`,
      accepted: s.accepted,
      sent: s.sent,
      rejected: s.rejected,
      lostSilently: 0,
      defect: 7,
    });
  });
});
