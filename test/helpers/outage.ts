/**
 * A publisher whose path to a real nats-server runs through a fault proxy, and a counting
 * subscriber connected straight to the server. The proxy lets a test hold the publisher back
 * after a restart until the subscriber has subscribed again, so "every accepted message arrives"
 * is checked without racing the subscriber's own reconnect.
 */
import { createPublisher, type Publisher, type PublisherOptions } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startNatsServer, type NatsServerProcess } from './nats-server.js';
import { countingSubscriber, type CountingSubscriber } from './sequence.js';
import { waitUntil } from './lifecycle.js';

export { waitUntil };

export interface OutageRig {
  readonly server: NatsServerProcess;
  readonly proxy: FaultProxy;
  readonly pub: Publisher;
  readonly sub: CountingSubscriber;
  /** Stops the server and waits until the publisher has noticed. */
  stopServer(): Promise<void>;
  /** Restarts the server, waits for the subscriber to be subscribed again, then lets the publisher in. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

export async function outageRig(subject: string, capacity: number, options: PublisherOptions): Promise<OutageRig> {
  const server = await startNatsServer();
  const proxy = await startFaultProxy({ targetPort: server.port });
  const sub = await countingSubscriber(server.url, subject, capacity);
  const pub = await createPublisher({ reconnectTimeWait: 100, ...options, servers: proxy.url, waitForConnect: true });
  return {
    server,
    proxy,
    pub,
    sub,
    async stopServer() {
      await server.stop();
      await waitUntil(() => pub.status === 'reconnecting', 15_000, 'the publisher to see the disconnect');
    },
    async restartServer() {
      proxy.refuse(Infinity);
      await server.restart();
      // The subscriber is subscribed again once a flush on its own connection succeeds.
      await waitUntil(() => !sub.nc.isClosed(), 1000, 'subscriber alive');
      for (let ok = false; !ok; ) {
        ok = await sub.nc.flush().then(
          () => true,
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 50));
      }
      proxy.allow();
    },
    async close() {
      await pub.close({ timeout: 1000 });
      await sub.close();
      await proxy.close();
      await server.stop();
    },
  };
}
