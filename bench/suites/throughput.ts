/**
 * Suite 2, end-to-end throughput: N messages, timed from the first publish until the server has
 * confirmed the last one (a PONG after it), for
 *   nats-offload  tryPublish() in a loop; on `false` it awaits `pub.ready()` (the library's
 *                 back-pressure signal: pending fell to the low-water mark) and retries (counted);
 *                 then `await pub.flush()`. Default options (8 MiB ring).
 *   nats-offload (setImmediate)  the same, but on `false` it awaits setImmediate: a busy retry.
 *   nats          nc.publish() in a loop; after every `natsFlushEvery` messages it awaits the previous
 *                 nc.flush() and starts a new one, so its unbounded outbound buffer stays bounded.
 *   raw ceiling   one socket: CONNECT, pre-built PUB frames in 64 KiB writes (waiting for 'drain'
 *                 when the socket says so), then PING and wait for PONG. No client at all.
 * Clients alternate within each round so that noise from other processes spreads evenly.
 */
import { connect } from 'nats';
import { createPublisher, type Publisher } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { payloadLabel, rate } from '../lib/format.js';
import { nextTurn, progress } from '../lib/progress.js';
import { RawNatsConnection, frameLength, pubFrames } from '../lib/raw-nats.js';
import { median } from '../lib/stats.js';
import { SubscriberProcess, type SubscriberResult } from '../lib/subscriber-process.js';
import { startCpuPerMessage, withNewThreads, type CpuPerMessage } from '../lib/threads.js';

export type ThroughputClient = 'raw' | 'nats-offload' | 'nats-offload (setImmediate)' | 'nats';
export const THROUGHPUT_CLIENTS: readonly ThroughputClient[] = ['raw', 'nats-offload', 'nats-offload (setImmediate)', 'nats'];

export interface ThroughputRun {
  readonly messages: number;
  readonly ms: number;
  readonly msgsPerSecond: number;
  /** nats-offload: tryPublish() calls that returned false (each followed by one wait). */
  readonly waits: number;
  readonly cpu: CpuPerMessage;
}

export interface ThroughputRow {
  readonly client: ThroughputClient;
  readonly payload: number;
  readonly runs: ThroughputRun[];
  readonly medianMsgsPerSecond: number;
  readonly medianMBPerSecond: number;
}

export interface SubscriberCheck {
  readonly client: 'nats-offload';
  readonly payload: number;
  readonly messages: number;
  readonly confirmedMs: number;
  readonly msgsPerSecond: number;
  readonly waits: number;
  /** Time from the first publish until the subscriber had every sequence number. */
  readonly allArrivedMs: number;
  readonly subscriber: SubscriberResult;
}

export interface ThroughputResult {
  readonly rows: ThroughputRow[];
  readonly subscriberCheck: SubscriberCheck | undefined;
}

const SUBJECT = 'bench.tp';
const WRITE_BYTES = 64 * 1024;

async function runRaw(url: string, payload: Uint8Array, n: number, serverPid: number | undefined): Promise<ThroughputRun> {
  const conn = await RawNatsConnection.open(url);
  const perChunk = Math.max(1, Math.floor(WRITE_BYTES / frameLength(SUBJECT, payload.length)));
  const chunk = pubFrames(SUBJECT, payload, perChunk);
  const frame = chunk.length / perChunk;
  const cpu = startCpuPerMessage([], serverPid);
  const t0 = performance.now();
  for (let sent = 0; sent < n; ) {
    const count = Math.min(perChunk, n - sent);
    const ok = conn.write(count === perChunk ? chunk : chunk.subarray(0, count * frame));
    sent += count;
    if (!ok) await conn.drained();
  }
  await conn.ping();
  const ms = performance.now() - t0;
  const used = cpu(n);
  await conn.close();
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, waits: 0, cpu: used };
}

async function runNats(url: string, payload: Uint8Array, n: number, flushEvery: number, serverPid: number | undefined): Promise<ThroughputRun> {
  const nc = await connect({ servers: url, name: 'bench-nats' });
  await nc.flush();
  const cpu = startCpuPerMessage([], serverPid);
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
  const used = cpu(n);
  await nc.close();
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, waits: 0, cpu: used };
}

type Wait = 'ready' | 'setImmediate';

/** Publishes `n` messages; with `numbered`, the payload's first 4 bytes carry the sequence (LE). */
async function offloadLoop(
  pub: Publisher,
  payload: Uint8Array,
  n: number,
  numbered: boolean,
  wait: Wait,
  cpu: (messages: number) => CpuPerMessage,
): Promise<ThroughputRun> {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let waits = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; ) {
    if (numbered) view.setUint32(0, i, true);
    if (pub.tryPublish(SUBJECT, payload)) i++;
    else {
      waits++;
      await (wait === 'ready' ? pub.ready() : nextTurn());
    }
  }
  await pub.flush();
  const ms = performance.now() - t0;
  return { messages: n, ms, msgsPerSecond: (n / ms) * 1000, waits, cpu: cpu(n) };
}

