/**
 * Suite 3, main-thread freedom: at each offered rate (a small sweep, 128 B), each client is paced
 * by a 1 ms setTimeout that publishes whatever is due since the start, but catches up on at most
 * `burstMs` of backlog in one tick (a client that falls behind drops the rest instead of running
 * long catch-up bursts, so its p99 is not set by the pacer). `monitorEventLoopDelay` samples the
 * main loop every 1 ms. The achieved rate is reported beside the delay: a ratio means something
 * only at rates both clients sustain. Clients alternate which goes first from rate to rate.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect } from 'nats';
import { createPublisher } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { payloadLabel, rate } from '../lib/format.js';
import { median } from '../lib/stats.js';
import { progress } from '../lib/progress.js';
import { cpuSince, cpuTimes, withNewThreads, type CpuTimes } from '../lib/threads.js';

/** `workerNice: 10`: the same publisher with its worker thread at nice 10 (README, Options). */
export const NICE_CLIENT = 'nats-offload (workerNice 10)';
export type EventLoopClient = 'idle pacer' | 'nats-offload' | typeof NICE_CLIENT | 'nats';

export interface EventLoopRow {
  readonly client: EventLoopClient;
  readonly offeredPerSecond: number;
  /** Messages accepted per second over the window. */
  readonly achievedPerSecond: number;
  /** nats-offload: tryPublish() calls refused for a full ring (the rest of that tick is skipped). */
  readonly refused: number;
  /** Event-loop delay beyond the 1 ms sampling interval, ms. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  /** Over the window: main thread, and nats-offload's worker. */
  readonly cpu: CpuTimes;
  readonly accepted: number;
  /** Event-loop utilization of the main thread (0..1). */
  readonly elu: number;
}

export interface EventLoopResult {
  readonly payload: number;
  readonly durationMs: number;
  readonly burstMs: number;
  /** Every client ran every rate this many times (the rows hold each run, round after round). */
  readonly rounds: number;
  readonly rows: EventLoopRow[];
}

const SUBJECT = 'bench.el';
const RESOLUTION_MS = 1;

async function sustain(
  client: EventLoopClient,
  publish: () => boolean,
  perSecond: number,
  cfg: BenchConfig['eventLoop'],
  workerTids: readonly number[],
): Promise<EventLoopRow> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const perMs = perSecond / 1000;
  // A tick publishes its own millisecond plus at most burstMs of backlog.
  const maxBurst = Math.max(1, Math.ceil(perMs * (RESOLUTION_MS + cfg.burstMs)));
  let due = 0;
  let accepted = 0;
  let refused = 0;
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = cpuTimes(workerTids);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      if (elapsed >= cfg.durationMs) return resolve();
      const target = Math.floor(elapsed * perMs);
      // Backlog beyond one burst is dropped, not caught up: achieved < offered shows it.
      if (target - due > maxBurst) due = target - maxBurst;
      for (; due < target; due++) {
        if (publish()) accepted++;
        else {
          refused++;
          break;
        }
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  const cpu = cpuSince(cpu0, cpuTimes(workerTids));
  const elu = performance.eventLoopUtilization(elu0).utilization;
  h.disable();
  const ms = (v: number): number => Math.max(0, v / 1e6 - RESOLUTION_MS);
  return {
    client,
    offeredPerSecond: perSecond,
    achievedPerSecond: (accepted / cpu.wallNs) * 1e9,
    refused,
    accepted,
    delayP50Ms: ms(h.percentile(50)),
    delayP99Ms: ms(h.percentile(99)),
    delayMaxMs: ms(h.max),
    cpu,
    elu,
  };
}

function describe(r: EventLoopRow): string {
  return (
    `${r.client} at ${rate(r.offeredPerSecond)}: ${rate(r.achievedPerSecond)} achieved, delay p50 ${r.delayP50Ms.toFixed(3)} ms ` +
    `p99 ${r.delayP99Ms.toFixed(3)} ms, main-thread CPU ${((r.cpu.mainNs / r.cpu.wallNs) * 100).toFixed(0)}%`
  );
}

