/**
 * JetStream suite: N messages into a stream, timed from the first publish until the last one is
 * acked (stored), against one nats-server started here with `-js` (temp store), for
 *   js.publish (awaited)   `await js.publish(subject, payload, { msgID })` one after another
 *   js.publish (windows)   windows of `window` js.publish() promises awaited with Promise.all
 *   reply-inbox ceiling    core nc.publish() with a reply `<inbox>.<i>` and a Nats-Msg-Id header,
 *                          acks counted by one wildcard subscription (at most `ceilingPending` out)
 *   nats-offload           JetStream mode (when built in): tryPublish() in a loop, await flush()
 * for memory and file storage and each payload size. Each run starts on an emptied stream and is
 * checked against the stream's own message count afterwards. Clients alternate order per round.
 * Results go to `<outDir>/jetstream.json` and `.md`; suites 1-4 are not touched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { connect, createInbox, headers, type NatsConnection } from 'nats';
import { createPublisher } from '../../src/index.js';
import { startNatsServer } from '../../scripts/nats-server.js';
import { createStream, streamState } from '../../scripts/jetstream.js';
import { markdownTable, payloadLabel, rate } from '../lib/format.js';
import { GoPublisher } from '../lib/go-publisher.js';
import { progress } from '../lib/progress.js';
import { median, percentile } from '../lib/stats.js';

export type JetStreamClient =
  | 'js.publish (awaited)'
  | 'js.publish (windows)'
  | 'reply-inbox ceiling'
  | 'nats-offload'
  | 'nats.go PublishAsync';

export interface JetStreamConfig {
  readonly storages: readonly ('memory' | 'file')[];
  readonly payloads: readonly number[];
  /** Messages per run, by client (the awaited client is slow, so it gets fewer). */
  readonly messages: Readonly<Record<JetStreamClient, number>>;
  readonly runs: number;
  /** js.publish promises per Promise.all window. */
  readonly window: number;
  /** Reply-inbox ceiling: at most this many published and not yet acked. */
  readonly ceilingPending: number;
  /** Publish cost, core vs JetStream mode: paired rounds. */
  readonly costRounds: number;
  /** Event-loop delay at a rate both clients sustain (128 B, memory stream). */
  readonly eventLoop: { readonly perSecond: number; readonly durationMs: number; readonly runs: number };
}

export const JETSTREAM_QUICK: JetStreamConfig = {
  storages: ['memory', 'file'],
  payloads: [16, 128, 1024],
  messages: {
    'js.publish (awaited)': 1_000,
    'js.publish (windows)': 10_000,
    'reply-inbox ceiling': 50_000,
    'nats-offload': 50_000,
    'nats.go PublishAsync': 50_000,
  },
  runs: 1,
  window: 1000,
  ceilingPending: 4000,
  costRounds: 40,
  eventLoop: { perSecond: 10_000, durationMs: 2000, runs: 2 },
};

export const JETSTREAM_FULL: JetStreamConfig = {
  ...JETSTREAM_QUICK,
  // About a second per run for every client (the default `npm run bench` stays near 3 minutes).
  messages: {
    'js.publish (awaited)': 3_000,
    'js.publish (windows)': 30_000,
    'reply-inbox ceiling': 120_000,
    'nats-offload': 120_000,
    'nats.go PublishAsync': 120_000,
  },
  runs: 3,
  costRounds: 150,
  eventLoop: { perSecond: 10_000, durationMs: 4000, runs: 3 },
};

export interface JetStreamRow {
  readonly client: JetStreamClient;
  readonly storage: 'memory' | 'file';
  readonly payload: number;
  readonly messages: number;
  readonly msgsPerSecond: number[];
  readonly medianMsgsPerSecond: number;
  /** The stream's message count after each run (must equal `messages`). */
  readonly streamCounts: number[];
}

export interface PublishCostRow {
  readonly payload: number;
  /** ns per tryPublish() call, one figure per round (batches of `batch` calls; flush outside the timing). */
  readonly coreNs: number[];
  readonly jetstreamNs: number[];
  /** Per round: JetStream-mode ns / core-mode ns (paired, sides alternating). */
  readonly ratios: number[];
  readonly batch: number;
}

export interface EventLoopRow {
  readonly client: 'js.publish (paced)' | 'nats-offload';
  readonly offeredPerSecond: number;
  /** Messages acked (stored) per second over the window. */
  readonly storedPerSecond: number;
  /** Event-loop delay beyond the 1 ms sampling interval, ms: medians over the runs. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  /** Each run's p99, in the order run (the clients alternate). */
  readonly p99Runs: number[];
}

