/**
 * The baseline for docs/reliability.md: the same faults against the plain `nats` client publishing
 * on the main thread. Nothing here asserts how much it loses (that depends on timing); the test
 * measures and records it, and checks only what the client itself claims.
 */
import { connect, type NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, faultSubscriber, flushEventually, recordResult, sleep, waitForInterest } from '../../helpers/faults-harness.js';
import { startFaultProxy } from '../../helpers/fault-proxy.js';
import { startNatsServer } from '../../helpers/nats-server.js';
import { seqPayload } from '../../helpers/sequence.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/**
 * Publishes seq 0..count-1 with nc.publish, `batch` per `paceMs`; counts publish() throws. A fresh
 * payload per message: nats.js keeps a reference to it until the write (payload aliasing).
 */
async function publishSeq(nc: NatsConnection, subject: string, count: number, batch: number, paceMs: number): Promise<number> {
  let thrown = 0;
  for (let seq = 0; seq < count; ) {
    for (let i = 0; i < batch && seq < count; i++, seq++) {
      try {
        nc.publish(subject, seqPayload(seq));
      } catch {
        thrown++;
      }
    }
    await sleep(paceMs);
  }
  return thrown;
}

function statusCounter(nc: NatsConnection): { disconnect: number; reconnect: number; error: number } {
  const seen = { disconnect: 0, reconnect: 0, error: 0 };
  void (async () => {
    for await (const s of nc.status()) if (s.type in seen) seen[s.type as keyof typeof seen]++;
  })();
  return seen;
}

describe('the nats client on the main thread, same faults (contrast)', () => {
  it('connection cut every 200 ms: measures what it loses', async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.contrast.cut';
    const count = 300_000;
    const sub = await faultSubscriber({ servers: server.url }, subject, count);
    cleanups.add(() => sub.close());
    const nc = await connect({ servers: proxy.url, maxReconnectAttempts: -1, reconnectTimeWait: 20, reconnectJitter: 0 });
    cleanups.add(() => nc.close().catch(() => {}));
    const seen = statusCounter(nc);
    let cuts = 0;
    const cutter = setInterval(() => {
      proxy.cutAll();
      cuts++;
    }, 200);
    cleanups.add(() => clearInterval(cutter));
    // ~150 k msg/s for ~2 s: about ten cuts.
    const thrown = await publishSeq(nc, subject, count, 1_500, 10);
    clearInterval(cutter);
    await flushEventually(nc);
    await flushEventually(sub.nc);
    await sleep(500);
    const r = sub.counter.report(count);
    const stats = nc.stats();
    recordResult({
      id: 'contrast-nats-cut',
      fault: `TCP reset every 200 ms (${cuts} cuts) during ${count} msgs`,
      client: 'nats',
      userSees: `${seen.disconnect} disconnect / ${seen.reconnect} reconnect status events; publish() threw ${thrown} times; stats().outMsgs = ${stats.outMsgs}`,
      accepted: count,
      duplicates: r.duplicates,
      lostSilently: r.missing.length,
      notes: `lost ${((100 * r.missing.length) / count).toFixed(2)}%, no per-message error, nothing reports which`,
    });
    expect(stats.outMsgs).toBe(count);
    expect(r.corrupt).toBe(0);
  });

  it('server stopped ~1.5 s and restarted: measures what it loses', async () => {
    const server = await startNatsServer();
    cleanups.add(() => server.stop());
    const proxy = await startFaultProxy({ targetPort: server.port });
    cleanups.add(() => proxy.close());
    const subject = 'faults.contrast.restart';
    const count = 100_000;
    const sub = await faultSubscriber({ servers: server.url }, subject, count);
    cleanups.add(() => sub.close());
    const nc = await connect({ servers: proxy.url, maxReconnectAttempts: -1, reconnectTimeWait: 100, reconnectJitter: 0 });
    cleanups.add(() => nc.close().catch(() => {}));
    const seen = statusCounter(nc);
    // 20 k msg/s for 5 s; the server is down from ~1 s to ~2.5 s (the subscriber is back before the
    // publisher may reconnect, as in the nats-offload test).
    const publishing = publishSeq(nc, subject, count, 200, 10);
    await sleep(1_000);
    proxy.refuse(Number.POSITIVE_INFINITY);
    await server.stop('SIGTERM');
    await sleep(1_500);
    await server.restart();
    await waitForInterest(server.url, sub, subject);
    proxy.allow();
    const thrown = await publishing;
    await flushEventually(nc);
    await flushEventually(sub.nc);
    await sleep(500);
    const r = sub.counter.report(count);
    const stats = nc.stats();
    recordResult({
      id: 'contrast-nats-restart',
      fault: `server SIGTERM, down ~1.5 s, restarted, during ${count} msgs at ~20 k msg/s`,
      client: 'nats',
      userSees: `${seen.disconnect} disconnect / ${seen.reconnect} reconnect status events; publish() threw ${thrown} times; stats().outMsgs = ${stats.outMsgs}`,
      accepted: count,
      duplicates: r.duplicates,
      lostSilently: r.missing.length,
      notes: `lost ${((100 * r.missing.length) / count).toFixed(2)}%; outMsgs counts them as sent`,
    });
    expect(stats.outMsgs).toBe(count);
    expect(r.corrupt).toBe(0);
  });
});
