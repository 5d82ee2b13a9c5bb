/**
 * Shared pieces of the fault-injection suite (test/integration/faults): the rig most fault tests
 * start from (a server, optionally behind a fault proxy, and a counting subscriber), a sequence
 * stream that numbers only accepted messages, a counting subscriber that takes full connection
 * options (auth, TLS), the accounting and delivery checks every fault test ends with, and the
 * writer of the result records `npm run reliability` generates docs/reliability.md from.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { expect, onTestFinished } from 'vitest';
import { FAULT_RESULTS_DIR, type FaultRecord, type FaultResult } from '../../scripts/fault-record.js';
import { sleep, startServer, waitUntil, startPublisher as startAnyPublisher, type Cleanups } from './lifecycle.js';
import { type CloseReport, type Publisher, type PublisherEvent, type PublisherOptions, type PublisherStats } from '../../src/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { findNatsServer, type NatsServerProcess, type StartOptions } from './nats-server.js';
import { readSeq, SequenceCounter, type SequenceReport } from './sequence.js';

export { Cleanups, cleanupsAfterEach, sleep, startServer, waitUntil } from './lifecycle.js';

/** Runs `fn` and returns what it threw (undefined if nothing). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Creates a publisher and registers its close (bounded) with `cleanups`. */
export function startPublisher(cleanups: Cleanups, options: PublisherOptions): Promise<Publisher> {
  return startAnyPublisher(cleanups, { name: 'faults', ...options }, 0);
}

/** What `pub.closed()` resolved to, or `'still open'` if it did not resolve within `ms`. */
export async function closedWithin(pub: Publisher, ms: number): Promise<void | Error | 'still open'> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([pub.closed(), new Promise<'still open'>((r) => (timer = setTimeout(() => r('still open'), ms)))]);
  clearTimeout(timer);
  return outcome;
}

/** Records every status event of a publisher from the moment it is attached. */
export class EventLog {
  readonly events: PublisherEvent[] = [];
  private readonly done: Promise<void>;
  constructor(pub: Publisher) {
    const it = pub.events();
    this.done = (async () => {
      for await (const e of it) this.events.push(e);
    })();
  }
  count(type: PublisherEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }
  errors(): Error[] {
    return this.events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  }
  /** Waits until at least `n` events of `type` were seen. */
  async waitFor(type: PublisherEvent['type'], n = 1, timeoutMs = 30_000): Promise<void> {
    await waitUntil(() => this.count(type) >= n, timeoutMs, () => `${n} '${type}' event(s); saw ${this.summary()}`);
  }
  summary(): string {
    return this.events.map((e) => e.type).join(',') || '(none)';
  }
  /** Resolves once the publisher closed (the iterator ended). */
  ended(): Promise<void> {
    return this.done;
  }
}

/** Payload bytes 8.. of a patterned message: a function of seq and offset, so corruption shows. */
export function patternByte(seq: number, i: number): number {
  return (seq * 31 + i * 7) & 0xff;
}

/** Checks a patterned payload against its seq and the expected size; true when intact. */
export function patternIntact(data: Uint8Array, seq: number, sizeOf: (seq: number) => number): boolean {
  if (data.length !== sizeOf(seq)) return false;
  for (let i = 8; i < data.length; i++) if (data[i] !== patternByte(seq, i)) return false;
  return true;
}

/**
 * Publishes sequence-numbered payloads (the helpers' format: seq little-endian in bytes 0..3,
 * 0xa5 at byte 4). A number is used up only when `tryPublish()` accepts it, so accepted messages
 * are exactly seq 0..accepted-1 and anything refused is offered again under the same number.
 * With `size` a function, each payload has its own length and a seq-derived pattern after byte 8.
 */
export class SeqStream {
  /** Next number to offer = messages accepted so far. */
  next = 0;
  /** tryPublish() calls that returned false. */
  refused = 0;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly sizeOf: ((seq: number) => number) | undefined;