export async function runEventLoop(url: string, cfg: BenchConfig['eventLoop']): Promise<EventLoopResult> {
  const payload = new Uint8Array(cfg.payload).fill(120);
  const rows: EventLoopRow[] = [];
  const add = (r: EventLoopRow): void => {
    rows.push(r);
    progress(`  ${describe(r)}`);
  };
  progress(
    `event loop: ${cfg.ratesPerSecond.map(rate).join(', ')} of ${payloadLabel(cfg.payload)}, ${cfg.durationMs} ms per client and rate`,
  );
  add(await sustain('idle pacer', () => true, 0, cfg, []));

  const { value: pub, tids } = await withNewThreads(() => createPublisher({ servers: url, waitForConnect: true }));
  const { value: nicePub, tids: niceTids } = await withNewThreads(() =>
    createPublisher({ servers: url, waitForConnect: true, workerNice: 10 }),
  );
  const nc = await connect({ servers: url, name: 'bench-nats' });
  const clients = {
    'nats-offload': { publish: () => pub.tryPublish(SUBJECT, payload), flush: () => pub.flush(), tids },
    [NICE_CLIENT]: { publish: () => nicePub.tryPublish(SUBJECT, payload), flush: () => nicePub.flush(), tids: niceTids },
    nats: {
      publish: () => {
        nc.publish(SUBJECT, payload);
        return true;
      },
      flush: () => nc.flush(),
      tids: [],
    },
  } as const;
  try {
    // Warm up the JIT on both sides before measuring.
    for (const c of Object.values(clients)) {
      await sustain('idle pacer', c.publish, cfg.ratesPerSecond[0]!, { ...cfg, durationMs: 300 }, []);
      await c.flush();
    }
    // Rounds of the whole sweep: one 2 s run's p99 is often set by what the OS did meanwhile (a
    // reference run had nats-offload at 0.43 ms at 200k, 1.53 at 300k and 0.36 at 400k).
    for (let round = 0; round < cfg.rounds; round++) {
      for (const [i, perSecond] of cfg.ratesPerSecond.entries()) {
        // Each client goes first in turn.
        const all = ['nats-offload', 'nats', NICE_CLIENT] as const;
        const shift = (i + round) % all.length;
        const order = [...all.slice(shift), ...all.slice(0, shift)];
        for (const name of order) {
          const c = clients[name];
          add(await sustain(name, c.publish, perSecond, cfg, c.tids));
          await c.flush();
        }
      }
    }
  } finally {
    await pub.close();
    await nicePub.close();
    await nc.close();
  }
  return { payload: cfg.payload, durationMs: cfg.durationMs, burstMs: cfg.burstMs, rounds: cfg.rounds, rows };
}

/** One client at one rate over the rounds: medians, and each round's p99. */
export interface EventLoopCell {
  readonly client: EventLoopClient;
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly mainCpuShare: number;
  readonly elu: number;
  readonly workerCpuShare: number;
  readonly cpuNsPerMessage: number;
  readonly refused: number;
  readonly p99Runs: number[];
}

/** The rows grouped by client and rate, in the order first run. */
export function eventLoopCells(e: EventLoopResult): EventLoopCell[] {
  const groups = new Map<string, EventLoopRow[]>();
  for (const r of e.rows) {
    const key = `${r.client} ${r.offeredPerSecond}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [r]);
    else g.push(r);
  }
  return [...groups.values()].map((rs) => ({
    client: rs[0]!.client,
    offeredPerSecond: rs[0]!.offeredPerSecond,
    achievedPerSecond: median(rs.map((r) => r.achievedPerSecond)),
    delayP50Ms: median(rs.map((r) => r.delayP50Ms)),
    delayP99Ms: median(rs.map((r) => r.delayP99Ms)),
    delayMaxMs: median(rs.map((r) => r.delayMaxMs)),
    mainCpuShare: median(rs.map((r) => r.cpu.mainNs / r.cpu.wallNs)),
    elu: median(rs.map((r) => r.elu)),
    workerCpuShare: median(rs.map((r) => r.cpu.workerNs / r.cpu.wallNs)),
    cpuNsPerMessage: median(rs.map((r) => (r.accepted === 0 ? Number.NaN : (r.cpu.mainNs + r.cpu.workerNs) / r.accepted))),
    refused: rs.reduce((n, r) => n + r.refused, 0),
    p99Runs: rs.map((r) => r.delayP99Ms),
  }));
}

/** Rates at which `ours` and nats both achieved, as the median of their rounds, at least 97% of the offered rate. */
export function sustainedRates(e: EventLoopResult, ours: EventLoopClient = 'nats-offload'): number[] {
  const cells = eventLoopCells(e);
  const ok = (client: EventLoopClient, r: number): boolean =>
    cells.some((x) => x.client === client && x.offeredPerSecond === r && x.achievedPerSecond >= 0.97 * r);
  return [...new Set(cells.map((x) => x.offeredPerSecond))].filter((r) => r > 0 && ok(ours, r) && ok('nats', r));
}
