/**
 * Suite 1, main-thread publish cost: wall-clock ns per accepted call of `pub.tryPublish()`, of the
 * nats client's `nc.publish()` and of the naive floor (bench/lib/floor.ts), one subject and many
 * rotating ones, in `processes` fresh processes (bench/cost-run.ts) run one after another.
 *
 * Within a process the cases alternate batch by batch (the order rotated each round), so every
 * round gives one paired sample of each ratio. Reported per ratio: the median of all per-round
 * ratios, the range of the per-process medians (how far a single run could have landed), and the
 * ratio of the means (which keeps what the median hides: the nats client's GC pauses, and our
 * batches that lost the core to the worker or another process).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../config.js';
import { payloadLabel, ratio } from '../lib/format.js';
import { progress } from '../lib/progress.js';
import { median } from '../lib/stats.js';
import type { CpuTimes } from '../lib/threads.js';

export type CostClient = 'nats-offload' | 'nats-offload (handles)' | 'nats' | 'floor';

/** One subject; `rotatingSubjects` of them in a fixed order; or as many others in random order. */
export type SubjectOrder = 'one' | 'cycle' | 'random';

export interface CostCase {
  readonly client: CostClient;
  readonly order: SubjectOrder;
}

export interface CostRunConfig {
  readonly url: string;
  readonly payloads: readonly number[];
  readonly rotatingSubjects: number;
  readonly batch: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Messages per case in the steady stream whose CPU is read after the timed rounds. */
  readonly cpuMessages: number;
  readonly bufferBytes: number;
  /** Seeds the order of the cases in each round. */
  readonly seed: number;
}

export interface CostCaseResult extends CostCase {
  /** One sample per round: ns per accepted call in that round's batch. */
  nsPerCall: number[];
  /** Over `cpuCalls` calls with their flushes (nats-offload: the worker thread too); none for the floor. */
  cpu: CpuTimes;
  cpuCalls: number;
  calls: number;
  refused: number;
}

export interface CostProcessResult {
  readonly node: string;
  readonly workerThreads: number;
  readonly cells: { readonly payload: number; readonly cases: CostCaseResult[] }[];
}

export type FromCostRun = { type: 'result'; result: CostProcessResult };

export interface CostRow extends CostCase {
  readonly payload: number;
  readonly subjects: number;
  /** Median over every batch of every process. */
  readonly medianNs: number;
  readonly meanNs: number;
  readonly batches: number;
  readonly refused: number;
  /** CPU per call over the CPU windows of all processes (NaN for the floor). */
  readonly mainCpuNs: number;
  readonly workerCpuNs: number;
  readonly processCpuNs: number;
}

export interface CostRatio {
  readonly payload: number;
  readonly key: RatioKey;
  /** Median of all per-round ratios (every round of every process). */
  readonly median: number;
  /** Lowest and highest per-process median. */
  readonly min: number;
  readonly max: number;
  /** Ratio of the means (all batches of all processes). */
  readonly mean: number;
}

export type RatioKey =
  | 'nats/offload 1'
  | 'nats/offload N'
  | 'nats/handles N'
  | 'offload/floor 1'
  | 'offload/floor N'
  | 'offload N/offload 1'
  | 'offload random/offload 1'
  | 'total cpu 1'
  | 'total cpu N';

export interface PublishCostResult {
  readonly processes: number;
  readonly rounds: number;
  readonly batch: number;
  readonly bufferBytes: number;
  readonly rotatingSubjects: number;
  readonly rows: CostRow[];
  readonly ratios: CostRatio[];
}

/** What each ratio divides: numerator case over denominator case, both at the same payload. */
export const RATIOS: Readonly<Record<RatioKey, { readonly label: string; readonly over: readonly [CostCase, CostCase] }>> = {
  'nats/offload 1': { label: 'nats / nats-offload, 1 subject', over: [{ client: 'nats', order: 'one' }, { client: 'nats-offload', order: 'one' }] },
  'nats/offload N': { label: 'nats / nats-offload, rotating strings', over: [{ client: 'nats', order: 'cycle' }, { client: 'nats-offload', order: 'cycle' }] },
  'nats/handles N': { label: 'nats / nats-offload, rotating handles', over: [{ client: 'nats', order: 'cycle' }, { client: 'nats-offload (handles)', order: 'cycle' }] },
  'offload/floor 1': { label: 'nats-offload / floor, 1 subject', over: [{ client: 'nats-offload', order: 'one' }, { client: 'floor', order: 'one' }] },
  'offload/floor N': { label: 'nats-offload / floor, rotating strings', over: [{ client: 'nats-offload', order: 'cycle' }, { client: 'floor', order: 'cycle' }] },
  'offload N/offload 1': { label: 'nats-offload rotating strings / 1 subject', over: [{ client: 'nats-offload', order: 'cycle' }, { client: 'nats-offload', order: 'one' }] },
  'offload random/offload 1': { label: 'nats-offload strings in random order / 1 subject', over: [{ client: 'nats-offload', order: 'random' }, { client: 'nats-offload', order: 'one' }] },
  'total cpu 1': { label: 'total CPU: nats main / nats-offload main + worker, 1 subject', over: [{ client: 'nats', order: 'one' }, { client: 'nats-offload', order: 'one' }] },
  'total cpu N': { label: 'total CPU: nats main / nats-offload main + worker, rotating strings', over: [{ client: 'nats', order: 'cycle' }, { client: 'nats-offload', order: 'cycle' }] },
};

