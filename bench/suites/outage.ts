/**
 * Suite 4, outage: publish at a fixed rate while the server is stopped and restarted. Each client
 * runs in its own child process (bench/outage-run.ts) with its own nats-server, so resident memory
 * is measured from a clean baseline and the server can be stopped even when NATS_URL is set.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../config.js';
import { mib } from '../lib/format.js';
import { label, type FromOutageRun, type OutageRunConfig, type OutageRunResult } from '../lib/outage-protocol.js';
import { progress } from '../lib/progress.js';

export interface OutageResult {
  readonly runs: OutageRunResult[];
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
  return { runs };
}
