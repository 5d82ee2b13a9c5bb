/**
 * Issue 8, defect 7: a buffered message over the server's max_payload is dropped and reported
 * once. Skipped frames are released with the next PONG; a cut before that PONG made the worker
 * see the frame again after the reconnect and raise a second MAX_PAYLOAD_EXCEEDED event.
 * A throttled path holds the PONG back long enough to cut the connection first, every time.
 */
import { describe, expect, it } from 'vitest';
import { MessagesDroppedError, type NatsOffloadError } from '../../../src/index.js';
import { EventLog, cleanupsAfterEach, recordResult, startProxiedRig, startPublisher } from '../../helpers/faults-harness.js';
import { seqPayload } from '../../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

describe('a buffered message over max_payload, across a reconnect', () => {
  it('is reported once, not again when the frames around it are resent', async () => {
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.oversize.resend', 1_000, { server: { config: 'max_payload: 65536\n' } });
    proxy.refuse(Number.POSITIVE_INFINITY);
    const pub = await startPublisher(cleanups, { servers: proxy.url, reconnectTimeWait: 50, reconnectJitter: 0 });
    const events = new EventLog(pub);
    // 800 KB before the oversize frame: at 100 KB/s its PING's PONG takes ~8 s to come back.
    for (let i = 0; i < 200; i++) pub.publish(subject, seqPayload(i, 4096));
    const big = seqPayload(200, 100_000);
    pub.publish(subject, big);
    for (let i = 201; i < 300; i++) pub.publish(subject, seqPayload(i, 64));
    const flushed = pub.flush({ timeout: 30_000 }).catch((e: unknown) => e);
    proxy.throttle(100_000);
    proxy.allow();
    await events.waitFor('error', 1, 15_000);
    expect(pub.stats().sent, 'the PONG came back before the cut').toBe(0);
    proxy.cutAll();
    proxy.throttle(null);
    await events.waitFor('reconnect', 1, 15_000);
    const dropped = await flushed;
    expect(dropped).toBeInstanceOf(MessagesDroppedError);
    expect((dropped as MessagesDroppedError).dropped.oversize).toBe(1);
    await sub.waitFor(299, 15_000);
    const oversizeEvents = events.errors().filter((e) => (e as NatsOffloadError).code === 'MAX_PAYLOAD_EXCEEDED');
    expect(oversizeEvents).toHaveLength(1);
    const s = pub.stats();
    expect(s.droppedOversize).toBe(1);
    expect(s.resent).toBeGreaterThan(0);
    expect(sub.counter.report(300).missing).toEqual([200]);
    recordResult({
      id: 'oversize-reported-once',
      fault: 'a buffered message over max_payload, the connection cut before the PONG that releases it (throttled path)',
      client: 'nats-offload',
      userSees: `one MAX_PAYLOAD_EXCEEDED event (not one per reconnect); droppedOversize ${s.droppedOversize}; flush rejects with MESSAGES_DROPPED { oversize: 1 }`,
      accepted: s.accepted,
      sent: s.sent,
      resent: s.resent,
      droppedOversize: s.droppedOversize,
      lostSilently: 0,
      defect: 7,
    });
  });
});
