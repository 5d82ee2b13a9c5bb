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
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createInbox, headers, type NatsConnection } from 'nats';
import { startNatsServer } from '../../scripts/nats-server.js';
import { createStream, streamState } from '../../scripts/jetstream.js';
import { markdownTable, payloadLabel, rate } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { median } from '../lib/stats.js';

export type JetStreamClient = 'js.publish (awaited)' | 'js.publish (windows)' | 'reply-inbox ceiling' | 'nats-offload';

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
}

export const JETSTREAM_QUICK: JetStreamConfig = {
  storages: ['memory', 'file'],
  payloads: [16, 128, 1024],
  messages: { 'js.publish (awaited)': 1_000, 'js.publish (windows)': 10_000, 'reply-inbox ceiling': 50_000, 'nats-offload': 50_000 },
  runs: 1,
  window: 1000,
  ceilingPending: 4000,
};

export const JETSTREAM_FULL: JetStreamConfig = {
  ...JETSTREAM_QUICK,
  messages: { 'js.publish (awaited)': 5_000, 'js.publish (windows)': 50_000, 'reply-inbox ceiling': 200_000, 'nats-offload': 200_000 },
  runs: 3,
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

export interface JetStreamResult {
  readonly serverVersion: string;
  readonly rows: JetStreamRow[];
}

const STREAM = 'BENCH';
const SUBJECT = 'bench.js';

/** A client run: publishes `n` messages of `payload` into the stream, resolves when all are acked. */
type Runner = (url: string, payload: Uint8Array, n: number, config: JetStreamConfig) => Promise<void>;

const runners: Partial<Record<JetStreamClient, Runner>> = {
  'js.publish (awaited)': async (url, payload, n) => {
    await withNats(url, async (nc) => {
      const js = nc.jetstream();
      for (let i = 0; i < n; i++) await js.publish(SUBJECT, payload, { msgID: `a-${i}` });
    });
  },
  'js.publish (windows)': async (url, payload, n, config) => {
    await withNats(url, async (nc) => {
      const js = nc.jetstream();
      for (let i = 0; i < n; ) {
        const batch: Promise<unknown>[] = [];
        for (const end = Math.min(n, i + config.window); i < end; i++) batch.push(js.publish(SUBJECT, payload, { msgID: `w-${i}` }));
        await Promise.all(batch);
      }
    });
  },
  'reply-inbox ceiling': async (url, payload, n, config) => {
    await withNats(url, async (nc) => {
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
    });
  },
};

/** Registers nats-offload's JetStream mode once it exists (phase 2 of issue 9). */
export function registerRunner(client: JetStreamClient, runner: Runner): void {
  runners[client] = runner;
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
            const t0 = performance.now();
            await runners[client]!(server.url, payload, n, config);
            const ms = performance.now() - t0;
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
          rows.push({ client, storage, payload: size, messages: config.messages[client], msgsPerSecond: e.rates, medianMsgsPerSecond: median(e.rates), streamCounts: e.counts });
        }
      }
    }
    const result = { serverVersion, rows };
    writeJetStreamResults(outDir, result);
    return result;
  } finally {
    await server.dispose();
  }
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
    result.rows.find((c) => c.client === 'reply-inbox ceiling' && c.storage === r.storage && c.payload === r.payload)?.medianMsgsPerSecond ?? Number.NaN;
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
  return `## JetStream publish (nats-server ${result.serverVersion}, -js, Nats-Msg-Id on every message)\n\n${table}\n`;
}

function writeJetStreamResults(outDir: string, result: JetStreamResult): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'jetstream.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(outDir, 'jetstream.md'), renderJetStream(result));
}
