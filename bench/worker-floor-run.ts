/**
 * What a worker thread costs in resident memory before any nats-offload code runs, measured as
 * the outage runs measure (a process of its own with its own nats-server, the library imported,
 * RSS after a GC, then once the worker is up and still running): an empty worker thread, and one holding a
 * connection made by the `nats` package (connected and flushed), which is what nats-offload's
 * worker is before its own code. The floor under the outage suite's "At start" column. Prints
 * the growth in bytes.
 *
 *   node --expose-gc dist/bench/worker-floor-run.js empty|nats
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { startNatsServer } from '../scripts/nats-server.js';
import { WORKER_YOUNG_GENERATION_MB } from '../src/publisher.js';
import { sleep } from './lib/progress.js';

export type WorkerFloorKind = 'empty' | 'nats';

async function main(kind: WorkerFloorKind): Promise<number> {
  const server = await startNatsServer();
  const nats = JSON.stringify(createRequire(import.meta.url).resolve('nats'));
  const ready = "require('node:worker_threads').parentPort.postMessage(0);";
  // Each worker must stay alive until it is measured: one whose event loop runs empty exits and
  // frees its isolate, and its RSS then measures a thread that is gone. The connection keeps the
  // nats one alive; the empty one is kept alive by a timer that never fires.
  const body =
    kind === 'nats'
      ? `require(${nats}).connect({ servers: ${JSON.stringify(server.url)} }).then((nc) => nc.flush()).then(() => { ${ready} });`
      : `${ready} setTimeout(() => {}, 2 ** 30);`;
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  // The same young-generation cap as nats-offload's worker (src/publisher.ts).
  const worker = new Worker(body, {
    eval: true,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  await once(worker, 'message');
  await sleep(300);
  const growth = process.memoryUsage().rss - before;
  await worker.terminate();
  await server.stop();
  return growth;
}

const kind = process.argv[2];
if (kind !== 'empty' && kind !== 'nats') {
  console.error('usage: worker-floor-run.js empty|nats');
  process.exit(2);
}
main(kind).then(
  (growth) => {
    process.stdout.write(`${growth}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    console.error('worker floor run failed:', err);
    process.exit(1);
  },
);
