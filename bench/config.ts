/** What each suite runs, in the full run (`npm run bench`) and the smoke run (`BENCH_QUICK=1`). */
import { MiB } from './lib/format.js';

export interface BenchConfig {
  readonly quick: boolean;
  readonly publishCost: {
    /** tinybench time budget per task, ms (the warmup gets a quarter). */
    readonly timeMs: number;
    /** Calls per tinybench iteration; the flush between iterations is outside the timed window. */
    readonly batch: number;
    readonly payloads: readonly number[];
    readonly subjectCounts: readonly number[];
    /** nats-offload's reconnectBufSize for this suite: larger than a batch, so no timed call is refused. */
    readonly bufferBytes: number;
  };
  readonly throughput: {
    readonly payloads: readonly number[];
    /** Messages per run, by payload size. */
    readonly messages: Readonly<Record<number, number>>;
    /** Runs per client and payload; the median is reported. */
    readonly runs: number;
    /** The payload of the configuration checked by a counting subscriber. */
    readonly subscriberPayload: number;
    /** nats client: a flush is started after every this many messages, and the previous one awaited. */
    readonly natsFlushEvery: number;
  };
  readonly eventLoop: {
    readonly ratePerSecond: number;
    readonly payload: number;
    readonly durationMs: number;
  };
  readonly outage: {
    readonly ratePerSecond: number;
    readonly payload: number;
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
  publishCost: { timeMs: 500, batch: 1000, payloads: [16, 128, 1024], subjectCounts: [1, 1000], bufferBytes: 8 * MiB },
  throughput: {
    payloads: [16, 128, 1024],
    messages: { 16: 3_000_000, 128: 2_000_000, 1024: 500_000 },
    runs: 3,
    subscriberPayload: 128,
    natsFlushEvery: 16_384,
  },
  eventLoop: { ratePerSecond: 1_000_000, payload: 128, durationMs: 5000 },
  outage: {
    ratePerSecond: 100_000,
    payload: 128,
    beforeMs: 2000,
    outageMs: 5000,
    afterMs: 5000,
    buffers: [8 * MiB, 24 * MiB],
    sampleMs: 100,
  },
};

const QUICK: BenchConfig = {
  quick: true,
  publishCost: { ...FULL.publishCost, timeMs: 120 },
  throughput: { ...FULL.throughput, messages: { 16: 1_000_000, 128: 600_000, 1024: 150_000 }, runs: 1 },
  eventLoop: { ...FULL.eventLoop, durationMs: 1500 },
  outage: { ...FULL.outage, beforeMs: 1000, outageMs: 2500, afterMs: 2500, buffers: [8 * MiB] },
};

export function benchConfig(quick: boolean): BenchConfig {
  return quick ? QUICK : FULL;
}
