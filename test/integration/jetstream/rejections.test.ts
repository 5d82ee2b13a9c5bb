/**
 * What the stream refuses is reported, counted by error code and not retried forever: a subject
 * no stream listens on (503 no responders, retried for noRespondersRetry, then rejected), and a
 * full stream with discard new (err_code 10077, final at once).
 */
import { describe, expect, it } from 'vitest';
import type { PublisherEvent } from '../../../src/index.js';
import { cleanupsAfterEach, startPublisher, waitUntil } from '../../helpers/lifecycle.js';
import { createStream, expectAccounting, numberedPayload, startJetStreamServer, streamState } from '../../helpers/jetstream.js';

const cleanups = cleanupsAfterEach();

type Rejected = Extract<PublisherEvent, { type: 'rejected' }>;

function collectRejections(events: AsyncIterableIterator<PublisherEvent>): Rejected[] {
  const got: Rejected[] = [];
  void (async () => {
    for await (const e of events) if (e.type === 'rejected') got.push(e);
  })();
  return got;
}

describe('JetStream mode: refusals', () => {
  it('no stream for the subject: a rejected event naming it after the retry bound, counted; other subjects keep working', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'GOOD', subjects: ['good.>'], storage: 'memory' });
    const retryMs = 1500;
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, jetstream: { noRespondersRetry: retryMs } });
    const rejected = collectRejections(pub.events());
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) pub.publish('nowhere.x', numberedPayload(i, 16));
    for (let i = 0; i < 1000; i++) pub.publish('good.x', numberedPayload(i, 16));
    await pub.flush({ timeout: 20_000 });
    const waited = Date.now() - t0;
    await waitUntil(() => rejected.reduce((n, e) => n + e.count, 0) === 10, 5000, 'rejected events for 10 messages');
    expect(waited).toBeGreaterThanOrEqual(retryMs); // retried, not given up at the first 503
    expect(rejected.every((e) => e.subject === 'nowhere.x' && e.code === 503)).toBe(true);
    expect(rejected.length).toBeLessThan(10); // coalesced
    const s = pub.stats();
    expect(s.serverRejected).toBe(10);
    expect(s.serverRejectedByCode).toEqual({ 503: 10 });
    expect(s.retries).toBeGreaterThanOrEqual(10);
    // The publisher keeps working, for other subjects too, after the refusals.
    for (let i = 1000; i < 2000; i++) pub.publish('good.x', numberedPayload(i, 16));
    await pub.flush({ timeout: 10_000 });
    const state = await streamState(server.url, 'GOOD');
    expect(state.messages).toBe(2000);
    expectAccounting(pub, state.messages);
  });

  it('stream full with discard new: refused messages counted by error code, reported, not retried', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'SMALL', subjects: ['small.>'], storage: 'file', maxMsgs: 100, discard: 'new' });
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, jetstream: true });
    const rejected = collectRejections(pub.events());
    for (let i = 0; i < 500; i++) pub.publish('small.x', numberedPayload(i, 32));
    await pub.flush({ timeout: 20_000 });
    await waitUntil(() => rejected.reduce((n, e) => n + e.count, 0) === 400, 5000, 'rejected events for 400 messages');
    expect(rejected.every((e) => e.subject === 'small.x' && e.errCode === 10077)).toBe(true);
    const s = pub.stats();
    expect(s).toMatchObject({ stored: 100, serverRejected: 400, retries: 0, ackTimeouts: 0, serverRejectedByCode: { 10077: 400 } });
    const written = s.written;
    expect(written).toBe(500); // each refused message sent once, not in a loop
    const state = await streamState(server.url, 'SMALL');
    expect(state.messages).toBe(100);
    expectAccounting(pub, state.messages);
  });

  it('a wrong expected stream is an error ack (10060), final', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'ACTUAL', subjects: ['a.>'], storage: 'memory' });
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, jetstream: { expectStream: 'OTHER' } });
    for (let i = 0; i < 20; i++) pub.publish('a.x', numberedPayload(i, 16));
    await pub.flush({ timeout: 10_000 });
    expect(pub.stats()).toMatchObject({ stored: 0, serverRejected: 20, serverRejectedByCode: { 10060: 20 } });
    expect((await streamState(server.url, 'ACTUAL')).messages).toBe(0);
  });
});
