/**
 * Suite 3, main-thread freedom: each client sustains the same offered rate (1 M msg/s of 128 B by
 * default), paced by a 1 ms setTimeout that publishes whatever is due since the start, while
 * `monitorEventLoopDelay` samples the main loop every 1 ms.
 *
 * CPU: Node 20 has no process.threadCpuUsage(), and process.cpuUsage() counts every thread of the
 * process (nats-offload's worker included). So the main thread's CPU is read from Linux's
 * /proc/self/task/<pid>/schedstat, the worker's from the threads that appeared when the publisher
 * was created, and the main loop's event-loop utilization is reported beside them.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect } from 'nats';
import { createPublisher } from '../../src/index.js';
import type { BenchConfig } from '../config.js';
import { payloadLabel, rate } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { startCpuWindow, withNewThreads, type CpuSplit } from '../lib/threads.js';

export type EventLoopClient = 'idle pacer' | 'nats-offload' | 'nats';

export interface EventLoopRow {
  readonly client: EventLoopClient;
  readonly offeredPerSecond: number;
  /** Messages accepted per second over the window. */
  readonly achievedPerSecond: number;
  /** nats-offload: tryPublish() calls refused for a full ring (retried at the next tick). */
  readonly refused: number;
  /** Event-loop delay beyond the 1 ms sampling interval, ms. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly delaySamples: number;
  readonly cpu: CpuSplit;
  /** After the window: time until the server confirmed everything, ms. */
  readonly flushMs: number;
}

export interface EventLoopResult {
  readonly payload: number;
  readonly durationMs: number;
  readonly rows: EventLoopRow[];
}

const SUBJECT = 'bench.el';
const RESOLUTION_MS = 1;

interface Sustained {
  accepted: number;
  refused: number;
  p50: number;
  p99: number;
  max: number;
  count: number;
  cpu: CpuSplit;
}

async function sustain(publish: () => boolean, perSecond: number, durationMs: number, clientTids: number[]): Promise<Sustained> {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const perMs = perSecond / 1000;
  // Never try to catch up on more than 20 ms of backlog in one tick.
  const maxBurst = Math.max(1, Math.ceil(perMs * 20));
  let accepted = 0;
  let refused = 0;
  h.enable();
  const window = startCpuWindow(clientTids);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      if (elapsed >= durationMs) return resolve();
      const due = Math.min(Math.floor(elapsed * perMs), accepted + maxBurst);
      while (accepted < due) {
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
  const cpu = window();
  h.disable();
  const ms = (v: number): number => Math.max(0, v / 1e6 - RESOLUTION_MS);
  return { accepted, refused, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), count: h.count, cpu };
}

function row(client: EventLoopClient, offered: number, s: Sustained, flushMs: number): EventLoopRow {
  return {
    client,
    offeredPerSecond: offered,
    achievedPerSecond: (s.accepted / s.cpu.wallMs) * 1000,
    refused: s.refused,
    delayP50Ms: s.p50,
    delayP99Ms: s.p99,
    delayMaxMs: s.max,
    delaySamples: s.count,
    cpu: s.cpu,
    flushMs,
  };
}

function describe(r: EventLoopRow): string {
  const main = r.cpu.mainMs === undefined ? 'n/a' : `${((r.cpu.mainMs / r.cpu.wallMs) * 100).toFixed(0)}%`;
  return (
    `${r.client}: ${rate(r.achievedPerSecond)} achieved, delay p50 ${r.delayP50Ms.toFixed(3)} ms p99 ${r.delayP99Ms.toFixed(3)} ms, ` +
    `main-thread CPU ${main}, ELU ${(r.cpu.mainElu * 100).toFixed(0)}%`
  );
}

export async function runEventLoop(url: string, cfg: BenchConfig['eventLoop']): Promise<EventLoopResult> {
  const payload = new Uint8Array(cfg.payload).fill(120);
  const rows: EventLoopRow[] = [];
  progress(`event loop: ${rate(cfg.ratePerSecond)} of ${payloadLabel(cfg.payload)} for ${cfg.durationMs} ms per client`);

  const idle = await sustain(() => true, 0, cfg.durationMs, []);
  rows.push(row('idle pacer', 0, idle, 0));
  progress(`  ${describe(rows[rows.length - 1]!)}`);

  const { value: pub, tids } = await withNewThreads(() => createPublisher({ servers: url, waitForConnect: true }));
  try {
    // Warm up the JIT on both sides of the ring before measuring.
    await sustain(() => pub.tryPublish(SUBJECT, payload), cfg.ratePerSecond, 500, []);
    await pub.flush();
    const s = await sustain(() => pub.tryPublish(SUBJECT, payload), cfg.ratePerSecond, cfg.durationMs, tids);
    const f0 = performance.now();
    await pub.flush();
    rows.push(row('nats-offload', cfg.ratePerSecond, s, performance.now() - f0));
    progress(`  ${describe(rows[rows.length - 1]!)}`);
  } finally {
    await pub.close();
  }

  const nc = await connect({ servers: url, name: 'bench-nats' });
  try {
    const publish = (): boolean => {
      nc.publish(SUBJECT, payload);
      return true;
    };
    await sustain(publish, cfg.ratePerSecond, 500, []);
    await nc.flush();
    const s = await sustain(publish, cfg.ratePerSecond, cfg.durationMs, []);
    const f0 = performance.now();
    await nc.flush();
    rows.push(row('nats', cfg.ratePerSecond, s, performance.now() - f0));
    progress(`  ${describe(rows[rows.length - 1]!)}`);
  } finally {
    await nc.close();
  }
  return { payload: cfg.payload, durationMs: cfg.durationMs, rows };
}