export interface JetStreamResult {
  readonly serverVersion: string;
  readonly rows: JetStreamRow[];
  readonly publishCost: PublishCostRow[];
  readonly eventLoop: EventLoopRow[];
}

const STREAM = 'BENCH';
const SUBJECT = 'bench.js';

/**
 * A client: connected (untimed), then `run` publishes `n` messages of `payload` into the stream and
 * resolves when all are acked (timed), then `close` (untimed).
 */
interface ClientRun {
  run(payload: Uint8Array, n: number): Promise<void>;
  close(): Promise<void>;
}
type Runner = (url: string, config: JetStreamConfig) => Promise<ClientRun>;

/** A nats.js connection around `run`. */
async function natsClient(url: string, run: (nc: NatsConnection, payload: Uint8Array, n: number) => Promise<void>): Promise<ClientRun> {
  const nc = await connect({ servers: url, name: 'bench-jetstream' });
  await nc.flush();
  return { run: (payload, n) => run(nc, payload, n), close: () => nc.close() };
}

const runners: Partial<Record<JetStreamClient, Runner>> = {
  'js.publish (awaited)': (url) =>
    natsClient(url, async (nc, payload, n) => {
      const js = nc.jetstream();
      for (let i = 0; i < n; i++) await js.publish(SUBJECT, payload, { msgID: `a-${i}` });
    }),
  'js.publish (windows)': (url, config) =>
    natsClient(url, async (nc, payload, n) => {
      const js = nc.jetstream();
      for (let i = 0; i < n; ) {
        const batch: Promise<unknown>[] = [];
        for (const end = Math.min(n, i + config.window); i < end; i++) batch.push(js.publish(SUBJECT, payload, { msgID: `w-${i}` }));
        await Promise.all(batch);
      }
    }),
  'reply-inbox ceiling': (url, config) =>
    natsClient(url, async (nc, payload, n) => {
      const inbox = createInbox();
      let acked = 0;
      let failed = 0;
      let wake: () => void = () => {};
      nc.subscribe(`${inbox}.*`, {
        callback: (_err, m) => {
          if (m.data.length === 0) failed++;
          acked++;
          wake();
        },
      });
      await nc.flush();
      for (let i = 0; i < n; i++) {
        while (i - acked >= config.ceilingPending) await new Promise<void>((r) => (wake = r));
        const h = headers();
        h.set('Nats-Msg-Id', `c-${i}`);
        nc.publish(SUBJECT, payload, { reply: `${inbox}.${i}`, headers: h });
      }
      while (acked < n) await new Promise<void>((r) => (wake = r));
      if (failed > 0) throw new Error(`reply-inbox ceiling: ${failed} replies were not acks`);
    }),
  // JetStream mode with defaults (Msg-Id per message, 4000 pending acks): tryPublish() in a loop,
  // awaiting ready() when the buffer is full, then flush() (every message stored).
  'nats-offload': async (url) => {
    const pub = await createPublisher({ servers: url, waitForConnect: true, jetstream: true });
    return {
      run: async (payload, n) => {
        const stored = pub.stats().stored;
        for (let i = 0; i < n; ) {
          if (pub.tryPublish(SUBJECT, payload)) i++;
          else await pub.ready();
        }
        await pub.flush();
        const s = pub.stats();
        if (s.stored - stored !== n) throw new Error(`nats-offload: ${s.stored - stored} of ${n} stored (${s.serverRejected} rejected)`);
      },
      close: async () => {
        await pub.close();
      },
    };
  },
};

// Go's PublishAsync (BENCH_GO=1): a Msg-Id per message, 4000 pending, every future checked.
if (process.env['BENCH_GO'] === '1') {
  runners['nats.go PublishAsync'] = async (url) => {
    const go = await GoPublisher.start(url, SUBJECT);
    return {
      run: async (payload, n) => {
        await go.run(payload.length, n, true);
      },
      close: () => go.close(),
    };
  };
}

async function withNats(url: string, fn: (nc: NatsConnection) => Promise<void>): Promise<void> {
  const nc = await connect({ servers: url, name: 'bench-jetstream' });
  try {
    await fn(nc);
  } finally {
    await nc.close();
  }
}

/** The suite as `npm run bench` runs it: prints the table, writes the files. */
export async function runJetStreamSuite(quick: boolean, outDir: string): Promise<void> {
  process.stdout.write(`\n${renderJetStream(await runJetStream(quick ? JETSTREAM_QUICK : JETSTREAM_FULL, outDir))}`);
}