  constructor(
    readonly pub: Publisher,
    readonly subject: string,
    size: number | ((seq: number) => number) = 8,
    maxSize = 64 * 1024,
  ) {
    this.sizeOf = typeof size === 'function' ? size : undefined;
    this.buf = new Uint8Array(typeof size === 'function' ? maxSize : Math.max(8, size));
    this.view = new DataView(this.buf.buffer);
    this.buf[4] = 0xa5;
  }

  offer(): boolean {
    const seq = this.next;
    this.view.setUint32(0, seq, true);
    let payload = this.buf;
    if (this.sizeOf !== undefined) {
      const n = this.sizeOf(seq);
      for (let i = 8; i < n; i++) this.buf[i] = patternByte(seq, i);
      payload = this.buf.subarray(0, n);
    }
    if (this.pub.tryPublish(this.subject, payload)) {
      this.next++;
      return true;
    }
    this.refused++;
    return false;
  }

  /**
   * Offers messages until `count` are accepted or `until()` is true, yielding to the event loop
   * after every `batch` offers (so subscribers and timers run) and sleeping `backoffMs` after a
   * refusal (0 = just yield: a hot producer). `paceMs` sleeps after each full batch instead of
   * only yielding, which caps the offered rate at about batch / paceMs.
   */
  async run(opts: RunOptions): Promise<void> {
    const count = opts.count ?? Number.POSITIVE_INFINITY;
    const batch = opts.batch ?? 5_000;
    const backoffMs = opts.backoffMs ?? 1;
    const paceMs = opts.paceMs ?? 0;
    while (this.next < count && !(opts.until?.() ?? false)) {
      let refusedNow = false;
      for (let i = 0; i < batch && this.next < count; i++) {
        if (!this.offer()) {
          refusedNow = true;
          break;
        }
      }
      const pause = refusedNow ? backoffMs : paceMs;
      if (pause > 0) await sleep(pause);
      else await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * run() in the background, until `opts.until()` or the returned `stop()`, which ends it after
   * the current batch and resolves once it has returned.
   */
  produce(opts: RunOptions): { stop(): Promise<void> } {
    let stopped = false;
    const until = opts.until;
    const running = this.run({ ...opts, until: () => stopped || (until?.() ?? false) });
    return {
      stop: async () => {
        stopped = true;
        await running;
      },
    };
  }

  /** Waits until `n` messages were accepted (by a run() in progress). */
  waitForAccepted(n: number, timeoutMs = 30_000): Promise<void> {
    return waitUntil(() => this.next >= n, timeoutMs, `the first ${n} messages`);
  }

  /** Waits until `n` offers were refused (by a run() in progress). */
  waitForRefused(n: number, timeoutMs = 30_000): Promise<void> {
    return waitUntil(() => this.refused >= n, timeoutMs, () => `${n} refusals (have ${this.refused})`);
  }
}

export interface RunOptions {
  count?: number;
  until?: () => boolean;
  batch?: number;
  backoffMs?: number;
  paceMs?: number;
}

export interface SeqPublisher {
  readonly pub: Publisher;
  /** Attached right after the publisher was created. */
  readonly events: EventLog;
  readonly stream: SeqStream;
}

/** startPublisher() with an EventLog attached at once and a SeqStream on `subject` (`size`, `maxSize` as there). */
export async function startSeqPublisher(
  cleanups: Cleanups,
  subject: string,
  options: PublisherOptions,
  size?: number | ((seq: number) => number),
  maxSize?: number,
): Promise<SeqPublisher> {
  const pub = await startPublisher(cleanups, options);
  const events = new EventLog(pub);
  return { pub, events, stream: new SeqStream(pub, subject, size, maxSize) };
}

export interface Subscriber {
  readonly nc: NatsConnection;
  readonly counter: SequenceCounter;
  /** Distinct sequence numbers seen. */
  distinct(): number;
  /** Arrivals that failed the `verify` callback (wrong length or bytes). */
  badContent(): number;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A `nats` client on the test's thread, connected straight to a server with `options` (auth,
 * TLS), counting sequence payloads on `subject`. Reconnects forever and resubscribes.
 */
export async function faultSubscriber(
  options: ConnectionOptions,
  subject: string,
  capacity: number,
  verify?: (data: Uint8Array, seq: number) => boolean,
): Promise<Subscriber> {
  const nc = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 100, pingInterval: 1000, ...options });
  const counter = new SequenceCounter(capacity);
  const seen = new Uint8Array(capacity);
  let distinct = 0;
  let bad = 0;
  nc.subscribe(subject, {
    callback: (_err, msg) => {
      counter.add(msg.data);
      const d = msg.data;
      if (d.length >= 8 && d[4] === 0xa5) {
        const s = readSeq(d);
        if (verify !== undefined && !verify(d, s)) bad++;
        if (s < capacity && seen[s] === 0) {
          seen[s] = 1;
          distinct++;
        }
      }
    },
  });
  await nc.flush();
  return {
    nc,
    counter,
    distinct: () => distinct,
    badContent: () => bad,
    waitFor: (n, timeoutMs = 30_000) =>
      waitUntil(() => distinct >= n, timeoutMs, () => `subscriber to see ${n} distinct messages; saw ${distinct} (received ${counter.received})`),
    close: async () => {
      await nc.close().catch(() => {});
    },
  };
}

