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
import { mulberry32, shuffle } from './lib/stats.js';
import { NO_CPU, cpuSince, cpuTimes, withNewThreads } from './lib/threads.js';
import type { CostCase, CostCaseResult, CostProcessResult, CostRunConfig, FromCostRun } from './suites/publish-cost.js';

interface Runner {
  readonly cost: CostCase;
  readonly publish: (i: number) => boolean;
  readonly flush: () => Promise<void>;
  /** Resolves when a refused publish may be retried. */
  readonly room: () => Promise<void>;
}

/** `messages` publishes as fast as the client takes them; a flush every FLUSH_EVERY, the previous one awaited. */
async function stream(r: Runner, messages: number): Promise<void> {
  let previous = Promise.resolve();
  for (let i = 0; i < messages; ) {
    if (!r.publish(i)) {
      await r.room();
      continue;
    }
    if (++i % FLUSH_EVERY === 0) {
      await previous;
      previous = r.flush();
    }
  }
  await previous;
  await r.flush();
}

/** The nats client buffers without bound: the throughput suite's flush interval keeps it bounded. */
const FLUSH_EVERY = 16_384;

async function run(cfg: CostRunConfig): Promise<CostProcessResult> {
  const { value: pub, tids } = await withNewThreads(() =>
    createPublisher({ servers: cfg.url, reconnectBufSize: cfg.bufferBytes, waitForConnect: true }),
  );
  const nc = await connect({ servers: cfg.url, name: 'bench-nats' });
  const floor = new NaiveFloor(cfg.bufferBytes);
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
    let step = 0;
    const n = cfg.rotatingSubjects;
    for (const payloadBytes of cfg.payloads) {
      const payload = new Uint8Array(payloadBytes).fill(120);
      floor.prepare([...single, ...rotating], payloadBytes);
      const offload = { flush: (): Promise<void> => pub.flush(), room: (): Promise<void> => pub.ready() };
      const nats = { flush: (): Promise<void> => nc.flush(), room: (): Promise<void> => nc.flush() };
      const none = { flush: (): Promise<void> => Promise.resolve(), room: (): Promise<void> => Promise.resolve() };
      const runners: Runner[] = [
        { cost: { client: 'nats-offload', order: 'one' }, publish: () => pub.tryPublish('bench.cost', payload), ...offload },
        { cost: { client: 'nats-offload', order: 'cycle' }, publish: (i) => pub.tryPublish(rotating[i % n]!, payload), ...offload },
        { cost: { client: 'nats-offload', order: 'random' }, publish: () => pub.tryPublish(randomOrder[step++ & 0xffff]!, payload), ...offload },
        { cost: { client: 'nats-offload (handles)', order: 'cycle' }, publish: (i) => pub.tryPublish(handles[i % n]!, payload), ...offload },
        { cost: { client: 'nats', order: 'one' }, publish: () => (nc.publish('bench.cost', payload), true), ...nats },
        { cost: { client: 'nats', order: 'cycle' }, publish: (i) => (nc.publish(rotating[i % n]!, payload), true), ...nats },
        { cost: { client: 'floor', order: 'one' }, publish: () => floor.publish('bench.cost', payload), ...none },
        { cost: { client: 'floor', order: 'cycle' }, publish: (i) => floor.publish(rotating[i % n]!, payload), ...none },
      ];
      const results: CostCaseResult[] = runners.map((r) => ({ ...r.cost, nsPerCall: [], cpu: NO_CPU, cpuCalls: 0, calls: 0, refused: 0 }));
      const order = runners.map((_, i) => i);
      for (let round = -cfg.warmupRounds; round < cfg.rounds; round++) {
        shuffle(order, random);
        for (const index of order) {
          const r = runners[index]!;
          const t0 = performance.now();
          let ok = 0;
          for (let i = 0; i < cfg.batch; i++) if (r.publish(i)) ok++;
          await undefined;
          const ns = ((performance.now() - t0) * 1e6) / Math.max(ok, 1);
          await r.flush();
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
        const r = runners[index]!;
        if (r.cost.client === 'floor' || r.cost.client === 'nats-offload (handles)' || r.cost.order === 'random') continue;
        const threads = r.cost.client === 'nats' ? [] : tids;
        await sleep(5);
        const cpu0 = cpuTimes(threads);
        await stream(r, cfg.cpuMessages);
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
