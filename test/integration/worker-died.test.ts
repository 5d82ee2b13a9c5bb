/** A dead worker is never silent: publish fails with WORKER_DIED and close() still accounts. */
import { afterEach, describe, expect, it } from 'vitest';
import { createPublisher, WorkerDiedError, type Publisher, type PublisherEvent } from '../../src/index.js';
import { startNatsServer, type NatsServerProcess } from '../helpers/nats-server.js';
import { waitUntil } from '../helpers/outage.js';

let server: NatsServerProcess | undefined;
let pub: Publisher | undefined;
afterEach(async () => {
  await pub?.close({ timeout: 500 });
  await server?.stop();
  pub = server = undefined;
});

async function diesWith(kill: (p: Publisher) => unknown): Promise<void> {
  server = await startNatsServer();
  const p = await createPublisher({ servers: server.url, waitForConnect: true });
  pub = p;
  const events: PublisherEvent[] = [];
  void (async () => {
    for await (const e of p.events()) events.push(e);
  })();
  p.publish('a', 'before');
  await p.flush();
  await kill(p);
  await waitUntil(() => events.some((e) => e.type === 'error'), 10_000, 'the error event');
  const err = (events.find((e) => e.type === 'error') as { error: Error }).error;
  expect(err).toBeInstanceOf(WorkerDiedError);
  let thrown: unknown;
  try {
    p.publish('a', 'after');
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(WorkerDiedError);
  expect((thrown as WorkerDiedError).code).toBe('WORKER_DIED');
  await expect(p.flush()).rejects.toMatchObject({ code: 'WORKER_DIED' });
  const report = await p.close();
  expect(report).toMatchObject({ accepted: 1, sent: 1, unsent: 0 });
  expect(report.error).toBeInstanceOf(WorkerDiedError);
  expect(await p.closed()).toBeInstanceOf(WorkerDiedError);
  expect(events.at(-1)?.type).toBe('closed');
}

describe('worker death', () => {
  it('when the worker thread throws', async () => {
    await diesWith((p) => p.crashWorkerForTest());
  });
  it('when the worker thread is terminated', async () => {
    await diesWith((p) => p.terminateWorkerForTest());
  });
});
