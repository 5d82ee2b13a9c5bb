/**
 * Proves the nats-server harness against real servers, over raw sockets so that a bug in the
 * `nats` client cannot hide (or cause) a harness failure.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, startNatsServer } from '../helpers/nats-server.js';
import type { NatsCluster, NatsServerProcess } from '../helpers/nats-server.js';

/** A raw NATS protocol connection that accumulates everything the server sends. */
class RawConnection {
  private received = '';
  private readonly changed = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.received += data;
      for (const notify of this.changed) notify();
    });
  }

  /** @throws the socket error, e.g. ECONNREFUSED. */
  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(new RawConnection(socket));
      });
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves with the first match of `pattern` in everything received so far. */
  waitFor(pattern: RegExp, timeoutMs = 3_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const match = this.received.match(pattern);
        if (match === null) return;
        clearTimeout(timer);
        this.changed.delete(check);
        resolve(match);
      };
      const timer = setTimeout(() => {
        this.changed.delete(check);
        reject(new Error(`timed out waiting for ${String(pattern)}; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.changed.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function readInfo(port: number): Promise<Record<string, unknown>> {
  const conn = await RawConnection.open(port);
  try {
    const [, json] = await conn.waitFor(/^INFO (\{.*\}) ?\r\n/);
    return JSON.parse(json ?? '') as Record<string, unknown>;
  } finally {
    conn.close();
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  return (await res.json()) as Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('nats-server harness', () => {
  const servers: NatsServerProcess[] = [];
  const clusters: NatsCluster[] = [];
  const connections: RawConnection[] = [];

  afterEach(async () => {
    for (const conn of connections.splice(0)) conn.close();
    await Promise.all([...servers.splice(0).map((s) => s.stop()), ...clusters.splice(0).map((c) => c.stop())]);
  });

  it('starts a server that greets a raw client with INFO', async () => {
    const server = await startNatsServer();
    servers.push(server);
    expect(server.running).toBe(true);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.pid).toBeTypeOf('number');
    const info = await readInfo(server.port);
    expect(info['port']).toBe(server.port);
  });

  it('refuses connections after stop and serves the same port again after restart', async () => {
    const server = await startNatsServer();
    servers.push(server);
    const firstPid = server.pid;

    await server.stop();
    expect(server.running).toBe(false);
    await server.stop(); // idempotent
    await expect(RawConnection.open(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.restart();
    expect(server.running).toBe(true);
    expect(server.pid).not.toBe(firstPid);
    const info = await readInfo(server.port);
    expect(info['port']).toBe(server.port);
  });

  it('rejects an unauthenticated CONNECT when the config requires a user', async () => {
    const server = await startNatsServer({ config: 'authorization { user: a, password: b }\n' });
    servers.push(server);

    const anonymous = await RawConnection.open(server.port);
    connections.push(anonymous);
    await anonymous.waitFor(/^INFO \{.*"auth_required":true.*\} ?\r\n/);
    anonymous.write('CONNECT {"verbose":false}\r\nPING\r\n');
    await anonymous.waitFor(/-ERR 'Authorization Violation'\r\n/);

    const authorized = await RawConnection.open(server.port);
    connections.push(authorized);
    authorized.write('CONNECT {"verbose":false,"user":"a","pass":"b"}\r\nPING\r\n');
    await authorized.waitFor(/PONG\r\n/);
  });

  it('brings up a routed 3-node cluster that carries a message between nodes', async () => {
    const cluster = await startCluster(3);
    clusters.push(cluster);
    expect(cluster.servers).toHaveLength(3);
    for (const monitor of cluster.monitorUrls) {
      expect((await getJson(`${monitor}/routez`))['num_routes']).toBe(2);
    }

    const [a, b] = cluster.servers;
    const [, monitorB] = cluster.monitorUrls;
    if (a === undefined || b === undefined || monitorB === undefined) throw new Error('cluster too small');

    const subscriber = await RawConnection.open(a.port);
    connections.push(subscriber);
    subscriber.write('CONNECT {"verbose":false}\r\nSUB x 1\r\nPING\r\n');
    await subscriber.waitFor(/PONG\r\n/);

    // Interest crosses the route asynchronously; publishing before B knows of it would drop the message.
    const deadline = Date.now() + 5_000;
    for (;;) {
      const routez = await getJson(`${monitorB}/routez?subs=1`);
      const routes = (routez['routes'] ?? []) as { subscriptions_list?: string[] }[];
      if (routes.some((r) => r.subscriptions_list?.includes('x'))) break;
      if (Date.now() > deadline) throw new Error('node B never learned of the subscription on node A');
      await sleep(25);
    }

    const publisher = await RawConnection.open(b.port);
    connections.push(publisher);
    publisher.write('CONNECT {"verbose":false}\r\nPUB x 2\r\nhi\r\nPING\r\n');
    await publisher.waitFor(/PONG\r\n/);
    await subscriber.waitFor(/MSG x 1 2\r\nhi\r\n/);
  });
});
