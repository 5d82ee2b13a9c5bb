/**
 * Suite 2, end-to-end throughput: N messages, timed from the first publish until the server has
 * confirmed the last one (a PONG after it), for
 *   nats-offload  tryPublish() in a loop; on `false` it awaits `pub.ready()` (the library's
 *                 back-pressure signal) and retries (counted as a wait); then `await pub.flush()`.
 *                 Default options (8 MiB ring). One publisher for the suite, its ring lapped first.
 *   nats          nc.publish() in a loop; after every `natsFlushEvery` messages it awaits the previous
 *                 nc.flush() and starts a new one, so its unbounded outbound buffer stays bounded.
 *   raw ceiling   one socket: CONNECT, pre-built PUB frames in 64 KiB writes (waiting for 'drain'
 *                 when the socket says so), then PING and wait for PONG. No client at all.
 *   nats.go       (BENCH_GO=1) the Go client in its own process (bench/go/publisher.go): Publish in a
 *                 loop, then Flush; its CPU is the whole Go process's.
 * Every round runs each client once; the order rotates from round to round, so that drifting load
 * from other processes reaches every client alike. Ratios are per round (runs seconds apart).
 */
import { connect, type NatsConnection } from 'nats';
import { createPublisher, type Publisher } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { payloadLabel, rate, ratio } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { RawNatsConnection, frameLength, pubFrames } from '../lib/raw-nats.js';
import { median } from '../lib/stats.js';
import { GoPublisher } from '../lib/go-publisher.js';
import { SubscriberProcess, type SubscriberResult } from '../lib/subscriber-process.js';
import { cpuSince, cpuTimes, withNewThreads, type CpuTimes } from '../lib/threads.js';

export type ThroughputClient = 'raw' | 'nats-offload' | 'nats' | 'nats.go';

export interface ThroughputRun {
  readonly client: ThroughputClient;
  readonly payload: number;
  readonly round: number;
  readonly messages: number;
  readonly ms: number;
  readonly msgsPerSecond: number;
  /** Bytes that went to the socket: nats-offload's own counter (stats().sentBytes); frames × count for the others. */
  readonly wireBytes: number;
  /** nats-offload: tryPublish() calls that returned false (each followed by one wait). */
  readonly waits: number;
  /** Over the run: main thread, nats-offload's worker, nats-server. */
  readonly cpu: CpuTimes;
}

export interface SubscriberCheck {
  readonly payload: number;
  readonly messages: number;
  readonly msgsPerSecond: number;
  readonly waits: number;
  /** Time from the first publish until the subscriber had every sequence number. */
  readonly allArrivedMs: number;
  readonly subscriber: SubscriberResult;
}

export interface ThroughputResult {
  readonly rounds: number;
  readonly clients: readonly ThroughputClient[];
  /** The Go client's version, when BENCH_GO=1 ran it. */
  readonly goClient: string | undefined;
  readonly runs: ThroughputRun[];
  readonly subscriberCheck: SubscriberCheck | undefined;
}

const SUBJECT = 'bench.tp';
const WRITE_BYTES = 64 * 1024;

interface Clients {
  readonly url: string;
  readonly pub: Publisher;
  readonly workerTids: number[];
  readonly nc: NatsConnection;
  readonly raw: RawNatsConnection;
  readonly go: GoPublisher | undefined;
  readonly serverPid: number | undefined;
}

type Timed = Omit<ThroughputRun, 'client' | 'payload' | 'round'>;

async function runRaw(c: Clients, payload: Uint8Array, n: number): Promise<Timed> {
  const perChunk = Math.max(1, Math.floor(WRITE_BYTES / frameLength(SUBJECT, payload.length)));
  const chunk = pubFrames(SUBJECT, payload, perChunk);
  const frame = chunk.length / perChunk;
  const cpu0 = cpuTimes([], c.serverPid);
  const t0 = performance.now();
  for (let sent = 0; sent < n; ) {
    const count = Math.min(perChunk, n - sent);
    const ok = c.raw.write(count === perChunk ? chunk : chunk.subarray(0, count * frame));
    sent += count;
    if (!ok) await c.raw.drained();
  }
  await c.raw.ping();
  const ms = performance.now() - t0;
  const cpu = cpuSince(cpu0, cpuTimes([], c.serverPid));
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, wireBytes: n * frame, waits: 0, cpu };
}

