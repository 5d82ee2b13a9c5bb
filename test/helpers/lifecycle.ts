/**
 * What every integration test needs around its real servers and publishers: a cleanup stack run
 * after each test, polling for a condition with a named timeout, and servers, proxies,
 * publishers and subscribers that the cleanup stack stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { createPublisher, type Publisher, type PublisherOptions } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startNatsServer, type NatsServerProcess, type StartOptions } from './nats-server.js';
import { countingSubscriber, type CountingSubscriber } from './sequence.js';

export { sleep };

/** LIFO cleanup stack: register as things start, run in afterEach. */
export class Cleanups {
  private readonly fns: Array<() => unknown> = [];
  add(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (let fn = this.fns.pop(); fn !== undefined; fn = this.fns.pop()) {
      try {
        await fn();
      } catch {
        // a cleanup failing must not hide the test's own failure or skip the others
      }
    }
  }
}

/** A Cleanups stack that runs after each test of the calling file (call it at the file's top level). */
export function cleanupsAfterEach(): Cleanups {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.run());
  return cleanups;
}

/** Polls `pred` every 10 ms; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(pred: () => boolean, timeoutMs = 15_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}

/** A nats-server stopped by `cleanups`. */
export async function startServer(cleanups: Cleanups, opts: StartOptions = {}): Promise<NatsServerProcess> {
  const server = await startNatsServer(opts);
  cleanups.add(() => server.stop());
  return server;
}

/** A publisher closed (bounded by `closeTimeout` ms) by `cleanups`. */
export async function startPublisher(cleanups: Cleanups, options: PublisherOptions, closeTimeout = 500): Promise<Publisher> {
  const pub = await createPublisher(options);
  cleanups.add(() => pub.close({ timeout: closeTimeout }));
  return pub;
}

/** A counting subscriber (test/helpers/sequence.ts) closed by `cleanups`. */
export async function startCountingSubscriber(
  cleanups: Cleanups,
  server: string,
  subject: string,
  capacity: number,
): Promise<CountingSubscriber> {
  const sub = await countingSubscriber(server, subject, capacity);
  cleanups.add(() => sub.close());
  return sub;
}

/** A fault proxy in front of `targetPort`, closed by `cleanups`. */
export async function startProxy(cleanups: Cleanups, targetPort: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ targetPort });
  cleanups.add(() => proxy.close());
  return proxy;
}