/** faultSubscriber() closed by `cleanups`. */
export async function startSubscriber(
  cleanups: Cleanups,
  options: ConnectionOptions,
  subject: string,
  capacity: number,
  verify?: (data: Uint8Array, seq: number) => boolean,
): Promise<Subscriber> {
  const sub = await faultSubscriber(options, subject, capacity, verify);
  cleanups.add(() => sub.close());
  return sub;
}

export interface RigOptions {
  /** How to start the server (config file text, ...). */
  readonly server?: StartOptions;
  /** Merged over `{ servers: server.url }` for the subscriber's connection. */
  readonly subscriber?: ConnectionOptions;
  /** Content check of each arrival (see faultSubscriber). */
  readonly verify?: (data: Uint8Array, seq: number) => boolean;
}

/** A server and a counting subscriber on `subject` connected straight to it. */
export interface Rig {
  readonly server: NatsServerProcess;
  readonly sub: Subscriber;
  readonly subject: string;
}

/** A Rig plus a fault proxy in front of the server, for the publisher under test. */
export interface ProxiedRig extends Rig {
  readonly proxy: FaultProxy;
}

/** Starts a Rig; everything in it is stopped by `cleanups`. */
export async function startRig(cleanups: Cleanups, subject: string, capacity: number, opts: RigOptions = {}): Promise<Rig> {
  const server = await startServer(cleanups, opts.server);
  const sub = await startSubscriber(cleanups, { servers: server.url, ...opts.subscriber }, subject, capacity, opts.verify);
  return { server, sub, subject };
}

/** Starts a ProxiedRig (server, then proxy, then subscriber); everything in it is stopped by `cleanups`. */
export async function startProxiedRig(cleanups: Cleanups, subject: string, capacity: number, opts: RigOptions = {}): Promise<ProxiedRig> {
  const server = await startServer(cleanups, opts.server);
  const proxy = await startFaultProxy({ targetPort: server.port });
  cleanups.add(() => proxy.close());
  const sub = await startSubscriber(cleanups, { servers: server.url, ...opts.subscriber }, subject, capacity, opts.verify);
  return { server, proxy, sub, subject };
}

/**
 * Stops the rig's server with SIGTERM, the proxy refusing the publisher first so that after
 * bringBack() it cannot race the subscriber back; with `events`, waits for the publisher's
 * 'disconnect' (10 s).
 */
export async function takeDown(rig: ProxiedRig, events?: EventLog): Promise<void> {
  rig.proxy.refuse(Number.POSITIVE_INFINITY);
  await rig.server.stop('SIGTERM');
  if (events !== undefined) await events.waitFor('disconnect', 1, 10_000);
}

/**
 * Restarts the rig's server on the same port, waits until the subscriber has resubscribed, then
 * lets the publisher through the proxy; with `events`, waits for its 'reconnect' (30 s).
 */
