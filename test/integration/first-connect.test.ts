/**
 * createPublisher() resolves before any server answers; publishes made meanwhile are buffered
 * under the same limits and sent once the first connection is made (Go's RetryOnFailedConnect).
 */
import { describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/index.js';
import { cleanupsAfterEach, startCountingSubscriber, startProxy, startPublisher, startServer, waitUntil } from '../helpers/lifecycle.js';
import { seqPayload } from '../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

describe('before the first connection', () => {
  it('buffers publishes and delivers them once a server answers', async () => {
    const server = await startServer(cleanups);
    const proxy = await startProxy(cleanups, server.port);
    proxy.refuse(Infinity);
    const pub = await startPublisher(cleanups, { servers: proxy.url, reconnectTimeWait: 100 });
    expect(pub.status).toBe('connecting');
    for (let i = 0; i < 5000; i++) pub.publish('first.seq', seqPayload(i));
    expect(pub.stats()).toMatchObject({ accepted: 5000, pendingMessages: 5000, sent: 0 });
    const sub = await startCountingSubscriber(cleanups, server.url, 'first.seq', 5000);
    proxy.allow();
    await pub.flush();
    await sub.waitFor(5000);
    expect(sub.counter.report(5000)).toMatchObject({ missing: [], duplicates: 0, outOfOrder: 0 });
    expect(pub.status).toBe('connected');
  });

  it('applies the limits before the first connection too', async () => {
    const pub = await startPublisher(cleanups, { servers: 'nats://127.0.0.1:1', reconnectBufMessages: 10 });
    for (let i = 0; i < 10; i++) pub.publish('x', 'y');
    expect(() => pub.publish('x', 'y')).toThrow(expect.objectContaining({ code: 'BUFFER_FULL', limit: 'messages' }));
  });

  it('waitForConnect resolves only once connected', async () => {
    const server = await startServer(cleanups);
    const proxy = await startProxy(cleanups, server.port);
    proxy.refuse(Infinity);
    let resolved = false;
    const p = createPublisher({ servers: proxy.url, waitForConnect: true, reconnectTimeWait: 100 }).then((x) => {
      resolved = true;
      return x;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(resolved).toBe(false);
    proxy.allow();
    const pub = await p;
    cleanups.add(() => pub.close({ timeout: 500 }));
    expect(pub.status).toBe('connected');
  });

  it('waitForConnect rejects with CONNECTION_ERROR when the connection closes for good', async () => {
    const server = await startServer(cleanups, { config: 'authorization { token: right }' });
    const err = await createPublisher({ servers: server.url, token: 'wrong', waitForConnect: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECTION_ERROR' });
    expect((err as Error).message).toMatch(/AUTHORIZATION_VIOLATION|Authorization/i);
  });

  it('status is reconnecting during an outage', async () => {
    const server = await startServer(cleanups);
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, reconnectTimeWait: 100 });
    await server.stop();
    await waitUntil(() => pub.status === 'reconnecting', 10_000, 'reconnecting');
    await new Promise((r) => setTimeout(r, 100));
    expect(pub.stats().outageMs).toBeGreaterThanOrEqual(100);
    await server.restart();
    await waitUntil(() => pub.status === 'connected', 10_000, 'connected');
    expect(pub.stats().reconnects).toBe(1);
    expect(pub.stats().disconnects).toBe(1);
  });
});