async function runOffload(url: string, payload: Uint8Array, n: number, wait: Wait, serverPid: number | undefined): Promise<ThroughputRun> {
  const { value: pub, tids } = await withNewThreads(() => createPublisher({ servers: url, waitForConnect: true }));
  try {
    // Warm the JIT and lap the ring (frame pages, and record slots at one per message) before timing.
    await offloadLoop(pub, payload, Math.min(n, 1_100_000), false, wait, () => NO_CPU);
    return await offloadLoop(pub, payload, n, false, wait, startCpuPerMessage(tids, serverPid));
  } finally {
    await pub.close();
  }
}

const NO_CPU: CpuPerMessage = { mainNs: undefined, workerNs: undefined, serverNs: undefined, mainRunQueueMs: undefined };

async function runWithSubscriber(url: string, payloadBytes: number, n: number): Promise<SubscriberCheck> {
  const sub = await SubscriberProcess.start('raw', url, SUBJECT);
  const pub = await createPublisher({ servers: url, waitForConnect: true });
  try {
    const payload = new Uint8Array(payloadBytes).fill(120);
    const t0 = performance.now();
    const run = await offloadLoop(pub, payload, n, true, 'ready', () => NO_CPU);
    const got = await sub.report(n, 30_000);
    const allArrivedMs = got.report.missing === 0 ? performance.now() - t0 : Number.NaN;
    return {
      client: 'nats-offload',
      payload: payloadBytes,
      messages: n,
      confirmedMs: run.ms,
      msgsPerSecond: run.msgsPerSecond,
      waits: run.waits,
      allArrivedMs,
      subscriber: got,
    };
  } finally {
    await pub.close();
    await sub.stop();
  }
}

export async function runThroughput(url: string, cfg: BenchConfig['throughput'], serverPid: number | undefined): Promise<ThroughputResult> {
  const rows: ThroughputRow[] = [];
  for (const payloadBytes of cfg.payloads) {
    const n = cfg.messages[payloadBytes] ?? 1_000_000;
    const payload = new Uint8Array(payloadBytes).fill(120);
    const runs = new Map<ThroughputClient, ThroughputRun[]>(THROUGHPUT_CLIENTS.map((c) => [c, []]));
    for (let round = 1; round <= cfg.runs; round++) {
      for (const client of THROUGHPUT_CLIENTS) {
        const run =
          client === 'raw'
            ? await runRaw(url, payload, n, serverPid)
            : client === 'nats'
              ? await runNats(url, payload, n, cfg.natsFlushEvery, serverPid)
              : await runOffload(url, payload, n, client === 'nats-offload' ? 'ready' : 'setImmediate', serverPid);
        runs.get(client)!.push(run);
        progress(
          `throughput ${payloadLabel(payloadBytes)} round ${round}/${cfg.runs}: ${client} ${rate(run.msgsPerSecond)}` +
            (client.startsWith('nats-offload') ? ` (${run.waits} waits on a full ring)` : '') +
            (run.cpu.mainNs === undefined ? '' : `; CPU/msg main ${run.cpu.mainNs.toFixed(0)} ns`) +
            (run.cpu.workerNs === undefined ? '' : `, worker ${run.cpu.workerNs.toFixed(0)} ns`) +
            (run.cpu.serverNs === undefined ? '' : `, server ${run.cpu.serverNs.toFixed(0)} ns`),
        );
      }
    }
    for (const client of THROUGHPUT_CLIENTS) {
      const list = runs.get(client)!;
      const m = median(list.map((r) => r.msgsPerSecond));
      rows.push({
        client,
        payload: payloadBytes,
        runs: list,
        medianMsgsPerSecond: m,
        medianMBPerSecond: (m * frameLength(SUBJECT, payloadBytes)) / 1e6,
      });
    }
  }
  let subscriberCheck: SubscriberCheck | undefined;
  if (cfg.payloads.includes(cfg.subscriberPayload)) {
    const n = cfg.messages[cfg.subscriberPayload] ?? 1_000_000;
    progress(`throughput ${payloadLabel(cfg.subscriberPayload)}: nats-offload with a counting subscriber process, ${n} messages`);
    subscriberCheck = await runWithSubscriber(url, cfg.subscriberPayload, n);
    const r = subscriberCheck.subscriber.report;
    progress(
      `  confirmed at ${rate(subscriberCheck.msgsPerSecond)}; subscriber got ${r.unique}/${n} unique, ` +
        `${r.duplicates} duplicates, ${r.missing} missing`,
    );
  }
  return { rows, subscriberCheck };
}