export async function bringBack(rig: ProxiedRig, events?: EventLog): Promise<void> {
  await rig.server.restart();
  await waitForInterest(rig.server.url, rig.sub, rig.subject);
  rig.proxy.allow();
  if (events !== undefined) await events.waitFor('reconnect', 1, 30_000);
}

export interface Cutter {
  /** Cuts made so far. */
  readonly cuts: number;
  stop(): void;
}

/**
 * Resets every connection through `proxy` every `every` ms (a number: one interval timer), or
 * after each delay `every()` returns (chained timers); stopped by `cleanups` too.
 */
export function startCutter(cleanups: Cleanups, proxy: FaultProxy, every: number | (() => number)): Cutter {
  let cuts = 0;
  const cut = (): void => {
    proxy.cutAll();
    cuts++;
  };
  let stop: () => void;
  if (typeof every === 'number') {
    const interval = setInterval(cut, every);
    stop = () => clearInterval(interval);
  } else {
    let timer: NodeJS.Timeout | undefined;
    const schedule = (): void => {
      timer = setTimeout(() => {
        cut();
        schedule();
      }, every());
    };
    schedule();
    stop = () => clearTimeout(timer);
  }
  cleanups.add(stop);
  return {
    get cuts() {
      return cuts;
    },
    stop,
  };
}