function runChild(cfg: CostRunConfig): Promise<CostProcessResult> {
  const file = fileURLToPath(new URL('../cost-run.js', import.meta.url));
  const child = fork(file, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: CostProcessResult | undefined;
    child.on('message', (m: FromCostRun) => (result = m.result));
    child.once('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`publish-cost process exited with code ${code} and no result`))));
  });
}

function find(cases: readonly CostCaseResult[], c: CostCase): CostCaseResult {
  const found = cases.find((x) => x.client === c.client && x.order === c.order);
  if (found === undefined) throw new Error(`no publish-cost case ${c.client}, ${c.order}`);
  return found;
}

const sumOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const totalCpu = (c: CostCaseResult): number => (c.cpu.mainNs + c.cpu.workerNs) / c.cpuCalls;

export function ratioOf(processes: readonly CostProcessResult[], payload: number, key: RatioKey): CostRatio {
  const [num, den] = RATIOS[key].over;
  const pairs = processes.map((p) => {
    const cases = p.cells.find((c) => c.payload === payload)!.cases;
    return [find(cases, num), find(cases, den)] as const;
  });
  if (key.startsWith('total cpu')) {
    // CPU is read per thread at scheduler granularity: one figure per process, not per round.
    const perProcess = pairs.map(([a, b]) => a.cpu.mainNs / a.cpuCalls / totalCpu(b));
    return { payload, key, median: median(perProcess), min: Math.min(...perProcess), max: Math.max(...perProcess), mean: Number.NaN };
  }
  const perRound = pairs.map(([a, b]) => a.nsPerCall.map((v, i) => v / b.nsPerCall[i]!));
  const perProcess = perRound.map((r) => median(r));
  const aAll = pairs.flatMap(([a]) => a.nsPerCall);
  const bAll = pairs.flatMap(([, b]) => b.nsPerCall);
  return {
    payload,
    key,
    median: median(perRound.flat()),
    min: Math.min(...perProcess),
    max: Math.max(...perProcess),
    mean: sumOf(aAll) / aAll.length / (sumOf(bAll) / bAll.length),
  };
}

export function summarize(processes: readonly CostProcessResult[], cfg: BenchConfig['publishCost']): PublishCostResult {
  const rows: CostRow[] = [];
  const ratios: CostRatio[] = [];
  for (const payload of cfg.payloads) {
    const first = processes[0]!.cells.find((c) => c.payload === payload)!;
    for (const c of first.cases) {
      const all = processes.map((p) => find(p.cells.find((x) => x.payload === payload)!.cases, c));
      const ns = all.flatMap((x) => x.nsPerCall);
      const cpuCalls = sumOf(all.map((x) => x.cpuCalls));
      rows.push({
        client: c.client,
        order: c.order,
        subjects: c.order === 'one' ? 1 : cfg.rotatingSubjects,
        payload,
        medianNs: median(ns),
        meanNs: sumOf(ns) / ns.length,
        batches: ns.length,
        refused: sumOf(all.map((x) => x.refused)),
        mainCpuNs: sumOf(all.map((x) => x.cpu.mainNs)) / cpuCalls,
        workerCpuNs: sumOf(all.map((x) => x.cpu.workerNs)) / cpuCalls,
        processCpuNs: sumOf(all.map((x) => x.cpu.processNs)) / cpuCalls,
      });
    }
    for (const key of Object.keys(RATIOS) as RatioKey[]) ratios.push(ratioOf(processes, payload, key));
  }
  return {
    processes: processes.length,
    rounds: cfg.rounds,
    batch: cfg.batch,
    bufferBytes: cfg.bufferBytes,
    rotatingSubjects: cfg.rotatingSubjects,
    rows,
    ratios,
  };
}

export async function runPublishCost(url: string, cfg: BenchConfig['publishCost']): Promise<PublishCostResult> {
  const processes: CostProcessResult[] = [];
  for (let i = 1; i <= cfg.processes; i++) {
    const p = await runChild({
      url,
      payloads: cfg.payloads,
      rotatingSubjects: cfg.rotatingSubjects,
      batch: cfg.batch,
      rounds: cfg.rounds,
      warmupRounds: cfg.warmupRounds,
      cpuMessages: cfg.cpuMessages,
      bufferBytes: cfg.bufferBytes,
      seed: i,
    });
    processes.push(p);
    const line = cfg.payloads.map((payload) => {
      const r = (key: RatioKey): string => ratio(ratioOf([p], payload, key).median);
      return `${payloadLabel(payload)} nats/ours ${r('nats/offload 1')} (rotating ${r('nats/offload N')}), ours/floor ${r('offload/floor 1')}`;
    });
    progress(`publish cost, process ${i}/${cfg.processes}: ${line.join('; ')}`);
  }
  return summarize(processes, cfg);
}
