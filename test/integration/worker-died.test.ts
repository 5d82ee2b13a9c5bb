/** A dead worker is never silent: publish fails with WORKER_DIED and close() still accounts. */
import { describe, expect, it } from 'vitest';
import { WorkerDiedError, type Publisher, type PublisherEvent } from '../../src/index.js';
import { cleanupsAfterEach, startPublisher, startServer, waitUntil } from '../helpers/lifecycle.js';

const cleanups = cleanupsAfterEach();

async function diesWith(kill: (p: Publisher) => unknown): Promise<void> {
  const server = await startServer(cleanups);
  const p = await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
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
