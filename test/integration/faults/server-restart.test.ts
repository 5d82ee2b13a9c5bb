/**
 * Fault 3: nats-server is stopped (SIGTERM) while the publisher streams; publishing goes on past the
 * byte limit (every rejection counted), then the server restarts on the same port and every
 * accepted message must arrive.
 *
 * The publisher reaches the server through a proxy that refuses it until the subscriber (connected
 * straight to the server) has resubscribed, so "arrived" measures the publisher, not a race
 * between two clients reconnecting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BufferFullError } from '../../../src/index.js';
import {
  Cleanups,
  EventLog,
  SeqStream,
  delivery,
  expectBalanced,
  expectDelivered,
  faultSubscriber,
  flushEventually,
  recordResult,
  startPublisher,
  waitForInterest,
  waitUntil,
} from '../../helpers/faults-harness.js';
import { startFaultProxy } from '../../helpers/fault-proxy.js';
import { startNatsServer } from '../../helpers/nats-server.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const BUFFER_BYTES = 256 * 1024;

describe('server stopped and restarted on the same port', () => {
  it('counts every rejection past the byte limit and delivers every accepted message', async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.restart';
    const capacity = 1_000_000;
    const sub = await faultSubscriber({ servers: server.url }, subject, capacity);
    cleanups.add(() => sub.close());

    const pub = await startPublisher(cleanups, {
      servers: proxy.url,
      waitForConnect: true,
      reconnectBufSize: BUFFER_BYTES,
      reconnectTimeWait: 100,
      reconnectJitter: 0,
    });
    const events = new EventLog(pub);
    const stream = new SeqStream(pub, subject);

    // Stream at ~200 k msg/s and stop the server in the middle of it.
    let stopProducing = false;
    const producing = stream.run({ until: () => stopProducing, batch: 2_000, paceMs: 10, backoffMs: 1 });
    await waitUntil(() => stream.next >= 50_000, 30_000, 'the first 50 000 messages');
    proxy.refuse(Number.POSITIVE_INFINITY);
    await server.stop('SIGTERM');
    await events.waitFor('disconnect', 1, 10_000);
    // Keep offering until the byte limit has refused a good number of messages.
    await waitUntil(() => stream.refused >= 2_000, 30_000, () => `2 000 refusals (have ${stream.refused})`);
    stopProducing = true;
    await producing;

    expect(pub.full).toBe(true);
    let thrown = 0;
    for (let i = 0; i < 100; i++) {
      try {
        pub.publish(subject, new Uint8Array(8));
      } catch (e) {
        expect(e).toBeInstanceOf(BufferFullError);
        expect((e as BufferFullError).limit).toBe('bytes');
        thrown++;
      }
    }
    const during = pub.stats();
    expectBalanced(during);
    expect(thrown).toBe(100);
    expect(during.rejected).toBe(stream.refused + thrown);
    expect(during.rejectedByLimit).toEqual({ bytes: stream.refused + thrown, messages: 0, disconnected: 0 });
    expect(during.pendingBytes).toBeLessThanOrEqual(BUFFER_BYTES);
    expect(during.pendingMessages).toBeGreaterThan(0);
    expect(during.status).toBe('reconnecting');

    await server.restart();
    await waitForInterest(server.url, sub, subject);
    proxy.allow();
    await events.waitFor('reconnect', 1, 30_000);
    await pub.flush({ timeout: 30_000 });
    expect(pub.full).toBe(false);
    const after = pub.stats();
    await sub.waitFor(after.accepted, 30_000);
    await flushEventually(sub.nc);
    const report = await pub.close({ timeout: 5_000 });
    const d = delivery(sub.counter, report);
    recordResult({
      id: 'server-restart',
      fault: `nats-server SIGTERM mid-stream, publishing past a ${BUFFER_BYTES / 1024} KiB buffer, restart on the same port`,
      client: 'nats-offload',
      userSees: `disconnect/reconnect events; tryPublish() false / publish() BufferFullError('bytes') once full; ${report.rejected} rejections counted exactly`,
      accepted: report.accepted,
      sent: report.sent,
      unsent: report.unsent,
      rejected: report.rejected,
      resent: report.resent,
      duplicates: d.duplicates,
      lostSilently: d.lostSilently,
      notes: `pending at restart=${during.pendingMessages} out-of-order=${d.outOfOrder}`,
    });
    expect(report.rejected).toBe(stream.refused + thrown);
    expect(report.unsent).toBe(0);
    expect(report.error).toBeUndefined();
    expectDelivered(d, report);
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
      const server = await startNatsServer();
      cleanups.add(() => server.stop());
      const proxy = await startFaultProxy({ targetPort: server.port });
      cleanups.add(() => proxy.close());
      const subject = `faults.restart.${v.limit}`;
      const sub = await faultSubscriber({ servers: server.url }, subject, 1_000_000);
      cleanups.add(() => sub.close());
      const pub = await startPublisher(cleanups, {
        servers: proxy.url,
        waitForConnect: true,
        reconnectTimeWait: 100,
        reconnectJitter: 0,
        ...v.options,
      });
      const events = new EventLog(pub);
      const stream = new SeqStream(pub, subject);
      let stopProducing = false;
      const producing = stream.run({ until: () => stopProducing, batch: 500, paceMs: 5, backoffMs: 1 });
      await waitUntil(() => stream.next >= 20_000, 30_000, 'the first 20 000 messages');
      proxy.refuse(Number.POSITIVE_INFINITY);
      await server.stop('SIGTERM');
      await events.waitFor('disconnect', 1, 10_000);
      await waitUntil(() => stream.refused >= 500, 30_000, () => `500 refusals (have ${stream.refused})`);
      stopProducing = true;
      await producing;
      let thrown = 0;
      for (let i = 0; i < 10; i++) {
        try {
          pub.publish(subject, new Uint8Array(8));
        } catch (e) {
          expect(e).toBeInstanceOf(BufferFullError);
          expect((e as BufferFullError).limit).toBe(v.limit);
          thrown++;
        }
      }
      expect(thrown).toBe(10);
      const during = pub.stats();
      expectBalanced(during);
      expect(during.full).toBe(true);
      expect(during.rejected).toBe(stream.refused + thrown);
      expect(during.rejectedByLimit[v.limit]).toBe(stream.refused + thrown);
      if (v.limit === 'messages') expect(during.pendingMessages).toBe(1_000);

      await server.restart();
      await waitForInterest(server.url, sub, subject);
      proxy.allow();
      await events.waitFor('reconnect', 1, 30_000);
      await waitUntil(() => !pub.full, 30_000, 'the full flag to be lifted after the reconnect');
      // Publishing works again after the reconnect.
      await stream.run({ count: stream.next + 1_000 });
      await pub.flush({ timeout: 30_000 });
      const after = pub.stats();
      await sub.waitFor(after.accepted, 30_000);
      await flushEventually(sub.nc);
      const report = await pub.close({ timeout: 5_000 });
      const d = delivery(sub.counter, report);
      recordResult({
        id: v.id,
        fault: `nats-server SIGTERM mid-stream and restart, ${JSON.stringify(v.options)}`,
        client: 'nats-offload',
        userSees: `tryPublish() false / publish() BufferFullError('${v.limit}') while down; ${report.rejected} rejections counted in rejectedByLimit.${v.limit}`,
        accepted: report.accepted,
        sent: report.sent,
        unsent: report.unsent,
        rejected: report.rejected,
        resent: report.resent,
        duplicates: d.duplicates,
        lostSilently: d.lostSilently,
        notes: `pending at restart=${during.pendingMessages} out-of-order=${d.outOfOrder}`,
      });
      expect(report.unsent).toBe(0);
      expectDelivered(d, report);
    });
  }
});
