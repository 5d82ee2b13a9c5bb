/**
 * One run of the outage suite, in its own process so that its resident-memory figures start from
 * a clean baseline: starts a nats-server and a reconnecting subscriber (bench/subscriber.ts),
 * publishes at a fixed rate, stops the server for `outageMs`, restarts it on the same port, keeps
 * publishing for `afterMs`, then flushes and asks the subscriber what arrived.
 *
 *   node --expose-gc dist/bench/outage-run.js '<OutageRunConfig as JSON>'
 *
 * Fixed rate means a refused message is not retried: the next one carries the next due slot, and
 * only accepted messages consume a sequence number, so accepted = sequences 0..accepted-1.
 */
import { connect, type NatsConnection } from 'nats';
import { startNatsServer } from '../scripts/nats-server.js';
import { createPublisher, type Publisher } from '../src/index.js';
import { label, type FromOutageRun, type OutageRunConfig, type OutageRunResult, type OutageSample } from './lib/outage-protocol.js';
import { sleep } from './lib/progress.js';
import { SubscriberProcess } from './lib/subscriber-process.js';

const SUBJECT = 'bench.outage';
const LAP_SUBJECT = 'bench.outage.lap';

function send(m: FromOutageRun): void {
  process.send?.(m);
}

function say(message: string): void {
  send({ type: 'progress', message });
}

