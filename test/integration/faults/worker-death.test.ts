/**
 * Fault 6: the worker thread dies, terminated from outside or by an exception thrown inside it.
 * `publish()` must fail with WORKER_DIED from then on (nothing is buffered into a dead ring),
 * an error event and `closed()` report it, and `close()` resolves with the accounting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerDiedError, type Publisher } from '../../../src/index.js';
import {
  Cleanups,
  EventLog,
  SeqStream,
  delivery,
  expectDelivered,
  faultSubscriber,
  flushEventually,
  recordResult,
  startPublisher,
  waitUntil,
} from '../../helpers/faults-harness.js';
import { startNatsServer } from '../../helpers/nats-server.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const cases: { name: string; id: string; kill: (pub: Publisher) => Promise<void> | void }[] = [
  { name: 'terminated from outside', id: 'worker-terminated', kill: (pub) => pub.terminateWorkerForTest() },
  { name: 'throwing inside', id: 'worker-throws', kill: (pub) => pub.crashWorkerForTest() },
];

describe('worker thread dies', () => {
  for (const c of cases) {
    it(`${c.name}: publish fails with WORKER_DIED at once, close() resolves with the accounting`, async () => {
      const server = await startNatsServer();
      cleanups.add(() => server.stop());
      const subject = `faults.worker.${c.id}`;
      const sub = await faultSubscriber({ servers: server.url }, subject, 1_000_000);
      cleanups.add(() => sub.close());
      const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
      const events = new EventLog(pub);
      const stream = new SeqStream(pub, subject);

      // A producer running when the worker dies, plus a flush waiting on it.
      let producerError: unknown;
      const producing = stream.run({ count: 900_000, batch: 2_000, paceMs: 5 }).catch((e: unknown) => {
        producerError = e;
      });
      await waitUntil(() => stream.next >= 20_000, 30_000, 'the first 20 000 messages');
      const pendingFlush = pub.flush();
      pendingFlush.catch(() => {});
      await c.kill(pub);
      await events.waitFor('error', 1, 30_000);
      await producing;

      // From the moment the death is known, every publish fails the same way.
      expect(producerError).toBeInstanceOf(WorkerDiedError);
      for (const attempt of [() => pub.publish(subject, 'x'), () => pub.tryPublish(subject, new Uint8Array(8))]) {
        let err: unknown;
        try {
          attempt();
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(WorkerDiedError);
        expect((err as WorkerDiedError).code).toBe('WORKER_DIED');
      }
      const evErr = events.errors()[0];
      expect(evErr).toBeInstanceOf(WorkerDiedError);
      // A flush asked for before the death either completed first or fails with it; it never hangs.
      const flushOutcome = await pendingFlush.then(() => 'completed' as const, (e: unknown) => e);
      if (flushOutcome !== 'completed') expect(flushOutcome).toBeInstanceOf(WorkerDiedError);
      await expect(pub.flush()).rejects.toBeInstanceOf(WorkerDiedError);
      expect(await pub.closed()).toBeInstanceOf(WorkerDiedError);

      const report = await pub.close({ timeout: 1_000 });
      expect(report.error).toBeInstanceOf(WorkerDiedError);
      expect(report.accepted).toBe(stream.next);
      await flushEventually(sub.nc);
      const d = delivery(sub.counter, report);
      recordResult({
        id: c.id,
        fault: `worker thread ${c.name} while publishing`,
        client: 'nats-offload',
        userSees: `'error' event (WORKER_DIED); publish()/tryPublish()/flush() throw WorkerDiedError; closed() resolves to it; close() reports unsent ${report.unsent}`,
        accepted: report.accepted,
        sent: report.sent,
        unsent: report.unsent,
        rejected: report.rejected,
        resent: report.resent,
        duplicates: d.duplicates,
        lostSilently: d.lostSilently,
        notes: `arrived ${d.distinct}, of which ${d.distinct - report.sent} were unconfirmed (reported unsent, yet delivered)`,
      });
      expectDelivered(d, report);
    });
  }
});
