/**
 * One process of the publish-cost suite (bench/suites/publish-cost.ts): every case of every payload
 * in alternating batches, so that each round gives one paired sample of every ratio.
 *
 *   node dist/bench/cost-run.js '<CostRunConfig as JSON>'
 *
 * A batch is `batch` calls plus one microtask turn (the nats client's deferred write runs there, on
 * this thread), timed with performance.now(); then the client's flush, untimed, so that the ring
 * starts every batch empty and nc.publish()'s outbound buffer never piles up. Each round runs the
 * cases in a fresh random order (seeded), so no case always follows the same neighbour. CPU per
 * thread is read afterwards, over a steady stream of `cpuMessages` per case.
 */
import { connect } from 'nats';
import { createPublisher, type Publisher, type Subject } from '../src/index.js';
import { NaiveFloor } from './lib/floor.js';
import { sleep } from './lib/progress.js';
import { mulberry32 } from '../scripts/prng.js';
import { shuffle } from './lib/stats.js';
import { NO_CPU, cpuSince, cpuTimes, withNewThreads } from './lib/threads.js';
import type { CostCase, CostCaseResult, CostProcessResult, CostRunConfig, FromCostRun } from './suites/publish-cost.js';

interface Runner {
  readonly cost: CostCase;
  /**
   * Up to `count` publishes, stopping at the first refused; returns how many were accepted. Each
   * case has its own loop, as a caller would write it: a shared loop calling a function per case
   * would time a megamorphic call per message as well.
   */
  readonly batch: (count: number) => number;
  readonly flush: () => Promise<void>;
  /** Resolves when a refused publish may be retried. */
  readonly room: () => Promise<void>;
}

/** `messages` publishes as fast as the client takes them; a flush every FLUSH_EVERY, the previous one awaited. */
async function stream(r: Runner, messages: number): Promise<void> {
  let previous = Promise.resolve();
  for (let sent = 0; sent < messages; ) {
    const asked = Math.min(STREAM_BATCH, messages - sent);
    const ok = r.batch(asked);
    sent += ok;
    if (ok < asked) await r.room();
    if (sent % FLUSH_EVERY < ok) {
      await previous;
      previous = r.flush();
    }
  }
  await previous;
  await r.flush();
}

/** The nats client buffers without bound: the throughput suite's flush interval keeps it bounded. */
const FLUSH_EVERY = 16_384;
const STREAM_BATCH = 256;

