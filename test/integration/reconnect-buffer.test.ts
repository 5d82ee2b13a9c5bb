/**
 * The reconnect buffer: with the server stopped, publishes are kept up to the byte and/or
 * message limit, then refused with BUFFER_FULL naming the limit; once the server is back every
 * accepted message arrives, in order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BufferFullError } from '../../src/index.js';
import { outageRig, waitUntil, type OutageRig } from '../helpers/outage.js';
import { seqPayload } from '../helpers/sequence.js';

let rig: OutageRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Publishes seq payloads from `from` until one is refused; returns the next seq and the error. */
function publishUntilRefused(r: OutageRig, from: number, size: number, max: number): { next: number; error: unknown } {
  const payload = seqPayload(0, size);
  const view = new DataView(payload.buffer);
  let seq = from;
  for (; seq < max; seq++) {
    view.setUint32(0, seq, true);
    try {
      r.pub.publish('buf.seq', payload);
    } catch (error) {
      return { next: seq, error };
    }
  }
  return { next: seq, error: undefined };
}

async function connectedWarmup(r: OutageRig, n: number): Promise<void> {
  for (let i = 0; i < n; i++) r.pub.publish('buf.seq', seqPayload(i, 16));
  await r.pub.flush();
}

async function expectAllArrive(r: OutageRig, accepted: number): Promise<void> {
  await r.restartServer();
  await r.pub.flush();
  await r.sub.waitFor(accepted);
  const rep = r.sub.counter.report(accepted);
  expect(rep.missing).toEqual([]);
  expect(rep.corrupt).toBe(0);
  // Resent duplicates are possible only from the window that was in flight at the cut.
  expect(rep.duplicates).toBeLessThanOrEqual(r.pub.stats().resent);
  expect(rep.outOfOrder).toBeLessThanOrEqual(r.pub.stats().resent);
  const s = r.pub.stats();
  expect(s.accepted).toBe(accepted);
  expect(s.sent).toBe(accepted);
  expect(s.accepted).toBe(s.sent + s.pendingMessages + s.unsent + s.droppedOversize);
  expect(r.pub.full).toBe(false);
  expect(r.pub.status).toBe('connected');
}

describe('reconnect buffer', () => {
  it('keeps publishes up to the byte limit, refuses past it, then delivers them all in order', async () => {
    const limit = 256 * 1024;
    rig = await outageRig('buf.seq', 100_000, { reconnectBufSize: limit });
    await connectedWarmup(rig, 100);
    await rig.stopServer();
    const { next, error } = publishUntilRefused(rig, 100, 100, 100_000);
    expect(error).toBeInstanceOf(BufferFullError);
    expect((error as BufferFullError).code).toBe('BUFFER_FULL');
    expect((error as BufferFullError).limit).toBe('bytes');
    expect(rig.pub.full).toBe(true);
    expect(rig.pub.tryPublish('buf.seq', seqPayload(next, 100))).toBe(false);
    const s = rig.pub.stats();
    const frame = 'PUB buf.seq 100\r\n'.length + 100 + 2;
    expect(s.pendingBytes).toBeLessThanOrEqual(limit);
    // Up to the limit: at most one frame short, plus the unused tail when the ring wrapped.
    expect(s.pendingBytes).toBeGreaterThan(limit - 2 * frame);
    expect(s.pendingMessages).toBe(next - 100);
    expect(s.rejectedByLimit.bytes).toBe(2);
    await expectAllArrive(rig, next);
  });

  it('keeps publishes up to the message limit, refuses past it, then delivers them all', async () => {
    rig = await outageRig('buf.seq', 10_000, { reconnectBufMessages: 500 });
    await connectedWarmup(rig, 10);
    await rig.stopServer();
    const { next, error } = publishUntilRefused(rig, 10, 16, 10_000);
    expect((error as BufferFullError).limit).toBe('messages');
    expect(next).toBe(10 + 500);
    expect(rig.pub.stats().pendingMessages).toBe(500);
    await expectAllArrive(rig, next);
  });

  it('with both limits set, whichever is reached first refuses', async () => {
    rig = await outageRig('buf.seq', 10_000, { reconnectBufSize: 64 * 1024, reconnectBufMessages: 1000 });
    await connectedWarmup(rig, 10);
    await rig.stopServer();
    // 1 KiB payloads: 64 KiB of frames come long before 1000 messages.
    const big = publishUntilRefused(rig, 10, 1024, 10_000);
    expect((big.error as BufferFullError).limit).toBe('bytes');
    expect(big.next - 10).toBeLessThan(64);
    await expectAllArrive(rig, big.next);
    await rig.stopServer();
    // 16-byte payloads: 1000 messages (~33 KiB of frames) come before 64 KiB.
    const small = publishUntilRefused(rig, big.next, 16, 10_000);
    expect((small.error as BufferFullError).limit).toBe('messages');
    expect(small.next - big.next).toBe(1000);
    await expectAllArrive(rig, small.next);
  });

  it('reconnectBufSize -1 refuses while disconnected and accepts again once reconnected', async () => {
    rig = await outageRig('buf.seq', 1000, { reconnectBufSize: -1 });
    await connectedWarmup(rig, 10);
    await rig.stopServer();
    let error: unknown;
    try {
      rig.pub.publish('buf.seq', seqPayload(10));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BufferFullError);
    expect((error as BufferFullError).limit).toBe('disconnected');
    expect(rig.pub.tryPublish('buf.seq', seqPayload(10))).toBe(false);
    expect(rig.pub.stats().rejectedByLimit.disconnected).toBe(2);
    await rig.restartServer();
    await waitUntil(() => rig!.pub.status === 'connected', 15_000, 'reconnect');
    rig.pub.publish('buf.seq', seqPayload(10));
    await rig.pub.flush();
    await rig.sub.waitFor(11);
    expect(rig.sub.counter.report(11).missing).toEqual([]);
  });

  it('close() reports what was never sent when the server does not come back', async () => {
    rig = await outageRig('buf.seq', 1000, {});
    await connectedWarmup(rig, 10);
    await rig.stopServer();
    for (let i = 10; i < 110; i++) rig.pub.publish('buf.seq', seqPayload(i));
    const report = await rig.pub.close({ timeout: 300 });
    expect(report).toMatchObject({ accepted: 110, sent: 10, unsent: 100 });
    const s = rig.pub.stats();
    expect(s.accepted).toBe(s.sent + s.pendingMessages + s.unsent + s.droppedOversize);
    expect(s.pendingMessages).toBe(0);
    expect(rig.pub.status).toBe('closed');
  });
});
