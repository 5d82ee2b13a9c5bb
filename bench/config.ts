/** What each suite runs, in the full run (`npm run bench`) and the smoke run (`BENCH_QUICK=1`). */
import { MiB } from './lib/format.js';

export interface BenchConfig {
  readonly quick: boolean;
  readonly publishCost: {
    /** Fresh processes, each measuring every payload; ratios are paired within a process. */
    readonly processes: number;
    /** Rounds per payload and process: each client times one batch per round, in rotated order. */
    readonly rounds: number;
    /** Untimed rounds first, so that every client's code is optimized before timing. */
    readonly warmupRounds: number;
    /** Calls per timed batch; the flush after each batch is outside the timed window. */
    readonly batch: number;
    /** Messages per case in the steady stream whose CPU is read after the timed rounds. */
    readonly cpuMessages: number;
    readonly payloads: readonly number[];
    /** The rotating-subject case (the single-subject case always runs beside it). */
    readonly rotatingSubjects: number;
    /** nats-offload's reconnectBufSize (and the floor's buffer): larger than a batch, so no timed call is refused. */
    readonly bufferBytes: number;
  };
  readonly throughput: {
    readonly payloads: readonly number[];
    /** Messages per run, by client and payload size (the nats client is ~10x slower: fewer messages). */
    readonly messages: Readonly<Record<'wire' | 'nats', Readonly<Record<number, number>>>>;
    /** Rounds; each round runs every client once, the order rotated from round to round. */
    readonly rounds: number;
    /** The payload of the run checked by a counting subscriber. */
    readonly subscriberPayload: number;
    /** nats client: a flush is started after every this many messages, and the previous one awaited. */
    readonly natsFlushEvery: number;
    /** Also run the Go client (BENCH_GO=1; needs Debian's golang-go and golang-github-nats-io-go-nats-dev). */
    readonly go: boolean;
  };
  readonly eventLoop: {
    /** Offered rates, low to high; the verdict uses the highest that both clients sustain. */
    readonly ratesPerSecond: readonly number[];
    readonly payload: number;
    readonly durationMs: number;
    /** The pacer never publishes more than this many milliseconds of backlog in one tick. */
    readonly burstMs: number;
    /** Times the whole sweep is run; figures are medians over them. */
    readonly rounds: number;
  };
  readonly outage: {
    readonly ratePerSecond: number;
    readonly payload: number;
    /** Before the paced phase, nats-offload publishes this many times its buffer as fast as it can. */
    readonly ringLaps: number;
    readonly beforeMs: number;
    readonly outageMs: number;
    readonly afterMs: number;
    /** reconnectBufSize of each nats-offload run (one run each), in bytes. */
    readonly buffers: readonly number[];
    readonly sampleMs: number;
  };
}

const FULL: BenchConfig = {
  quick: false,
  publishCost: {
    processes: 5,
    rounds: 120,
    warmupRounds: 30,
    batch: 1000,
    cpuMessages: 100_000,
    payloads: [16, 128, 1024],
    rotatingSubjects: 1000,
    bufferBytes: 8 * MiB,
  },
  throughput: {
    payloads: [16, 128, 1024],
    messages: {
      wire: { 16: 3_000_000, 128: 1_500_000, 1024: 400_000 },
      nats: { 16: 400_000, 128: 300_000, 1024: 150_000 },
    },
    rounds: 7,
    subscriberPayload: 128,
    natsFlushEvery: 16_384,
    go: false,
  },
  eventLoop: { ratesPerSecond: [100_000, 200_000, 400_000], payload: 128, durationMs: 1500, burstMs: 1, rounds: 3 },
  outage: {
    ratePerSecond: 100_000,
    payload: 128,
    ringLaps: 3,
    beforeMs: 1000,
    outageMs: 4000,
    afterMs: 3000,
    buffers: [8 * MiB, 24 * MiB, 100 * MiB],
    sampleMs: 100,
  },
};

const QUICK: BenchConfig = {
  quick: true,
  publishCost: { ...FULL.publishCost, processes: 2, rounds: 30, warmupRounds: 10, cpuMessages: 30_000 },
  throughput: {
    ...FULL.throughput,
    messages: {
      wire: { 16: 1_000_000, 128: 500_000, 1024: 150_000 },
      nats: { 16: 150_000, 128: 100_000, 1024: 50_000 },
    },
    rounds: 2,
  },
  eventLoop: { ...FULL.eventLoop, ratesPerSecond: [100_000, 400_000], durationMs: 700, rounds: 1 },
  outage: { ...FULL.outage, ringLaps: 1, beforeMs: 500, outageMs: 2000, afterMs: 1500, buffers: [8 * MiB] },
};

export function benchConfig(quick: boolean, go = false): BenchConfig {
  const c = quick ? QUICK : FULL;
  return { ...c, throughput: { ...c.throughput, go } };
}