async function run(cfg: CostRunConfig): Promise<CostProcessResult> {
  const { value: pub, tids } = await withNewThreads(() =>
    createPublisher({ servers: cfg.url, reconnectBufSize: cfg.bufferBytes, waitForConnect: true }),
  );
  const nc = await connect({ servers: cfg.url, name: 'bench-nats' });
  // One floor per case, so that each Map holds only its own subjects.
  const floorOne = new NaiveFloor(cfg.bufferBytes);
  const floorMany = new NaiveFloor(cfg.bufferBytes);
  const cells: CostProcessResult['cells'] = [];
  try {
    await lapRing(pub, cfg.bufferBytes);
    const single = ['bench.cost'];
    // Template strings, as users build them (V8 makes most of these rope strings).
    const rotating = Array.from({ length: cfg.rotatingSubjects }, (_, i) => `bench.cost.${i}`);
    const random = mulberry32(cfg.seed);
    const handles: Subject[] = rotating.map((s) => pub.subject(s));
    // Other names, so that this order does not disturb the cache's guesses for the fixed one.
    const others = Array.from({ length: cfg.rotatingSubjects }, (_, i) => `bench.rand.${i}`);
    const randomOrder = Array.from({ length: 1 << 16 }, () => others[Math.floor(random() * others.length)]!);
    const n = cfg.rotatingSubjects;
    for (const payloadBytes of cfg.payloads) {
      const payload = new Uint8Array(payloadBytes).fill(120);
      floorOne.prepare(single, payloadBytes);
      floorMany.prepare(rotating, payloadBytes);
      const offload = { flush: (): Promise<void> => pub.flush(), room: (): Promise<void> => pub.ready() };
      const nats = { flush: (): Promise<void> => nc.flush(), room: (): Promise<void> => nc.flush() };
      const none = { flush: (): Promise<void> => Promise.resolve(), room: (): Promise<void> => Promise.resolve() };
      // Positions in the rotating lists carry over from batch to batch.
      let cycleAt = 0;
      let randomAt = 0;
      let handleAt = 0;
      let natsAt = 0;
      let floorAt = 0;
      const runners: Runner[] = [
        {
          cost: { client: 'nats-offload', order: 'one' },
          batch: (count) => {
            let ok = 0;
            while (ok < count && pub.tryPublish('bench.cost', payload)) ok++;
            return ok;
          },
          ...offload,
        },
        {
          cost: { client: 'nats-offload', order: 'cycle' },
          batch: (count) => {
            let ok = 0;
            while (ok < count && pub.tryPublish(rotating[cycleAt]!, payload)) {
              ok++;
              if (++cycleAt === n) cycleAt = 0;
            }
            return ok;
          },
          ...offload,
        },
        {
          cost: { client: 'nats-offload', order: 'random' },
          batch: (count) => {
            let ok = 0;
            while (ok < count && pub.tryPublish(randomOrder[randomAt]!, payload)) {
              ok++;
              randomAt = (randomAt + 1) & 0xffff;
            }
            return ok;
          },
          ...offload,
        },
        {
          cost: { client: 'nats-offload (handles)', order: 'cycle' },
          batch: (count) => {
            let ok = 0;
            while (ok < count && pub.tryPublish(handles[handleAt]!, payload)) {
              ok++;
              if (++handleAt === n) handleAt = 0;
            }
            return ok;
          },
          ...offload,
        },
        {
          cost: { client: 'nats', order: 'one' },
          batch: (count) => {
            for (let i = 0; i < count; i++) nc.publish('bench.cost', payload);
            return count;
          },
          ...nats,
        },
        {
          cost: { client: 'nats', order: 'cycle' },
          batch: (count) => {
            for (let i = 0; i < count; i++) {
              nc.publish(rotating[natsAt]!, payload);
              if (++natsAt === n) natsAt = 0;
            }
            return count;
          },
          ...nats,
        },
        {
          cost: { client: 'floor', order: 'one' },
          batch: (count) => {
            for (let i = 0; i < count; i++) floorOne.publish('bench.cost', payload);
            return count;
          },
          ...none,
        },
        {
          cost: { client: 'floor', order: 'cycle' },
          batch: (count) => {
            for (let i = 0; i < count; i++) {
              floorMany.publish(rotating[floorAt]!, payload);
              if (++floorAt === n) floorAt = 0;
            }
            return count;
          },
          ...none,
        },
      ];
      const results: CostCaseResult[] = runners.map((r) => ({ ...r.cost, nsPerCall: [], cpu: NO_CPU, cpuCalls: 0, calls: 0, refused: 0 }));
      const order = runners.map((_, i) => i);
      for (let round = -cfg.warmupRounds; round < cfg.rounds; round++) {
        shuffle(order, random);
        for (const index of order) {
          const runner = runners[index]!;
          const t0 = performance.now();
          const ok = runner.batch(cfg.batch);
          await undefined;
          const ns = ((performance.now() - t0) * 1e6) / Math.max(ok, 1);
          await runner.flush();
          if (round < 0) continue;
          const out = results[index]!;
          out.nsPerCall.push(ns);
          out.calls += ok;
          out.refused += cfg.batch - ok;
        }
      }
      // CPU per call in a steady stream: a window of `cpuMessages` per case, both threads asleep at its ends
      // (Linux brings a thread's counter up to date when it is switched out).
      for (const index of order) {
        const runner = runners[index]!;
        const { client, order: subjects } = runner.cost;
        if (client === 'floor' || client === 'nats-offload (handles)' || subjects === 'random') continue;
        const threads = client === 'nats' ? [] : tids;
        await sleep(5);
        const cpu0 = cpuTimes(threads);
        await stream(runner, cfg.cpuMessages);
        await sleep(5);
        results[index]!.cpu = cpuSince(cpu0, cpuTimes(threads));
        results[index]!.cpuCalls = cfg.cpuMessages;
      }
      cells.push({ payload: payloadBytes, cases: results });
    }
  } finally {
    await pub.close();
    await nc.close();
  }
  return { node: process.version, workerThreads: tids.length, cells };
}

/** Touches every page of the ring before timing: a fresh ring's first lap pays a page fault per 4 KiB. */
async function lapRing(pub: Publisher, bufferBytes: number): Promise<void> {
  const payload = new Uint8Array(16);
  const n = Math.ceil(bufferBytes / 11) + 1000;
  for (let i = 0; i < n; ) {
    if (pub.tryPublish('bench.warm', payload)) i++;
    else await pub.ready();
  }
  await pub.flush();
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: cost-run.js <config JSON>');
  const result = await run(JSON.parse(arg) as CostRunConfig);
  // Exit only once the result has left: process.exit() would drop a message still queued.
  await new Promise<void>((resolve, reject) => {
    process.send?.({ type: 'result', result } satisfies FromCostRun, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('publish-cost run failed:', err);
    process.exit(1);
  },
);
