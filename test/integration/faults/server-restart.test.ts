/**
 * Fault 3: nats-server is stopped (SIGTERM) while the publisher streams; publishing goes on past the
 * byte limit (every rejection counted), then the server restarts on the same port and every
 * accepted message must arrive.
 *
 * The publisher reaches the server through a proxy that refuses it until the subscriber (connected
 * straight to the server) has resubscribed, so "arrived" measures the publisher, not a race
 * between two clients reconnecting.
 */
import { describe, expect, it } from 'vitest';
import { BufferFullError, type Publisher, type PublisherOptions } from '../../../src/index.js';
import {
  bringBack,
  cleanupsAfterEach,
  closeAndCount,
  expectBalanced,
  expectDelivered,
  expectNothingLost,
  recordOffload,
  startProxiedRig,
  startSeqPublisher,
  takeDown,
  waitUntil,
  type ProxiedRig,
  type SeqPublisher,
} from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const BUFFER_BYTES = 256 * 1024;

/**
 * A proxied rig and a publisher with `options` streaming `batch` messages per `paceMs`; once
 * `warmup` were accepted the server is stopped (SIGTERM, proxy refusing), and offering goes on
 * until `refusals` offers were refused.
 */
async function streamIntoOutage(
  subject: string,
  options: PublisherOptions,
  p: { batch: number; paceMs: number; warmup: number; refusals: number },
): Promise<SeqPublisher & { rig: ProxiedRig }> {
  const rig = await startProxiedRig(cleanups, subject, 1_000_000);
  const s = await startSeqPublisher(cleanups, subject, { servers: rig.proxy.url, waitForConnect: true, reconnectTimeWait: 100, reconnectJitter: 0, ...options });
  const producer = s.stream.produce({ batch: p.batch, paceMs: p.paceMs, backoffMs: 1 });
  await s.stream.waitForAccepted(p.warmup);
  await takeDown(rig, s.events);
  // Keep offering until the limit has refused a good number of messages.
  await s.stream.waitForRefused(p.refusals);
  await producer.stop();
  return { ...s, rig };
}

/** Calls publish() `times` times on a full publisher: each must throw BufferFullError(`limit`). Returns how many threw. */
function expectPublishRefused(pub: Publisher, subject: string, times: number, limit: BufferFullError['limit']): number {
  let thrown = 0;
  for (let i = 0; i < times; i++) {
    try {
      pub.publish(subject, new Uint8Array(8));
    } catch (e) {
      expect(e).toBeInstanceOf(BufferFullError);
      expect((e as BufferFullError).limit).toBe(limit);
      thrown++;
    }
  }
  expect(thrown).toBe(times);
  return thrown;
}

describe('server stopped and restarted on the same port', () => {
  it('counts every rejection past the byte limit and delivers every accepted message', async () => {
    // Stream at ~200 k msg/s and stop the server in the middle of it.
    const { rig, pub, events, stream } = await streamIntoOutage(
      'faults.restart',
      { reconnectBufSize: BUFFER_BYTES },
      { batch: 2_000, paceMs: 10, warmup: 50_000, refusals: 2_000 },
    );
    expect(pub.full).toBe(true);
    const thrown = expectPublishRefused(pub, rig.subject, 100, 'bytes');
    const during = pub.stats();
    expectBalanced(during, pub);
    expect(during.rejected).toBe(stream.refused + thrown);
    expect(during.rejectedByLimit).toEqual({ bytes: stream.refused + thrown, messages: 0, disconnected: 0 });
    expect(during.pendingBytes).toBeLessThanOrEqual(BUFFER_BYTES);
    expect(during.pendingMessages).toBeGreaterThan(0);
    expect(during.status).toBe('reconnecting');

    await bringBack(rig, events);
    await pub.flush({ timeout: 30_000 });
    expect(pub.full).toBe(false);
    const { report, d } = await closeAndCount(pub, rig.sub, pub.stats().accepted);
    recordOffload(report, d, {
      id: 'server-restart',
      fault: `nats-server SIGTERM mid-stream, publishing past a ${BUFFER_BYTES / 1024} KiB buffer, restart on the same port`,
      userSees: `disconnect/reconnect events; tryPublish() false / publish() BufferFullError('bytes') once full; ${report.rejected} rejections counted exactly`,
      notes: `pending at restart=${during.pendingMessages} out-of-order=${d.outOfOrder}`,
    });
    expect(report.rejected).toBe(stream.refused + thrown);
    expectNothingLost(d, report);
  });
  const variants = [
    {
      name: 'reconnectBufMessages 1000: refuses at the message limit',
      id: 'server-restart-msg-limit',
      options: { reconnectBufMessages: 1_000 },
      limit: 'messages' as const,
    },
    {
      name: 'reconnectBufSize -1: refuses everything while disconnected',
      id: 'server-restart-no-buffer',
      options: { reconnectBufSize: -1 },
      limit: 'disconnected' as const,
    },
  ];
  for (const v of variants) {
    it(`${v.name}, counts each refusal, delivers every accepted message`, async () => {
      const { rig, pub, events, stream } = await streamIntoOutage(`faults.restart.${v.limit}`, v.options, { batch: 500, paceMs: 5, warmup: 20_000, refusals: 500 });
      const thrown = expectPublishRefused(pub, rig.subject, 10, v.limit);
      const during = pub.stats();
      expectBalanced(during, pub);
      expect(during.full).toBe(true);
      expect(during.rejected).toBe(stream.refused + thrown);
      expect(during.rejectedByLimit[v.limit]).toBe(stream.refused + thrown);
      if (v.limit === 'messages') expect(during.pendingMessages).toBe(1_000);

      await bringBack(rig, events);
      await waitUntil(() => !pub.full, 30_000, 'the full flag to be lifted after the reconnect');
      // Publishing works again after the reconnect.
      await stream.run({ count: stream.next + 1_000 });
      await pub.flush({ timeout: 30_000 });
      const { report, d } = await closeAndCount(pub, rig.sub, pub.stats().accepted);
      recordOffload(report, d, {
        id: v.id,
        fault: `nats-server SIGTERM mid-stream and restart, ${JSON.stringify(v.options)}`,
        userSees: `tryPublish() false / publish() BufferFullError('${v.limit}') while down; ${report.rejected} rejections counted in rejectedByLimit.${v.limit}`,
        notes: `pending at restart=${during.pendingMessages} out-of-order=${d.outOfOrder}`,
      });
      expect(report.unsent).toBe(0);
      expectDelivered(d, report);
    });
  }
});