/** nc.flush() until one succeeds: a flush queued while the client redials rejects with DISCONNECT. */
export async function flushEventually(nc: NatsConnection, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await nc.flush();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

/**
 * Waits until a message published on `url` reaches `sub` through the cluster: interest for
 * `subject` registered on `sub.nc` before this call has then reached the publisher's node too
 * (route subscriptions propagate in order).
 */
export async function waitForInterest(url: string, sub: Subscriber, subject: string, timeoutMs = 15_000): Promise<void> {
  const probeSubject = `${subject}.probe`;
  let arrived = false;
  const s = sub.nc.subscribe(probeSubject, { callback: () => (arrived = true) });
  const deadline = Date.now() + timeoutMs;
  // Either side may still be reconnecting (a flush then rejects with DISCONNECT): retry until the deadline.
  const nc = await connect({ servers: url, timeout: timeoutMs, waitOnFirstConnect: true });
  try {
    while (!arrived) {
      if (Date.now() > deadline) throw new Error(`interest for ${probeSubject} did not reach ${url} within ${timeoutMs} ms`);
      nc.publish(probeSubject);
      await Promise.all([nc.flush(), sub.nc.flush()]).catch(() => {});
      await sleep(20);
    }
  } finally {
    s.unsubscribe();
    await nc.close();
  }
}

export interface Accounting {
  readonly accepted: number;
  readonly sent: number;
  readonly unsent: number;
  readonly droppedOversize: number;
  readonly pendingMessages?: number;
}

/** Counters of messages given up by policy that other branches may add (drop-oldest, max age). */
const POLICY_DROPS = ['droppedOldest', 'expired'] as const;

function policyDrops(a: Accounting | PublisherStats | CloseReport): number {
  const extra = a as unknown as Record<string, unknown>;
  return POLICY_DROPS.reduce((n, k) => n + (typeof extra[k] === 'number' ? (extra[k] as number) : 0), 0);
}

/**
 * accepted = sent + pendingMessages + unsent + droppedOversize + policy drops, every term a
 * non-negative integer. Each term has its own source: `accepted` is counted by the publish path,
 * `sent` and the drops by whoever released them, `pendingMessages` (and `unsent`, which is what
 * was pending at close) from the ring's own counters (ACCEPTED_MSGS - RELEASED_MSGS), so a
 * message counted twice or not at all breaks the sum. With `pub` (still open), the pending count
 * is also checked against a walk of the ring's records.
 */
export function expectBalanced(a: Accounting | PublisherStats | CloseReport, pub?: Publisher): void {
  const pending = 'pendingMessages' in a && a.pendingMessages !== undefined ? a.pendingMessages : 0;
  const policy = policyDrops(a);
  const terms = { accepted: a.accepted, sent: a.sent, unsent: a.unsent, droppedOversize: a.droppedOversize, pending, policy };
  for (const [k, v] of Object.entries(terms)) {
    expect(Number.isInteger(v) && v >= 0, `${k} = ${v} must be a non-negative integer`).toBe(true);
  }
  expect(
    a.sent + pending + a.unsent + a.droppedOversize + policy,
    `accepted ${a.accepted} = sent ${a.sent} + pending ${pending} + unsent ${a.unsent} + droppedOversize ${a.droppedOversize} + policy drops ${policy}`,
  ).toBe(a.accepted);
  if (pub !== undefined) expectRingAgrees(pub);
}

/**
 * stats().pendingMessages and pendingBytes against a walk of the ring's records from the release
 * position to the write position. The worker may release between the reads: retried until two
 * walks around one stats() agree.
 */
export function expectRingAgrees(pub: Publisher): void {
  for (let tries = 0; ; tries++) {
    const before = pub.walkRingForTest();
    const s = pub.stats();
    const after = pub.walkRingForTest();
    if ((before.frames !== after.frames || before.bytes !== after.bytes) && tries < 100) continue;
    expect(after.bytes, 'the record walk ends exactly at the write position').toBeGreaterThanOrEqual(0);
    expect({ frames: after.frames, bytes: after.bytes }, 'pending by the counters = pending by walking the ring').toEqual({
      frames: s.pendingMessages,
      bytes: s.pendingBytes,
    });
    return;
  }
}

export interface Delivery extends SequenceReport {
  /** Confirmed (seq < sent) yet never arrived, plus missing beyond what was reported unsent. */
  readonly lostSilently: number;
  /** Accepted messages that did not arrive (reported unsent or not). */
  readonly missingCount: number;
}

/**
 * The delivery verdict for a publisher whose accepted messages are seq 0..accepted-1 on the
 * counter: the confirmed ones are the first `sent` (the ring is FIFO), so every seq below `sent`
 * must have arrived, and at most `unsent` of the rest may be missing.
 */
export function delivery(counter: SequenceCounter, report: CloseReport | PublisherStats): Delivery {
  const r = counter.report(report.accepted);
  const confirmedMissing = r.missing.filter((s) => s < report.sent).length;
  const tailMissing = r.missing.length - confirmedMissing;
  return {
    ...r,
    missing: r.missing.slice(0, 20),
    missingCount: r.missing.length,
    lostSilently: confirmedMissing + Math.max(0, tailMissing - report.unsent),
  };
}

/**
 * The suite's promise, checked: balanced counters, no corrupt payload, nothing confirmed missing,
 * nothing beyond the accepted range, duplicates no more than resends, and (unless allowed) order kept.
 */
export function expectDelivered(d: Delivery, report: CloseReport | PublisherStats, opts: { allowOutOfOrder?: boolean } = {}): void {
  expectBalanced(report);
  const ctx = JSON.stringify({ ...d, report: { ...report, error: undefined } });
  const dropped = report.droppedOversize + policyDrops(report);
  expect(d.corrupt, `corrupt payloads ${ctx}`).toBe(0);
  // The publisher's counters against what a subscriber on the server saw: every confirmed message
  // arrived, nothing dropped arrived, and whatever never arrived was reported (unsent or dropped).
  expect(d.distinct, `confirmed (sent) <= distinct arrivals ${ctx}`).toBeGreaterThanOrEqual(report.sent);
  expect(d.distinct, `distinct arrivals <= accepted - dropped ${ctx}`).toBeLessThanOrEqual(report.accepted - dropped);
  expect(d.missingCount, `never seen <= unsent + dropped ${ctx}`).toBeLessThanOrEqual(report.unsent + dropped);
  expect(d.lostSilently, `messages lost without being reported ${ctx}`).toBe(0);
  expect(d.duplicates, `duplicates are bounded by resent ${ctx}`).toBeLessThanOrEqual(report.resent);
  if (opts.allowOutOfOrder !== true) expect(d.outOfOrder, `out-of-order arrivals ${ctx}`).toBe(0);
}

/** expectDelivered(), and the publisher closed without an error and with nothing unsent. */
export function expectNothingLost(d: Delivery, report: CloseReport): void {
  expect(report.unsent).toBe(0);
  expect(report.error).toBeUndefined();
  expectDelivered(d, report);
}

export interface Outcome {
  readonly report: CloseReport;
  readonly d: Delivery;
}

/**
 * How most delivery tests end: waits until `sub` saw `expected` distinct messages (`waitMs`; with
 * `bestEffort` a timeout is not thrown, the delivery verdict then says which are missing and why),
 * flushes the subscriber's connection, sleeps `settleMs` if given, closes `pub` (5 s) and returns
 * the close report with its delivery verdict.
 */
export async function closeAndCount(
  pub: Publisher,
  sub: Subscriber,
  expected: number,
  opts: { waitMs?: number; settleMs?: number; bestEffort?: boolean } = {},
): Promise<Outcome> {
  const arrived = sub.waitFor(expected, opts.waitMs ?? 30_000);
  await (opts.bestEffort === true ? arrived.catch(() => {}) : arrived);
  await flushEventually(sub.nc);
  if (opts.settleMs !== undefined) await sleep(opts.settleMs);
  const report = await pub.close({ timeout: 5_000 });
  return { report, d: delivery(sub.counter, report) };
}

export type { FaultResult } from '../../scripts/fault-record.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, FAULT_RESULTS_DIR);
let versions: { natsServer: string; natsClient: string } | undefined;

/** The nats-server binary the tests start and the installed `nats` package, looked up once per process. */
function toolVersions(): { natsServer: string; natsClient: string } {
  if (versions === undefined) {
    const banner = execFileSync(findNatsServer(), ['--version'], { encoding: 'utf8' });
    const nats = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/nats/package.json'), 'utf8')) as { version: string };
    versions = { natsServer: /v?(\d+\.\d+\.\d+\S*)/.exec(banner)?.[1] ?? banner.trim(), natsClient: nats.version };
  }
  return versions;
}

/**
 * Writes test/results/faults/<id>.json (one file per result: test files run in parallel) once the
 * calling test has finished, so the record carries the test's outcome after all its checks; also
 * when it failed. Call it inside a test. Fields: scripts/fault-record.ts.
 */
export function recordResult(r: FaultResult): void {
  const at = new Date().toISOString();
  const { testPath, currentTestName } = expect.getState();
  onTestFinished(({ task }) => {
    const record: FaultRecord = {
      ...r,
      at,
      node: process.version,
      ...toolVersions(),
      test: { file: relative(REPO_ROOT, testPath ?? task.file.filepath).split(sep).join('/'), name: currentTestName ?? task.name },
      outcome: task.result?.state === 'pass' ? 'passed' : 'failed',
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${r.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
  });
}

/**
 * recordResult() for a nats-offload test: its counters from the close `report`, duplicates and
 * silent losses from `outcome` (a Delivery, or counts worked out by the test).
 */
export function recordOffload(
  report: CloseReport,
  outcome: { duplicates?: number; lostSilently: number },
  r: { id: string; fault: string; userSees: string; notes?: string; defect?: number; gap?: string },
): void {
  recordResult({
    id: r.id,
    fault: r.fault,
    client: 'nats-offload',
    userSees: r.userSees,
    accepted: report.accepted,
    sent: report.sent,
    unsent: report.unsent,
    rejected: report.rejected,
    resent: report.resent,
    droppedOversize: report.droppedOversize,
    droppedOldest: report.droppedOldest,
    expired: report.expired,
    ...(outcome.duplicates !== undefined ? { duplicates: outcome.duplicates } : {}),
    lostSilently: outcome.lostSilently,
    ...(r.notes !== undefined ? { notes: r.notes } : {}),
    ...(r.defect !== undefined ? { defect: r.defect } : {}),
    ...(r.gap !== undefined ? { gap: r.gap } : {}),
  });
}

/** Resident set size of this process in MiB. */
export function rssMiB(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

/** True when the env var asks for the long variants. */
export const SOAK = process.env['SOAK'] === '1';