async function run(cfg: OutageRunConfig): Promise<OutageRunResult> {
  const notes: string[] = [];
  const server = await startNatsServer();
  const sub = await SubscriberProcess.start('nats', server.url, SUBJECT, cfg.sampleMs);
  let pub: Publisher | undefined;
  let nc: NatsConnection | undefined;
  const wallT0 = { perf: 0, date: 0 };
  const now = (): number => performance.now() - wallT0.perf;
  let publisherReconnectAt = Number.NaN;
  let connected = true;
  let sharedBytes = 0;

  /** Both clients' status streams feed the same connected flag and reconnect time. */
  const onStatus = (type: string): void => {
    if (type === 'disconnect') connected = false;
    if (type === 'reconnect') {
      connected = true;
      if (Number.isNaN(publisherReconnectAt)) publisherReconnectAt = now();
    }
  };
  // Baseline before either client exists: the worker thread and the ring count as growth.
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(200);
  const baseline = process.memoryUsage();
  if (cfg.client === 'nats-offload') {
    pub = await createPublisher({ servers: server.url, reconnectBufSize: cfg.bufferBytes, waitForConnect: true });
    sharedBytes = process.memoryUsage().arrayBuffers - baseline.arrayBuffers;
    const p = pub;
    void (async () => {
      for await (const e of p.events()) onStatus(e.type);
    })();
  } else {
    nc = await connect({
      servers: server.url,
      name: 'bench-nats',
      maxReconnectAttempts: -1,
      reconnectTimeWait: cfg.reconnectTimeWait,
      reconnectJitter: 100,
    });
    const c = nc;
    void (async () => {
      for await (const s of c.status()) onStatus(s.type);
    })();
    await nc.flush();
  }
  // Before traffic: the client's fixed cost (nats-offload's ring pages are not touched yet).
  const rssAfterCreate = process.memoryUsage().rss;

  // Messages of the lap: stats() counts them, the paced phase's figures must not.
  let lapped = 0;
  if (pub !== undefined && cfg.ringLaps > 0) {
    lapped = await lapRing(pub, cfg.payload, cfg.ringLaps * cfg.bufferBytes);
    say(`${label(cfg)}: ${lapped} messages (${cfg.ringLaps} × the buffer) published before the paced phase`);
  }
  const rssBeforePacing = process.memoryUsage().rss;

  const template = new Uint8Array(cfg.payload).fill(120);
  const view = new DataView(template.buffer);
  let seq = 0;
  let offered = 0;
  let refused = 0;
  const publishOne: () => boolean =
    pub !== undefined
      ? () => {
          view.setUint32(0, seq, true);
          if (!pub!.tryPublish(SUBJECT, template)) return false;
          seq++;
          return true;
        }
      : () => {
          // nc.publish() keeps a reference to the payload until it writes: a fresh buffer each time.
          const b = template.slice();
          new DataView(b.buffer).setUint32(0, seq, true);
          try {
            nc!.publish(SUBJECT, b);
          } catch {
            return false;
          }
          seq++;
          return true;
        };

  const samples: OutageSample[] = [];
  const sample = (): void => {
    const m = process.memoryUsage();
    const st = pub?.stats();
    samples.push({
      t: now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      arrayBuffers: m.arrayBuffers,
      pendingBytes: st?.pendingBytes ?? 0,
      pendingMessages: st?.pendingMessages ?? 0,
      accepted: seq,
      refused,
      arrived: sub.unique,
      connected,
    });
  };

  // Phase markers, in ms since publishing started.
  let stopAt = Number.NaN;
  let stoppedAt = Number.NaN;
  let restartedAt = Number.NaN;
  let acceptedAtStop = 0;
  let confirmedAtStop = 0;
  let refusedAtStop = 0;
  let acceptedAtRestart = -1;
  let refusedAtRestart = 0;
  let drainedAt = Number.NaN;
  let pacing = true;
  const perMs = cfg.ratePerSecond / 1000;

  wallT0.perf = performance.now();
  wallT0.date = Date.now();
  const sampler = setInterval(sample, cfg.sampleMs);
  sample();
  const paced = new Promise<void>((resolve) => {
    const tick = (): void => {
      if (!pacing) return resolve();
      const due = Math.min(Math.floor(now() * perMs), offered + Math.ceil(perMs * 20));
      while (offered < due) {
        offered++;
        if (!publishOne()) refused++;
      }
      if (pub !== undefined && acceptedAtRestart >= 0 && Number.isNaN(drainedAt) && pub.stats().sent - lapped >= acceptedAtRestart) {
        drainedAt = now();
      }
      setTimeout(tick, 1);
    };
    tick();
  });

  await sleep(cfg.beforeMs);
  say(`${label(cfg)}: stopping the server after ${seq} accepted`);
  stopAt = now();
  acceptedAtStop = seq;
  refusedAtStop = refused;
  await server.stop();
  stoppedAt = now();
  // Confirmed (a PONG came back) by the server that was stopped, up to its exit (it goes on
  // answering while it shuts down): it had them; whether it had also written them to the
  // subscriber's socket when SIGTERM came is beyond the publisher's reach.
  confirmedAtStop = pub === undefined ? 0 : pub.stats().sent - lapped;
  await sleep(cfg.outageMs);
  await server.restart();
  restartedAt = now();
  acceptedAtRestart = seq;
  refusedAtRestart = refused;
  say(`${label(cfg)}: server back after ${(restartedAt - stopAt).toFixed(0)} ms; ${seq} accepted, ${refused} refused so far`);
  await sleep(cfg.afterMs);
  pacing = false;
  await paced;

  let flushed = true;
  const flushStart = now();
  try {
    if (pub !== undefined) await pub.flush({ timeout: 30_000 });
    else await Promise.race([nc!.flush(), sleep(30_000).then(() => Promise.reject(new Error('nc.flush() timed out')))]);
  } catch (err) {
    flushed = false;
    notes.push(`final flush failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (pub !== undefined && Number.isNaN(drainedAt) && pub.stats().sent - lapped >= acceptedAtRestart) drainedAt = now();
  sample();
  const got = await sub.report(seq, pub !== undefined ? 5_000 : 3_000, confirmedAtStop);
  sample();
  clearInterval(sampler);
  const flushMs = now() - flushStart;
  const stats = pub?.stats();
  const resubscribed = sub.resubscribedAt[0];
  const subscriberResubscribedAt = resubscribed === undefined ? Number.NaN : resubscribed - wallT0.date;
  if (!(subscriberResubscribedAt <= publisherReconnectAt)) {
    notes.push(
      `the subscriber resubscribed at ${subscriberResubscribedAt.toFixed(0)} ms, after the publisher reconnected at ` +
        `${publisherReconnectAt.toFixed(0)} ms: the server dropped what it routed in between for lack of interest`,
    );
  }
  if (stats !== undefined && stats.rejectedByLimit.disconnected > 0)
    notes.push(`${stats.rejectedByLimit.disconnected} refused as disconnected`);
  notes.push(`stop took ${(stoppedAt - stopAt).toFixed(0)} ms; final flush and subscriber report took ${flushMs.toFixed(0)} ms`);

  if (pub !== undefined) await pub.close();
  if (nc !== undefined) await nc.close();
  await sub.stop();
  await server.stop();

  const maxRss = Math.max(rssBeforePacing, ...samples.map((s) => s.rss));
  return {
    config: cfg,
    sharedBytes,
    baselineRss: baseline.rss,
    rssAfterCreate,
    maxRss,
    rssGrowth: maxRss - baseline.rss,
    offered,
    accepted: seq,
    refused,
    acceptedDuringOutage: acceptedAtRestart - acceptedAtStop,
    refusedDuringOutage: refusedAtRestart - refusedAtStop,
    confirmed: stats === undefined ? Number.NaN : stats.sent - lapped,
    resent: stats?.resent ?? 0,
    stopAt,
    restartedAt,
    publisherReconnectAt,
    subscriberResubscribedAt,
    drainMs: drainedAt - restartedAt,
    arrivedUnique: got.report.unique,
    duplicates: got.report.duplicates,
    missing: got.report.missing,
    missingRanges: got.report.missingRanges,
    confirmedAtStop,
    missingConfirmedBeforeStop: got.report.missingBelowSplit,
    flushed,
    samples,
    notes,
  };
}

/**
 * Publishes at least `bytes` of payload (the library's own counter) as fast as the ring takes
 * them, on a subject the subscriber does not count, so that the ring has wrapped before the outage.
 */
async function lapRing(pub: Publisher, payloadBytes: number, bytes: number): Promise<number> {
  const payload = new Uint8Array(payloadBytes).fill(120);
  const end = pub.stats().acceptedBytes + bytes;
  let n = 0;
  while (pub.stats().acceptedBytes < end) {
    for (let i = 0; i < 10_000; i++) {
      if (pub.tryPublish(LAP_SUBJECT, payload)) n++;
      else await pub.ready();
    }
  }
  await pub.flush();
  return n;
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: outage-run.js <config JSON>');
  const result = await run(JSON.parse(arg) as OutageRunConfig);
  // Exit only once the result has left: process.exit() would drop a message still queued.
  await new Promise<void>((resolve, reject) => {
    process.send?.({ type: 'result', result } satisfies FromOutageRun, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('outage run failed:', err);
    process.exit(1);
  },
);
