/**
 * Suite 4, outage: publish at a fixed rate while the server is stopped and restarted. Each client
 * runs in its own child process (bench/outage-run.ts) with its own nats-server, so resident memory
 * is measured from a clean baseline and the server can be stopped even when NATS_URL is set.
 */
import { execFile, fork } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../config.js';
import { mib } from '../lib/format.js';
import { label, type FromOutageRun, type OutageRunConfig, type OutageRunResult } from '../lib/outage-protocol.js';
import { progress } from '../lib/progress.js';
import { median } from '../lib/stats.js';
import type { WorkerFloorKind } from '../worker-floor-run.js';

export interface OutageResult {
  readonly runs: OutageRunResult[];
  /**
   * RSS growth (bytes, median of WORKER_FLOOR_RUNS fresh processes) of a worker thread before any
   * nats-offload code: empty, and holding a connection made by the `nats` package.
   */
  readonly workerFloor: Readonly<Record<WorkerFloorKind, number>>;
}

const WORKER_FLOOR_RUNS = 3;

async function workerFloor(kind: WorkerFloorKind): Promise<number> {
  const file = fileURLToPath(new URL('../worker-floor-run.js', import.meta.url));
  const growth: number[] = [];
  for (let i = 0; i < WORKER_FLOOR_RUNS; i++) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', file, kind]);
    growth.push(Number(stdout.trim()));
  }
  return median(growth);
}

/** nats-offload's default reconnectTimeWait; the nats client is given the same. */
const RECONNECT_TIME_WAIT = 1000;

function runChild(cfg: OutageRunConfig): Promise<OutageRunResult> {
  const file = fileURLToPath(new URL('../outage-run.js', import.meta.url));
  const child = fork(file, [JSON.stringify(cfg)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: OutageRunResult | undefined;
    child.on('message', (m: FromOutageRun) => {
      if (m.type === 'progress') progress(`  ${m.message}`);
      else result = m.result;
    });
    child.once('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`outage run for ${label(cfg)} exited with code ${code} and no result`));
    });
  });
}

export async function runOutage(cfg: BenchConfig['outage']): Promise<OutageResult> {
  const plans: OutageRunConfig[] = [
    ...cfg.buffers.map((bufferBytes) => ({ client: 'nats-offload' as const, bufferBytes })),
    { client: 'nats' as const, bufferBytes: 0 },
  ].map((p) => ({
    ...p,
    ratePerSecond: cfg.ratePerSecond,
    payload: cfg.payload,
    ringLaps: p.client === 'nats' ? 0 : cfg.ringLaps,
    beforeMs: cfg.beforeMs,
    outageMs: cfg.outageMs,
    afterMs: cfg.afterMs,
    sampleMs: cfg.sampleMs,
    reconnectTimeWait: RECONNECT_TIME_WAIT,
  }));
  progress('outage: what a worker thread costs before nats-offload code (empty; with a nats connection)');
  const floor = { empty: await workerFloor('empty'), nats: await workerFloor('nats') };
  progress(`  worker thread: empty +${mib(floor.empty)} MiB, with a nats connection +${mib(floor.nats)} MiB`);
  const runs: OutageRunResult[] = [];
  for (const plan of plans) {
    progress(`outage: ${label(plan)}, ${plan.ratePerSecond} msg/s, server down ${plan.outageMs} ms`);
    const r = await runChild(plan);
    runs.push(r);
    progress(
      `  ${label(plan)}: RSS ${mib(r.baselineRss)} → ${mib(r.maxRss)} MiB (+${mib(r.rssGrowth)}), accepted ${r.accepted}, refused ${r.refused}, ` +
        `arrived ${r.arrivedUnique} (${r.missing} missing, ${r.duplicates} duplicates)` +
        (Number.isFinite(r.drainMs) ? `, drained ${r.drainMs.toFixed(0)} ms after restart` : ''),
    );
  }
  return { runs, workerFloor: floor };
}
