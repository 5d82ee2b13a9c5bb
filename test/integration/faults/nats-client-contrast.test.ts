/**
 * The baseline for docs/reliability.md: the same faults against the plain `nats` client publishing
 * on the main thread. Nothing here asserts how much it loses (that depends on timing); the test
 * measures and records it, and checks only what the client itself claims.
 */
import { connect, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import {
  bringBack,
  cleanupsAfterEach,
  flushEventually,
  recordResult,
  sleep,
  startCutter,
  startProxiedRig,
  takeDown,
  type ProxiedRig,
} from '../../helpers/faults-harness.js';
import { seqPayload } from '../../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

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

interface Contrast extends ProxiedRig {
  readonly nc: NatsConnection;
  readonly seen: ReturnType<typeof statusCounter>;
  readonly count: number;
}

/** A proxied rig counting `count` messages on `subject`, and a plain `nats` client publishing through the proxy. */
async function startContrast(subject: string, count: number, reconnectTimeWait: number): Promise<Contrast> {
  const rig = await startProxiedRig(cleanups, subject, count);
  const nc = await connect({ servers: rig.proxy.url, maxReconnectAttempts: -1, reconnectTimeWait, reconnectJitter: 0 });
  cleanups.add(() => nc.close().catch(() => {}));
  return { ...rig, nc, seen: statusCounter(nc), count };
}

/**
 * Flushes both clients, lets the last arrivals land, records what the subscriber saw (`notes`
 * after the loss percentage), and checks only what the client itself claims: every message counted
 * out, none corrupt.
 */
async function recordContrast(c: Contrast, thrown: number, r: { id: string; fault: string; notes: string }): Promise<void> {
  await flushEventually(c.nc);
  await flushEventually(c.sub.nc);
  await sleep(500);
  const seq = c.sub.counter.report(c.count);
  const stats = c.nc.stats();
  recordResult({
    id: r.id,
    fault: r.fault,
    client: 'nats',
    userSees: `${c.seen.disconnect} disconnect / ${c.seen.reconnect} reconnect status events; publish() threw ${thrown} times; stats().outMsgs = ${stats.outMsgs}`,
    accepted: c.count,
    duplicates: seq.duplicates,
    lostSilently: seq.missing.length,
    notes: `lost ${((100 * seq.missing.length) / c.count).toFixed(2)}%${r.notes}`,
  });
  expect(stats.outMsgs).toBe(c.count);
  expect(seq.corrupt).toBe(0);
}

describe('the nats client on the main thread, same faults (contrast)', () => {
  it('connection cut every 200 ms: measures what it loses', async () => {
    const c = await startContrast('faults.contrast.cut', 300_000, 20);
    const cutter = startCutter(cleanups, c.proxy, 200);
    // ~150 k msg/s for ~2 s: about ten cuts.
    const thrown = await publishSeq(c.nc, c.subject, c.count, 1_500, 10);
    cutter.stop();
    await recordContrast(c, thrown, {
      id: 'contrast-nats-cut',
      fault: `TCP reset every 200 ms (${cutter.cuts} cuts) during ${c.count} msgs`,
      notes: ', no per-message error, nothing reports which',
    });
  });

  it('server stopped ~1.5 s and restarted: measures what it loses', async () => {
    const c = await startContrast('faults.contrast.restart', 100_000, 100);
    // 20 k msg/s for 5 s; the server is down from ~1 s to ~2.5 s (the subscriber is back before the
    // publisher may reconnect, as in the nats-offload test).
    const publishing = publishSeq(c.nc, c.subject, c.count, 200, 10);
    await sleep(1_000);
    await takeDown(c);
    await sleep(1_500);
    await bringBack(c);
    const thrown = await publishing;
    await recordContrast(c, thrown, {
      id: 'contrast-nats-restart',
      fault: `server SIGTERM, down ~1.5 s, restarted, during ${c.count} msgs at ~20 k msg/s`,
      notes: '; outMsgs counts them as sent',
    });
  });
});