export async function runJetStream(config: JetStreamConfig, outDir: string): Promise<JetStreamResult> {
  const server = await startNatsServer({ jetstream: true });
  progress(`jetstream: nats-server -js on ${server.url} (store ${server.storeDir})`);
  const rows: JetStreamRow[] = [];
  try {
    const nc = await connect({ servers: server.url });
    const serverVersion = nc.info?.version ?? 'unknown';
    await nc.close();
    const clients = (Object.keys(runners) as JetStreamClient[]).filter((c) => runners[c] !== undefined);
    for (const storage of config.storages) {
      for (const size of config.payloads) {
        const payload = new Uint8Array(size).fill(120);
        const byClient = new Map<JetStreamClient, { rates: number[]; counts: number[] }>();
        for (let round = 0; round < config.runs; round++) {
          for (let k = 0; k < clients.length; k++) {
            const client = clients[(round + k) % clients.length]!;
            const n = config.messages[client];
            // A fresh stream per run: every run starts empty, and its count is its own.
            await createStream(server.url, { name: STREAM, subjects: [SUBJECT], storage, duplicateWindowMs: 120_000 });
            const c = await runners[client]!(server.url, config);
            let ms: number;
            try {
              const t0 = performance.now();
              await c.run(payload, n);
              ms = performance.now() - t0;
            } finally {
              await c.close();
            }
            const count = (await streamState(server.url, STREAM)).messages;
            await deleteBenchStream(server.url);
            const entry = byClient.get(client) ?? { rates: [], counts: [] };
            entry.rates.push((n / ms) * 1000);
            entry.counts.push(count);
            byClient.set(client, entry);
            progress(`jetstream ${storage} ${payloadLabel(size)} ${client}: ${rate((n / ms) * 1000)} (stream holds ${count} of ${n})`);
          }
        }
        for (const [client, e] of byClient) {
          rows.push({
            client,
            storage,
            payload: size,
            messages: config.messages[client],
            msgsPerSecond: e.rates,
            medianMsgsPerSecond: median(e.rates),
            streamCounts: e.counts,
          });
        }
      }
    }
    const publishCost = await runPublishCost(server.url, config);
    const eventLoop = await runEventLoop(server.url, config);
    const result = { serverVersion, rows, publishCost, eventLoop };
    writeJetStreamResults(outDir, result);
    return result;
  } finally {
    await server.dispose();
  }
}

/** Calls per timed batch in the publish-cost comparison. */
const COST_BATCH = 1000;

/**
 * Main-thread cost of one tryPublish() in JetStream mode against core mode: two publishers on the
 * same server, batches of COST_BATCH calls timed in total, a flush between batches (not timed),
 * sides alternating each round. Batches this short (~50-150 µs) are seldom preempted, so the
 * median of the per-round ratios is the calls' cost, not the scheduler's: with batches of ~4 MiB
 * (~30,000 calls), each batch ran while the worker, the server and its acks competed for the 2
 * cores, and the ratios of one run spread from 0.4x to 6x. Core publishes go to a subject no
 * stream listens on.
 */
async function runPublishCost(url: string, config: JetStreamConfig): Promise<PublishCostRow[]> {
  await createStream(url, { name: 'COST', subjects: ['cost.js'], storage: 'memory', maxMsgs: 100_000 });
  const core = await createPublisher({ servers: url, waitForConnect: true });
  const js = await createPublisher({ servers: url, waitForConnect: true, jetstream: true });
  const rows: PublishCostRow[] = [];
  try {
    for (const size of config.payloads) {
      const payload = new Uint8Array(size).fill(120);
      const batch = COST_BATCH;
      const coreNs: number[] = [];
      const jetstreamNs: number[] = [];
      const timeBatch = async (pub: typeof core, subject: string): Promise<number> => {
        // Untimed first: the flush let the worker sleep, and the call that wakes it (Atomics.notify,
        // a fixed cost in both modes) would pull the ratio towards 1.
        for (let i = 0; i < 32; i++) pub.tryPublish(subject, payload);
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < batch; i++)
          if (!pub.tryPublish(subject, payload)) throw new Error('publish cost: buffer full; lower the batch');
        const ns = Number(process.hrtime.bigint() - t0) / batch;
        await pub.flush();
        return ns;
      };
      await timeBatch(core, 'cost.core'); // warm-up
      await timeBatch(js, 'cost.js');
      for (let round = 0; round < config.costRounds; round++) {
        if (round % 2 === 0) {
          coreNs.push(await timeBatch(core, 'cost.core'));
          jetstreamNs.push(await timeBatch(js, 'cost.js'));
        } else {
          jetstreamNs.push(await timeBatch(js, 'cost.js'));
          coreNs.push(await timeBatch(core, 'cost.core'));
        }
      }
      const ratios = jetstreamNs.map((j, i) => j / coreNs[i]!);
      rows.push({ payload: size, coreNs, jetstreamNs, ratios, batch });
      progress(
        `jetstream publish cost ${payloadLabel(size)}: core ${median(coreNs).toFixed(0)} ns, JetStream mode ${median(jetstreamNs).toFixed(0)} ns (${median(ratios).toFixed(2)}x)`,
      );
    }
  } finally {
    await core.close();
    await js.close();
  }
  return rows;
}

