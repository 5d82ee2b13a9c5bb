/**
 * pino through `pub.destination(subject)`: pino writes synchronously and ignores back-pressure,
 * so across a server outage the destination must refuse and count instead of queueing, keep
 * memory flat however much is logged, and deliver every line it accepted once the server is back.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from 'nats';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NatsOffloadError } from '../../src/index.js';
import { type Cleanups, cleanupsAfterEach, startProxy, startPublisher, startServer, waitUntil } from '../helpers/lifecycle.js';

const cleanups = cleanupsAfterEach();

// A forced collection makes "retained heap" a number instead of whatever garbage the young generation holds.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function retainedBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * A subscriber on its own connection (reconnects forever) that keeps every message's text and
 * counts arrivals per `seq` of the JSON lines that carry one.
 */
async function lineSubscriber(c: Cleanups, server: string, subject: string) {
  const nc = await connect({ servers: server, maxReconnectAttempts: -1, reconnectTimeWait: 100, pingInterval: 1000 });
  c.add(() => nc.close().catch(() => {}));
  const texts: string[] = [];
  const arrivals = new Map<number, number>();
  const decoder = new TextDecoder();
  nc.subscribe(subject, {
    callback: (_err, msg) => {
      const text = decoder.decode(msg.data);
      texts.push(text);
      if (!text.startsWith('{')) return;
      const { seq } = JSON.parse(text) as { seq: number };
      arrivals.set(seq, (arrivals.get(seq) ?? 0) + 1);
    },
  });
  await nc.flush();
  return { nc, texts, arrivals };
}

