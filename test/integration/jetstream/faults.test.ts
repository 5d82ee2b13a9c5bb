/**
 * Exactly once through faults: connections cut every 200 ms through the fault proxy, and the
 * server SIGTERMed and restarted on the same store mid-run. Resent copies carry the same Msg-Id,
 * so the stream drops them; the stream, read back, holds each accepted message once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Publisher } from '../../../src/index.js';
import { cleanupsAfterEach, startProxy, startPublisher, waitUntil } from '../../helpers/lifecycle.js';
import { checkStream, createStream, expectAccounting, numberedPayload, startJetStreamServer } from '../../helpers/jetstream.js';

const cleanups = cleanupsAfterEach();
const SIZE = 48;

/** Publishes `n` numbered messages at about `perMs` per ms, waiting while full; returns the payloads by sequence. */
async function publishSteadily(pub: Publisher, n: number, perMs: number, during?: () => void): Promise<Uint8Array[]> {
  const payloads: Uint8Array[] = [];
  const t0 = Date.now();
  while (payloads.length < n) {
    const due = Math.min(n, (Date.now() - t0 + 1) * perMs);
    while (payloads.length < due) {
      const p = numberedPayload(payloads.length, SIZE);
      if (!pub.tryPublish('telemetry.x', p)) break;
      payloads.push(p);
    }
    during?.();
    await sleep(1);
  }
  return payloads;
}

describe('JetStream mode: exactly once through faults', () => {
  it('cuts every 200 ms through the fault proxy: each accepted message stored once; duplicates counted', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'CUTS', subjects: ['telemetry.>'], storage: 'file' });
    const proxy = await startProxy(cleanups, server.port);
    const pub = await startPublisher(
      cleanups,
      { servers: proxy.url, waitForConnect: true, reconnectTimeWait: 50, reconnectJitter: 0, jetstream: true },
      5000,
    );
    let lastCut = Date.now();
    let cuts = 0;
    const payloads = await publishSteadily(pub, 40_000, 20, () => {
      if (Date.now() - lastCut >= 200) {
        proxy.cutAll();
        cuts++;
        lastCut = Date.now();
      }
    });
    await pub.flush({ timeout: 60_000 });
    const s = pub.stats();
    expect(cuts).toBeGreaterThanOrEqual(5);
    expect(s.reconnects).toBeGreaterThanOrEqual(3);
    const check = await checkStream(server.url, 'CUTS', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: s.accepted, distinctMsgIds: s.accepted, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expect(s.resent).toBeGreaterThan(0);
    // Copies the server dropped by Msg-Id: a resend is a duplicate only if its first copy reached the
    // stream before the cut, which a given run may or may not hit (the restart test below forces it).
    expect(s.duplicates).toBeLessThanOrEqual(s.resent);
    expectAccounting(pub, check.count);
  }, 120_000);

  it('server SIGTERM and restart on the same store mid-run, acks of stored messages lost: each accepted message stored once', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'RESTART', subjects: ['telemetry.>'], storage: 'file' });
    const proxy = await startProxy(cleanups, server.port);
    const pub = await startPublisher(
      cleanups,
      { servers: proxy.url, waitForConnect: true, reconnectTimeWait: 100, reconnectJitter: 0, jetstream: true },
      5000,
    );
    let restarted: Promise<void> | undefined;
    const t0 = Date.now();
    const payloads = await publishSteadily(pub, 30_000, 15, () => {
      if (restarted === undefined && Date.now() - t0 > 700) {
        restarted = (async () => {
          // Hold the acks, so that messages the server stores before it stops are not known stored.
          proxy.stallDown();
          await sleep(200);
          await server.stop('SIGTERM');
          proxy.cutAll(); // the held acks are lost with the connection
          proxy.allow();
          await sleep(300);
          await server.restart();
        })();
      }
    });
    await restarted;
    await pub.flush({ timeout: 60_000 });
    const s = pub.stats();
    expect(s.reconnects).toBeGreaterThanOrEqual(1);
    expect(s.resent).toBeGreaterThan(0);
    expect(s.duplicates).toBeGreaterThan(0); // the restarted server still knew their Msg-Ids
    const check = await checkStream(server.url, 'RESTART', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: s.accepted, distinctMsgIds: s.accepted, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expectAccounting(pub, check.count);
  }, 120_000);

  it('no ack within ackTimeout (server → client held): sent again with the same Msg-Id, stored once', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'TIMEOUT', subjects: ['telemetry.>'], storage: 'file' });
    const proxy = await startProxy(cleanups, server.port);
    // Long PING interval: neither nats.js nor the liveness check may end the connection; only ackTimeout acts.
    const pub = await startPublisher(
      cleanups,
      { servers: proxy.url, waitForConnect: true, pingInterval: 30_000, jetstream: { ackTimeout: 300 } },
      5000,
    );
    const payloads: Uint8Array[] = [];
    const publish = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const p = numberedPayload(payloads.length, SIZE);
        pub.publish('telemetry.x', p);
        payloads.push(p);
      }
    };
    publish(2000);
    await pub.flush({ timeout: 10_000 });
    proxy.stallDown();
    publish(1000);
    await sleep(1000); // > ackTimeout: the 1000 go out again, their acks held too
    proxy.allow();
    await pub.flush({ timeout: 20_000 });
    const s = pub.stats();
    expect(s.reconnects).toBe(0);
    expect(s.ackTimeouts).toBeGreaterThanOrEqual(1000);
    // The resent copies, dropped by the stream: their acks come after the originals' (flush waits for those).
    await waitUntil(
      () => pub.stats().duplicates >= 1000,
      10_000,
      () => `duplicates >= 1000, got ${pub.stats().duplicates}`,
    );
    const check = await checkStream(server.url, 'TIMEOUT', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: 3000, distinctMsgIds: 3000, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expectAccounting(pub, check.count);
  }, 60_000);
});