/**
 * Main-thread freedom at a rate both sustain: a 1 ms pacer publishes what is due (128 B) into a
 * memory stream, `js.publish()` promises (at most 4,000 unacked, as nats-offload's default) or
 * nats-offload's tryPublish(); monitorEventLoopDelay samples the loop every 1 ms. The clients
 * alternate for `runs` rounds (a p99 of one short run is mostly what the OS did meanwhile), and
 * each row gives the medians with every run's p99.
 */
async function runEventLoop(url: string, config: JetStreamConfig): Promise<EventLoopRow[]> {
  const { perSecond, durationMs, runs } = config.eventLoop;
  const payload = new Uint8Array(128).fill(120);
  const pace = async (publish: () => boolean): Promise<{ p50: number; p99: number; published: number }> => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    let published = 0;
    while (performance.now() - t0 < durationMs) {
      const due = Math.floor(((performance.now() - t0) * perSecond) / 1000);
      while (published < due && publish()) published++;
      await new Promise((r) => setTimeout(r, 1));
    }
    h.disable();
    return { p50: Math.max(0, h.percentile(50) / 1e6 - 1), p99: Math.max(0, h.percentile(99) / 1e6 - 1), published };
  };
  interface Run {
    readonly p50: number;
    readonly p99: number;
    readonly storedPerSecond: number;
  }
  const natsRun = async (): Promise<Run> => {
    const nc = await connect({ servers: url, name: 'bench-jetstream-el' });
    const js = nc.jetstream();
    let pending = 0;
    let stored = 0;
    let sent = 0;
    const t0 = performance.now();
    const r = await pace(() => {
      if (pending >= 4000) return false;
      pending++;
      js.publish('el.nats', payload, { msgID: `el-${sent++}` }).then(
        () => {
          pending--;
          stored++;
        },
        () => pending--,
      );
      return true;
    });
    while (pending > 0) await new Promise((res) => setTimeout(res, 5));
    const storedPerSecond = (stored / (performance.now() - t0)) * 1000;
    await nc.close();
    return { p50: r.p50, p99: r.p99, storedPerSecond };
  };
  const offloadRun = async (): Promise<Run> => {
    const pub = await createPublisher({ servers: url, waitForConnect: true, jetstream: true });
    const t0 = performance.now();
    const r = await pace(() => pub.tryPublish('el.offload', payload));
    await pub.flush();
    const storedPerSecond = (pub.stats().stored / (performance.now() - t0)) * 1000;
    await pub.close();
    return { p50: r.p50, p99: r.p99, storedPerSecond };
  };
  await createStream(url, { name: 'EL', subjects: ['el.>'], storage: 'memory' });
  const natsRuns: Run[] = [];
  const offloadRuns: Run[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      natsRuns.push(await natsRun());
      offloadRuns.push(await offloadRun());
    } else {
      offloadRuns.push(await offloadRun());
      natsRuns.push(await natsRun());
    }
  }
  const row = (client: EventLoopRow['client'], rs: Run[]): EventLoopRow => ({
    client,
    offeredPerSecond: perSecond,
    storedPerSecond: median(rs.map((x) => x.storedPerSecond)),
    delayP50Ms: median(rs.map((x) => x.p50)),
    delayP99Ms: median(rs.map((x) => x.p99)),
    p99Runs: rs.map((x) => x.p99),
  });
  const rows = [row('js.publish (paced)', natsRuns), row('nats-offload', offloadRuns)];
  for (const row of rows)
    progress(`jetstream event loop ${row.client}: p99 ${row.delayP99Ms.toFixed(2)} ms at ${rate(row.storedPerSecond)} stored`);
  return rows;
}

async function deleteBenchStream(url: string): Promise<void> {
  await withNats(url, async (nc) => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM);
  });
}