async function runNats(c: Clients, payload: Uint8Array, n: number, flushEvery: number): Promise<Timed> {
  const nc = c.nc;
  const cpu0 = cpuTimes([], c.serverPid);
  const t0 = performance.now();
  let previous: Promise<void> = Promise.resolve();
  for (let sent = 0; sent < n; ) {
    const end = Math.min(n, sent + flushEvery);
    for (; sent < end; sent++) nc.publish(SUBJECT, payload);
    await previous;
    previous = nc.flush();
  }
  await previous;
  const ms = performance.now() - t0;
  const cpu = cpuSince(cpu0, cpuTimes([], c.serverPid));
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, wireBytes: n * frameLength(SUBJECT, payload.length), waits: 0, cpu };
}

async function runGo(c: Clients, payloadBytes: number, n: number): Promise<Timed> {
  const cpu0 = cpuTimes([], c.serverPid);
  const r = await c.go!.run(payloadBytes, n);
  const cpu = cpuSince(cpu0, cpuTimes([], c.serverPid));
  // The Go process's own CPU stands in the main-thread column; its wall time is its own.
  return {
    messages: n,
    ms: r.ms,
    msgsPerSecond: (n / r.ms) * 1000,
    wireBytes: n * frameLength(SUBJECT, payloadBytes),
    waits: 0,
    cpu: { ...cpu, mainNs: r.cpuNs, processNs: r.cpuNs, mainWaitNs: Number.NaN },
  };
}

/** Publishes `n` messages; with `numbered`, the payload's first 4 bytes carry the sequence (LE). */
async function runOffload(c: Clients, payload: Uint8Array, n: number, numbered = false): Promise<Timed> {
  const pub = c.pub;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const bytes0 = pub.stats().sentBytes;
  let waits = 0;
  const cpu0 = cpuTimes(c.workerTids, c.serverPid);
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    if (numbered) view.setUint32(0, i, true);
    if (pub.tryPublish(SUBJECT, payload)) i++;
    else {
      waits++;
      await pub.ready();
    }
  }
  await pub.flush();
  const ms = performance.now() - t0;
  const cpu = cpuSince(cpu0, cpuTimes(c.workerTids, c.serverPid));
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, wireBytes: pub.stats().sentBytes - bytes0, waits, cpu };
}

async function runWithSubscriber(c: Clients, payloadBytes: number, n: number): Promise<SubscriberCheck> {
  const sub = await SubscriberProcess.start('raw', c.url, SUBJECT);
  try {
    const t0 = performance.now();
    const run = await runOffload(c, new Uint8Array(payloadBytes).fill(120), n, true);
    const got = await sub.report(n, 30_000);
    const allArrivedMs = got.report.missing === 0 ? performance.now() - t0 : Number.NaN;
    return { payload: payloadBytes, messages: n, msgsPerSecond: run.msgsPerSecond, waits: run.waits, allArrivedMs, subscriber: got };
  } finally {
    await sub.stop();
  }
}

/** Per-round a/b of two clients at one payload, in round order. */
export function perRoundRatios(t: ThroughputResult, a: ThroughputClient, b: ThroughputClient, payload: number): number[] {
  const of = (client: ThroughputClient): ThroughputRun[] => t.runs.filter((r) => r.client === client && r.payload === payload);
  const ra = of(a);
  const rb = of(b);
  return ra.map((r, i) => r.msgsPerSecond / (rb[i]?.msgsPerSecond ?? Number.NaN));
}

