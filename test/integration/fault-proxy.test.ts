/**
 * The fault proxy against a plain TCP echo server: each mode is checked on raw bytes so that a
 * NATS test failing behind the proxy can be blamed on the client, not on the proxy.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) await cleanup();
});

async function startEchoServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function startProxy(): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ targetPort: await startEchoServer() });
  cleanups.push(() => proxy.close());
  return proxy;
}

interface Client {
  readonly socket: Socket;
  readonly isClosed: boolean;
  readonly closed: Promise<void>;
  received(): Buffer;
}

async function openClient(port: number): Promise<Client> {
  const socket = connect({ port, host: '127.0.0.1' });
  // A cut surfaces as ECONNRESET; the tests assert on 'close'.
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    get isClosed() {
      return isClosed;
    },
    closed,
    received: () => Buffer.concat(chunks),
  };
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

async function roundTrip(client: Client, text: string): Promise<void> {
  const expected = Buffer.concat([client.received(), Buffer.from(text)]);
  client.socket.write(text);
  await waitUntil(`echo of ${text}`, () => client.received().length >= expected.length);
  expect(client.received().equals(expected)).toBe(true);
}

describe('fault proxy', () => {
  it('forwards bytes both ways and counts them', async () => {
    const proxy = await startProxy();
    expect(proxy.url).toBe(`nats://127.0.0.1:${proxy.port}`);
    const client = await openClient(proxy.port);
    // Larger than the socket buffers, so write() returning false and 'drain' are exercised.
    const payload = randomBytes(4_000_000);
    client.socket.write(payload);
    await waitUntil('the whole echo', () => client.received().length >= payload.length, 5_000);

    expect(client.received().equals(payload)).toBe(true);
    expect(proxy.bytesUp).toBe(payload.length);
    expect(proxy.bytesDown).toBe(payload.length);
    expect(proxy.accepted).toBe(1);
    expect(proxy.connections).toBe(1);

    client.socket.end();
    await client.closed;
    await waitUntil('the pair to go', () => proxy.connections === 0);
  });

  it('cutAll() closes every client and new connections still work', async () => {
    const proxy = await startProxy();
    const first = await openClient(proxy.port);
    const second = await openClient(proxy.port);
    await roundTrip(first, 'one');
    await roundTrip(second, 'two');
    expect(proxy.connections).toBe(2);

    proxy.cutAll();
    expect(proxy.connections).toBe(0);
    await Promise.all([first.closed, second.closed]);

    const third = await openClient(proxy.port);
    await roundTrip(third, 'three');
    expect(proxy.accepted).toBe(3);
    expect(proxy.connections).toBe(1);
  });

  it('refuse(ms) drops new connections during the window and accepts after it', async () => {
    const proxy = await startProxy();
    const start = performance.now();
    proxy.refuse(300);

    const refused = await openClient(proxy.port);
    refused.socket.write('lost');
    await refused.closed;
    expect(refused.received().length).toBe(0);
    expect(proxy.accepted).toBe(1);
    expect(proxy.connections).toBe(0);

    await sleep(Math.max(0, start + 320 - performance.now()));
    const admitted = await openClient(proxy.port);
    await roundTrip(admitted, 'after the window');

    proxy.refuse(Infinity);
    const refusedUntilAllow = await openClient(proxy.port);
    await refusedUntilAllow.closed;
    proxy.allow();
    await roundTrip(await openClient(proxy.port), 'allowed');
    expect(proxy.accepted).toBe(4);
  });

  it('stall() holds bytes on live and new connections and allow() releases them in order', async () => {
    const proxy = await startProxy();
    const live = await openClient(proxy.port);
    await roundTrip(live, 'before;');

    proxy.stall();
    live.socket.write('abc');
    const fresh = await openClient(proxy.port);
    fresh.socket.write('xyz');
    await sleep(200);
    live.socket.write('def');
    await sleep(20);

    expect(live.received().toString()).toBe('before;');
    expect(fresh.received().length).toBe(0);
    expect(live.isClosed || fresh.isClosed).toBe(false);
    expect(proxy.connections).toBe(2);

    proxy.allow();
    await waitUntil('held bytes', () => live.received().length === 13 && fresh.received().length === 3);
    expect(live.received().toString()).toBe('before;abcdef');
    expect(fresh.received().toString()).toBe('xyz');
  });

  it('throttle() slows client-to-server bytes without corrupting them', async () => {
    const proxy = await startProxy();
    const client = await openClient(proxy.port);
    const payload = randomBytes(200_000);

    proxy.throttle(200_000);
    const start = performance.now();
    client.socket.write(payload);
    await waitUntil('the throttled echo', () => client.received().length >= payload.length, 5_000);
    const elapsedMs = performance.now() - start;

    // The proxy exists to shape timing, so this is a behavioural check: ~1 s is expected and
    // only a lower bound with a wide margin is asserted, which a slow machine cannot break.
    expect(elapsedMs).toBeGreaterThanOrEqual(700);
    expect(client.received().equals(payload)).toBe(true);
    expect(proxy.bytesUp).toBe(payload.length);

    proxy.throttle(null);
    await roundTrip(client, 'unthrottled');
  });
});