describe('pino destination', () => {
  it('logs through pino across a server restart: refusals counted, memory flat, every accepted line delivered', async () => {
    const server = await startServer(cleanups);
    const proxy = await startProxy(cleanups, server.port);
    const sub = await lineSubscriber(cleanups, server.url, 'logs.app');
    const limit = 256 * 1024;
    const pub = await startPublisher(cleanups, {
      servers: proxy.url,
      waitForConnect: true,
      reconnectTimeWait: 100,
      reconnectBufSize: limit,
    });
    const dest = pub.destination('logs.app', { flushTimeout: 15_000 });
    const logger = pino(dest);

    const OUTAGE_LINES = 200_000;
    const total = 1000 + OUTAGE_LINES + 1000;
    const accepted = new Uint8Array(total);
    let seq = 0;
    let peakPending = 0;
    const log = (n: number): void => {
      for (const end = seq + n; seq < end; seq++) {
        const before = dest.accepted;
        logger.info({ seq, host: 'web-1', route: '/api/items', ms: seq % 97 }, 'request served');
        if (dest.accepted > before) accepted[seq] = 1;
        if ((seq & 1023) === 0) peakPending = Math.max(peakPending, pub.stats().pendingBytes);
      }
    };

    log(1000);
    await pub.flush();
    await server.stop();
    await waitUntil(() => pub.status === 'reconnecting', 15_000, 'the publisher to see the disconnect');

    const heapBefore = retainedBytes();
    const statsBefore = pub.stats();
    log(OUTAGE_LINES);
    const statsAfter = pub.stats();
    const growth = retainedBytes() - heapBefore;
    // What pino handed over during the outage, accepted or refused (payload bytes, newline excluded).
    const volume = statsAfter.acceptedBytes - statsBefore.acceptedBytes + statsAfter.rejectedBytes - statsBefore.rejectedBytes;
    expect(dest.refused).toBeGreaterThan(0);
    expect(volume).toBeGreaterThan(20 * limit);
    expect(peakPending).toBeLessThanOrEqual(limit);
    expect(growth, `retained heap grew ${growth} bytes while ${volume} bytes were logged`).toBeLessThan(volume / 10);

    // Back: hold the publisher off until the subscriber has resubscribed, as the outage rig does.
    proxy.refuse(Infinity);
    await server.restart();
    await waitUntil(() => !sub.nc.isClosed(), 1000, 'subscriber alive');
    while (
      !(await sub.nc.flush().then(
        () => true,
        () => false,
      ))
    )
      await new Promise((r) => setTimeout(r, 50));
    proxy.allow();
    await waitUntil(() => pub.status === 'connected', 15_000, 'the publisher to reconnect');
    log(1000);
    // logger.flush(cb) reaches destination.flush(): the server has confirmed every accepted line.
    // (Not flushSync(): it blocks this thread, and the fault proxy moves bytes on this thread.)
    expect(await new Promise<Error | undefined>((resolve) => logger.flush(resolve))).toBeUndefined();
    expect(pub.stats().pendingMessages).toBe(0);

    const acceptedCount = accepted.reduce((n, a) => n + a, 0);
    expect(dest.accepted).toBe(acceptedCount);
    expect(dest.accepted + dest.refused).toBe(total);
    expect(dest.failed).toBe(0);
    const s = pub.stats();
    expect(s.accepted).toBe(dest.accepted);
    expect(s.rejected).toBe(dest.refused);
    expect(s.sent).toBe(s.accepted);

    await waitUntil(
      () => sub.arrivals.size >= acceptedCount,
      30_000,
      () => `${acceptedCount} lines, have ${sub.arrivals.size}`,
    );
    expect(sub.texts.filter((text) => text.includes('\n'))).toEqual([]);
    const missing: number[] = [];
    const refusedButArrived: number[] = [];
    let duplicates = 0;
    for (let i = 0; i < total; i++) {
      const seen = sub.arrivals.get(i) ?? 0;
      if (accepted[i] === 1 && seen === 0) missing.push(i);
      if (accepted[i] === 0 && seen > 0) refusedButArrived.push(i);
      if (seen > 1) duplicates += seen - 1;
    }
    expect(missing).toEqual([]);
    expect(refusedButArrived).toEqual([]);
    // Duplicates only from the window in flight at the cut, which the publisher resends and counts.
    expect(duplicates).toBeLessThanOrEqual(s.resent);
  });

  it('publishes one message per line and counts, never throws, what cannot be published', async () => {
    const server = await startServer(cleanups);
    const sub = await lineSubscriber(cleanups, server.url, 'logs.lines');
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
    const dest = pub.destination('logs.lines');
    const logger = pino({ base: null, timestamp: false }, dest);

    expect(dest.write('one\ntwo\n\nthree')).toBe(true);
    expect(dest.write('four\n')).toBe(true);
    // Larger than the server's max_payload (1 MiB by default): counted as failed, with the reason.
    expect(dest.write(`${'x'.repeat(2 * 1024 * 1024)}\n`)).toBe(false);
    expect(dest.lastError?.code).toBe('MAX_PAYLOAD_EXCEEDED');
    // pino calls flushSync() after fatal(): when it returns, the server has confirmed every accepted line.
    logger.fatal('last words');
    expect(pub.stats().pendingMessages).toBe(0);
    expect(dest.flushSync()).toBe(true);
    await waitUntil(() => sub.texts.length >= 5, 10_000, 'five lines');
    await sub.nc.flush();
    expect(sub.texts).toEqual(['one', 'two', 'three', 'four', '{"level":60,"msg":"last words"}']);

    const flushed = await new Promise<Error | undefined>((resolve) => dest.flush(resolve));
    expect(flushed).toBeUndefined();
    await pub.close();
    expect(dest.write('after close\n')).toBe(false);
    expect(dest.lastError?.code).toBe('CLOSED');
    expect({ accepted: dest.accepted, refused: dest.refused, failed: dest.failed }).toEqual({ accepted: 5, refused: 0, failed: 2 });
  });

  it('rejects bad input with typed errors', async () => {
    const server = await startServer(cleanups);
    const pub = await startPublisher(cleanups, { servers: server.url });
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(NatsOffloadError);
        return (err as NatsOffloadError).code;
      }
      return undefined;
    };
    expect(codeOf(() => pub.destination('bad subject'))).toBe('INVALID_SUBJECT');
    expect(codeOf(() => pub.destination('logs.*'))).toBe('INVALID_SUBJECT');
    expect(codeOf(() => pub.destination('logs', { flushTimeout: -1 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => pub.destination('logs', { flushTimeout: 1.5 }))).toBe('INVALID_OPTION');
    expect(codeOf(() => pub.destination('logs', { flushTimeout: '5' as never }))).toBe('INVALID_OPTION');
    const dest = pub.destination('logs');
    expect(codeOf(() => dest.write(42 as never))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => dest.write(Buffer.from('x\n') as never))).toBe('INVALID_PAYLOAD');
  });
});