describe('JetStream mode: the ring is the reconnect buffer', () => {
  it('an outage with overflow drop-oldest: the newest messages are stored once, the dropped counted, the identity holds', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'OUTAGE', subjects: ['telemetry.>'], storage: 'file' });
    const pub = await startPublisher(
      cleanups,
      {
        servers: server.url,
        waitForConnect: true,
        reconnectTimeWait: 100,
        reconnectJitter: 0,
        reconnectBufSize: 256 * 1024,
        overflow: 'drop-oldest',
        jetstream: true,
      },
      5000,
    );
    const payloads: Uint8Array[] = [];
    const publish = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const p = numberedPayload(payloads.length, SIZE);
        pub.publish('telemetry.x', p);
        payloads.push(p);
      }
    };
    publish(1000);
    await pub.flush({ timeout: 10_000 });
    await server.stop('SIGTERM');
    await waitUntil(() => pub.status === 'reconnecting', 5000, 'the publisher to see the outage');
    publish(10_000); // ~1.5 MiB of frames into a 256 KiB buffer: the oldest are dropped
    expect(pub.stats().droppedOldest).toBeGreaterThan(0);
    await server.restart();
    await pub.flush({ timeout: 30_000 }).catch((e: unknown) => {
      // flush() reports the messages dropped before it; everything else must be stored by now.
      if ((e as { code?: string }).code !== 'MESSAGES_DROPPED') throw e;
    });
    const s = pub.stats();
    expect(s.pendingMessages).toBe(0);
    const check = await checkStream(server.url, 'OUTAGE', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: s.stored, distinctMsgIds: s.stored, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    // The newest message made it; what is missing is exactly what was dropped.
    expect(check.seqs[check.seqs.length - 1]).toBe(payloads.length - 1);
    expect(s.accepted - check.count).toBe(s.droppedOldest + s.expired);
    expectAccounting(pub, check.count);
  }, 60_000);

  it('an outage longer than maxBufferedAge: stale messages expire unsent, counted; the rest stored once', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'AGE', subjects: ['telemetry.>'], storage: 'file' });
    const pub = await startPublisher(
      cleanups,
      { servers: server.url, waitForConnect: true, reconnectTimeWait: 100, reconnectJitter: 0, maxBufferedAge: 500, jetstream: true },
      5000,
    );
    const payloads: Uint8Array[] = [];
    const publish = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const p = numberedPayload(payloads.length, SIZE);
        pub.publish('telemetry.x', p);
        payloads.push(p);
      }
    };
    publish(500);
    await pub.flush({ timeout: 10_000 });
    await server.stop('SIGTERM');
    await waitUntil(() => pub.status === 'reconnecting', 5000, 'the publisher to see the outage');
    publish(500); // these grow stale during the outage
    await sleep(1200);
    await server.restart();
    await waitUntil(() => pub.status === 'connected', 10_000, 'the publisher to reconnect');
    publish(500); // these are fresh
    await pub.flush({ timeout: 30_000 }).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'MESSAGES_DROPPED') throw e;
    });
    const s = pub.stats();
    expect(s.expired).toBe(500);
    const check = await checkStream(server.url, 'AGE', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: 1000, distinctMsgIds: 1000, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expect(check.seqs.filter((seq) => seq >= 500 && seq < 1000)).toEqual([]); // exactly the stale ones are missing
    expectAccounting(pub, check.count);
  }, 60_000);
});
