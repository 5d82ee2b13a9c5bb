/**
 * Fault 6: the worker thread dies, terminated from outside or by an exception thrown inside it.
 * `publish()` must fail with WORKER_DIED from then on (nothing is buffered into a dead ring),
 * an error event and `closed()` report it, and `close()` resolves with the accounting.
 */
import { describe, expect, it } from 'vitest';
import { WorkerDiedError, type Publisher } from '../../../src/index.js';
import {
  cleanupsAfterEach,
  delivery,
  expectDelivered,
  flushEventually,
  recordOffload,
  startRig,
  startSeqPublisher,
  thrown,
} from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const cases: { name: string; id: string; kill: (pub: Publisher) => Promise<void> | void }[] = [
  { name: 'terminated from outside', id: 'worker-terminated', kill: (pub) => pub.terminateWorkerForTest() },
  { name: 'throwing inside', id: 'worker-throws', kill: (pub) => pub.crashWorkerForTest() },
];

describe('worker thread dies', () => {
  for (const c of cases) {
    it(`${c.name}: publish fails with WORKER_DIED at once, close() resolves with the accounting`, async () => {
      const { server, sub, subject } = await startRig(cleanups, `faults.worker.${c.id}`, 1_000_000);
      const { pub, events, stream } = await startSeqPublisher(cleanups, subject, { servers: server.url, waitForConnect: true });

      // A producer running when the worker dies, plus a flush waiting on it.
      let producerError: unknown;
      const producing = stream.run({ count: 900_000, batch: 2_000, paceMs: 5 }).catch((e: unknown) => {
        producerError = e;
      });
      await stream.waitForAccepted(20_000);
      const pendingFlush = pub.flush();
      pendingFlush.catch(() => {});
      await c.kill(pub);
      await events.waitFor('error', 1, 30_000);
      await producing;

      // From the moment the death is known, every publish fails the same way.
      expect(producerError).toBeInstanceOf(WorkerDiedError);
      for (const attempt of [() => pub.publish(subject, 'x'), () => pub.tryPublish(subject, new Uint8Array(8))]) {
        const err = thrown(attempt);
        expect(err).toBeInstanceOf(WorkerDiedError);
        expect((err as WorkerDiedError).code).toBe('WORKER_DIED');
      }
      const evErr = events.errors()[0];
      expect(evErr).toBeInstanceOf(WorkerDiedError);
      // A flush asked for before the death either completed first or fails with it; it never hangs.
      const flushOutcome = await pendingFlush.then(
        () => 'completed' as const,
        (e: unknown) => e,
      );
      if (flushOutcome !== 'completed') expect(flushOutcome).toBeInstanceOf(WorkerDiedError);
      await expect(pub.flush()).rejects.toBeInstanceOf(WorkerDiedError);
      expect(await pub.closed()).toBeInstanceOf(WorkerDiedError);

      const report = await pub.close({ timeout: 1_000 });
      expect(report.error).toBeInstanceOf(WorkerDiedError);
      expect(report.accepted).toBe(stream.next);
      await flushEventually(sub.nc);
      const d = delivery(sub.counter, report);
      recordOffload(report, d, {
        id: c.id,
        fault: `worker thread ${c.name} while publishing`,
        userSees: `'error' event (WORKER_DIED); publish()/tryPublish()/flush() throw WorkerDiedError; closed() resolves to it; close() reports unsent ${report.unsent}`,
        notes: `arrived ${d.distinct}, of which ${d.distinct - report.sent} were unconfirmed (reported unsent, yet delivered)`,
      });
      expectDelivered(d, report);
    });
  }
});