export async function runThroughput(url: string, cfg: BenchConfig['throughput'], serverPid: number | undefined): Promise<ThroughputResult> {
  // BENCH_WORKER_NICE=10: the same suite with the worker thread at that nice value (README, workerNice).
  const workerNice = Number(process.env['BENCH_WORKER_NICE'] ?? 0);
  if (workerNice !== 0) progress(`throughput: nats-offload's worker at nice ${workerNice} (BENCH_WORKER_NICE)`);
  const { value: pub, tids } = await withNewThreads(() => createPublisher({ servers: url, waitForConnect: true, workerNice }));
  const nc = await connect({ servers: url, name: 'bench-nats' });
  const raw = await RawNatsConnection.open(url);
  const go = cfg.go ? await GoPublisher.start(url, SUBJECT) : undefined;
  const c: Clients = { url, pub, workerTids: tids, nc, raw, go, serverPid };
  const clients: ThroughputClient[] = ['raw', 'nats-offload', 'nats', ...(go === undefined ? [] : ['nats.go' as const])];
  const runs: ThroughputRun[] = [];
  let subscriberCheck: SubscriberCheck | undefined;
  try {
    // Warm the JIT on both threads and lap the ring (frame pages and record slots) before timing;
    // and the nats client and the raw writer too, so that no client's first timed run is its warm-up.
    await runOffload(c, new Uint8Array(16), 800_000);
    await runNats(c, new Uint8Array(16), 200_000, cfg.natsFlushEvery);
    await runRaw(c, new Uint8Array(16), 800_000);
    for (const payloadBytes of cfg.payloads) {
      const payload = new Uint8Array(payloadBytes).fill(120);
      for (let round = 0; round < cfg.rounds; round++) {
        for (let k = 0; k < clients.length; k++) {
          const client = clients[(round + k) % clients.length]!;
          const n = cfg.messages[client === 'nats' ? 'nats' : 'wire'][payloadBytes] ?? 100_000;
          const timed =
            client === 'raw'
              ? await runRaw(c, payload, n)
              : client === 'nats'
                ? await runNats(c, payload, n, cfg.natsFlushEvery)
                : client === 'nats.go'
                  ? await runGo(c, payloadBytes, n)
                  : await runOffload(c, payload, n);
          runs.push({ client, payload: payloadBytes, round, ...timed });
        }
        const t = { rounds: cfg.rounds, clients, goClient: go?.version, runs, subscriberCheck };
        const last = (x: ThroughputClient): number => perRoundRatios(t, 'nats-offload', x, payloadBytes)[round]!;
        const own = runs.find((r) => r.client === 'nats-offload' && r.round === round && r.payload === payloadBytes)!;
        progress(
          `throughput ${payloadLabel(payloadBytes)} round ${round + 1}/${cfg.rounds}: nats-offload ${rate(own.msgsPerSecond)} ` +
            `(${own.waits} waits), ${ratio(last('raw'))} of raw, ${ratio(last('nats'))} of nats` +
            (go === undefined ? '' : `, ${ratio(last('nats.go'))} of nats.go`),
        );
      }
    }
    if (cfg.payloads.includes(cfg.subscriberPayload)) {
      const n = cfg.messages.wire[cfg.subscriberPayload] ?? 1_000_000;
      progress(`throughput ${payloadLabel(cfg.subscriberPayload)}: nats-offload with a counting subscriber process, ${n} messages`);
      subscriberCheck = await runWithSubscriber(c, cfg.subscriberPayload, n);
      const r = subscriberCheck.subscriber.report;
      progress(`  subscriber got ${r.unique}/${n} unique, ${r.duplicates} duplicates, ${r.missing} missing`);
    }
  } finally {
    await pub.close();
    await nc.close();
    await raw.close();
    await go?.close();
  }
  return { rounds: cfg.rounds, clients, goClient: go?.version, runs, subscriberCheck };
}

/** Median msg/s of one client at one payload. */
export function medianRate(t: ThroughputResult, client: ThroughputClient, payload: number): number {
  return median(t.runs.filter((r) => r.client === client && r.payload === payload).map((r) => r.msgsPerSecond));
}