/** The table: msg/s by client, storage and payload, with each run's figure and the ratio to the ceiling. */
export function renderJetStream(result: JetStreamResult): string {
  const ceiling = (r: JetStreamRow): number =>
    result.rows.find((c) => c.client === 'reply-inbox ceiling' && c.storage === r.storage && c.payload === r.payload)
      ?.medianMsgsPerSecond ?? Number.NaN;
  const table = markdownTable(
    ['storage', '>payload', 'client', '>msgs', '>median msg/s', 'runs', '>of ceiling', 'stream count ok'],
    result.rows.map((r) => [
      r.storage,
      payloadLabel(r.payload),
      r.client,
      String(r.messages),
      rate(r.medianMsgsPerSecond),
      r.msgsPerSecond.map((x) => rate(x)).join(', '),
      `${((r.medianMsgsPerSecond / ceiling(r)) * 100).toFixed(0)}%`,
      r.streamCounts.every((c) => c === r.messages) ? 'yes' : `NO (${r.streamCounts.join(', ')})`,
    ]),
  );
  const range = (xs: number[], f: (x: number) => string): string => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
  const cost = markdownTable(
    [
      '>payload',
      '>core ns/publish',
      '>JetStream mode ns/publish',
      '>ratio (median)',
      'middle half of ratios',
      'ratio range',
      '>rounds',
      'verdict',
    ],
    result.publishCost.map((r) => [
      payloadLabel(r.payload),
      median(r.coreNs).toFixed(0),
      median(r.jetstreamNs).toFixed(0),
      `${median(r.ratios).toFixed(2)}×`,
      `${percentile(r.ratios, 0.25).toFixed(2)}×–${percentile(r.ratios, 0.75).toFixed(2)}×`,
      range(r.ratios, (x) => `${x.toFixed(2)}×`),
      String(r.ratios.length),
      median(r.ratios) <= 1.5 ? 'met' : '**not met**',
    ]),
  );
  const el = markdownTable(
    ['client', '>offered msg/s', '>stored msg/s', '>delay p50 ms', '>delay p99 ms', 'p99 of each run, ms'],
    result.eventLoop.map((r) => [
      r.client,
      rate(r.offeredPerSecond),
      rate(r.storedPerSecond),
      r.delayP50Ms.toFixed(2),
      r.delayP99Ms.toFixed(2),
      r.p99Runs.map((x) => x.toFixed(2)).join(', '),
    ]),
  );
  const [natsEl, offloadEl] = result.eventLoop;
  const elRatio = natsEl !== undefined && offloadEl !== undefined ? natsEl.delayP99Ms / offloadEl.delayP99Ms : Number.NaN;
  // Delays are beyond the 1 ms sampling interval, floored at 0: a median of 0 is below what the monitor resolves.
  const elVerdict =
    offloadEl !== undefined && offloadEl.delayP99Ms === 0
      ? `nats-offload's p99 is within the 1 ms sampling interval (nats: ${natsEl?.delayP99Ms.toFixed(2)} ms): met.`
      : `p99 ratio (median of each client's runs), nats / nats-offload: ${elRatio.toFixed(2)}× — ${elRatio >= 5 ? 'met' : '**not met**'}.`;
  return (
    `## JetStream publish (nats-server ${result.serverVersion}, -js, Nats-Msg-Id on every message)\n\n` +
    `Messages per second from the first publish until the last is acked (stored); each run on a fresh stream, ` +
    `whose own message count is checked afterwards. "Reply-inbox ceiling" is the reference run: core \`nc.publish()\` with a ` +
    `reply inbox and a Nats-Msg-Id header, acks counted by one subscription, at most ${JETSTREAM_FULL.ceilingPending.toLocaleString('en-US')} ` +
    `unacked; a reference, not a bound (a client with a different window can exceed it).\n\n${table}\n\n` +
    `### Main-thread publish cost: JetStream mode against core mode (target: within 1.5×)\n\n` +
    `ns per tryPublish() call, batches of ${COST_BATCH.toLocaleString('en-US')} calls, flush between batches untimed, sides alternating each round; ratio = median of the per-round ratios.\n\n${cost}\n\n` +
    `### Event-loop delay while publishing (128 B, memory stream; target: nats-offload's p99 ≤ 1/5 of the nats client's)\n\n` +
    `Clients alternate, ${result.eventLoop[0]?.p99Runs.length ?? 0} runs each; the figures are medians over the runs.\n\n${el}\n\n${elVerdict}\n`
  );
}

function writeJetStreamResults(outDir: string, result: JetStreamResult): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'jetstream.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, 'jetstream.md'), renderJetStream(result));
}
