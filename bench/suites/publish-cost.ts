/**
 * Suite 1, main-thread publish cost: ns per accepted call of `pub.tryPublish()` and of the nats
 * client's `nc.publish()`, timed by tinybench in batches.
 *
 * Each tinybench iteration times `batch` calls plus one microtask turn (so the nats client's
 * deferred `flushPending()` write, which runs on the main thread, is charged to it), then awaits
 * the client's flush outside the timed window: the ring starts every batch empty and nc.publish()'s
 * outbound buffer never piles up. Refused calls would be excluded and counted.
 *
 * The headline figure is the median of the batch samples, not the mean: on a shared 2-core machine
 * (main thread, worker and nats-server, plus whatever else runs) a batch now and then includes a
 * preemption of a millisecond or more, which says nothing about the publish. The mean is kept too.
 *
 * The ring is the default 8 MiB (a batch is at most ~1 MiB, so nothing is refused), and it is
 * lapped a few times before timing: a fresh ring's first lap pays a page fault per 4 KiB, which a
 * long-running publisher never sees again (with a fresh 256 MiB ring, 1 KiB publishes measured
 * several µs each from page faults alone).
 */
import { connect } from 'nats';
import { Bench } from 'tinybench';
import { createPublisher, type Publisher, type Subject } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { payloadLabel } from '../lib/format.js';
import { progress } from '../lib/progress.js';

/** 'nats-offload (handles)': the same publisher, subjects pre-resolved with `pub.subject()`. */
export type Client = 'nats-offload' | 'nats-offload (handles)' | 'nats';

export interface PublishCostRow {
  readonly client: Client;
  readonly payload: number;
  readonly subjects: number;
  /** Mean ns per accepted call over all samples (preemptions included). */
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Relative margin of error of the mean, percent. */
  readonly rme: number;
  readonly samples: number;
  readonly calls: number;
  readonly refused: number;
}

export interface PublishCostResult {
  readonly batch: number;
  readonly bufferBytes: number;
  /** Messages published to lap the ring before timing. */
  readonly warmupMessages: number;
  readonly rows: PublishCostRow[];
}

interface Publishing {
  publish(subject: string | Subject, payload: Uint8Array): boolean;
  flush(): Promise<void>;
}

export async function runPublishCost(url: string, cfg: BenchConfig['publishCost']): Promise<PublishCostResult> {
  const pub = await createPublisher({ servers: url, reconnectBufSize: cfg.bufferBytes, waitForConnect: true });
  const nc = await connect({ servers: url, name: 'bench-nats' });
  const warmupMessages = await lapRing(pub, cfg.bufferBytes);
  const clients: Record<Client, Publishing> = {
    'nats-offload': { publish: (s, p) => pub.tryPublish(s, p), flush: () => pub.flush() },
    'nats-offload (handles)': { publish: (s, p) => pub.tryPublish(s, p), flush: () => pub.flush() },
    nats: {
      publish: (s, p) => {
        nc.publish(s as string, p);
        return true;
      },
      flush: () => nc.flush(),
    },
  };
  const rows: PublishCostRow[] = [];
  try {
    for (const payloadBytes of cfg.payloads) {
      for (const subjectCount of cfg.subjectCounts) {
        const payload = new Uint8Array(payloadBytes).fill(120);
        const subjects = Array.from({ length: subjectCount }, (_, i) => (subjectCount === 1 ? 'bench.cost' : `bench.cost.${i}`));
        const bench = new Bench({ time: cfg.timeMs, warmupTime: cfg.timeMs / 4, iterations: 32, warmupIterations: 16 });
        const counts = new Map<string, { calls: number; refused: number }>();
        const handles = subjects.map((s) => pub.subject(s));
        // Handles matter only when subjects rotate; with one subject the string path caches it.
        const names: Client[] = subjectCount === 1 ? ['nats-offload', 'nats'] : ['nats-offload', 'nats-offload (handles)', 'nats'];
        for (const client of names) {
          const c = clients[client];
          const list: readonly (string | Subject)[] = client === 'nats-offload (handles)' ? handles : subjects;
          const tally = { calls: 0, refused: 0 };
          counts.set(client, tally);
          const batch = cfg.batch;
          const k = subjects.length;
          bench.add(
            client,
            async () => {
              const t0 = performance.now();
              let ok = 0;
              for (let i = 0; i < batch; i++) if (c.publish(list[i % k]!, payload)) ok++;
              await undefined; // the nats client's queued flushPending() runs here, on this thread
              const dt = performance.now() - t0;
              tally.calls += ok;
              tally.refused += batch - ok;
              return { overriddenDuration: dt / Math.max(ok, 1), overriddenIterationCost: dt };
            },
            { async: true, afterEach: () => c.flush() },
          );
        }
        await bench.run();
        for (const task of bench.tasks) {
          const r = task.result;
          if (r.state !== 'completed') throw new Error(`publish-cost task ${task.name} ended ${r.state}`);
          const tally = counts.get(task.name)!;
          const row: PublishCostRow = {
            client: task.name as Client,
            payload: payloadBytes,
            subjects: subjectCount,
            meanNs: r.latency.mean * 1e6,
            p50Ns: r.latency.p50 * 1e6,
            p99Ns: r.latency.p99 * 1e6,
            rme: r.latency.rme,
            samples: r.latency.samplesCount,
            calls: tally.calls,
            refused: tally.refused,
          };
          rows.push(row);
          progress(
            `publish cost ${payloadLabel(payloadBytes)}, ${subjectCount} subject(s): ${row.client} ` +
              `median ${row.p50Ns.toFixed(1)} ns/call, mean ${row.meanNs.toFixed(1)} (±${row.rme.toFixed(1)}%), ` +
              `${row.samples} batches, ${row.refused} refused`,
          );
        }
      }
    }
  } finally {
    await pub.close();
    await nc.close();
  }
  return { batch: cfg.batch, bufferBytes: cfg.bufferBytes, warmupMessages, rows };
}

/** Touches every page of the ring (frame bytes, and the per-record slots at one per message). */
async function lapRing(pub: Publisher, bufferBytes: number): Promise<number> {
  const payload = new Uint8Array(16);
  // Smallest frames touch the most record slots: about bufferBytes / 11 of them exist.
  const n = Math.ceil(bufferBytes / 11) + 1000;
  for (let i = 0; i < n; ) {
    if (pub.tryPublish('bench.warm', payload)) i++;
    else await pub.ready();
  }
  await pub.flush();
  return n;
}
