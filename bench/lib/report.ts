/** Turns the suites' results into the targets verdict, latest.md, latest.json and the SVG charts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import type { EventLoopResult } from '../suites/event-loop.js';
import type { OutageResult } from '../suites/outage.js';
import type { PublishCostResult } from '../suites/publish-cost.js';
import type { ThroughputResult, ThroughputRow } from '../suites/throughput.js';
import { MiB, int, markdownTable, mib, ms, ns, pct, payloadLabel, rate, ratio } from './format.js';
import { label, type OutageRunResult } from './outage-protocol.js';
import { median } from './stats.js';
import { barChart, lineChart } from './svg.js';

export interface Environment {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly kernel: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly natsPackage: string;
  readonly natsServer: string;
  readonly serverUrl: string;
  readonly serverStartedByBench: boolean;
  readonly gitCommit: string;
  readonly gitDirty: boolean;
  readonly loadAverageStart: number[];
  loadAverageEnd: number[];
  durationSeconds: number;
  readonly quick: boolean;
}

export interface Results {
  readonly environment: Environment;
  readonly config: BenchConfig;
  publishCost?: PublishCostResult;
  throughput?: ThroughputResult;
  eventLoop?: EventLoopResult;
  outage?: OutageResult;
  readonly errors: { suite: string; message: string }[];
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly ratio: number;
  readonly required: string;
  readonly met: boolean;
}

/**
 * Median over rounds of a/b, each round's two runs made seconds apart: steadier than the ratio of
 * the two medians when the machine's load drifts between rounds.
 */
export function pairedRatio(t: ThroughputResult, a: string, b: string, payload: number): number {
  const ra = t.rows.find((x) => x.client === a && x.payload === payload)?.runs ?? [];
  const rb = t.rows.find((x) => x.client === b && x.payload === payload)?.runs ?? [];
  const n = Math.min(ra.length, rb.length);
  if (n === 0) return Number.NaN;
  return median(Array.from({ length: n }, (_, i) => ra[i]!.msgsPerSecond / rb[i]!.msgsPerSecond));
}

export function evaluateTargets(r: Results): Target[] {
  const out: Target[] = [];
  if (r.publishCost !== undefined) {
    for (const payload of [16, 128]) {
      for (const subjects of r.config.publishCost.subjectCounts) {
        const off = r.publishCost.rows.find((x) => x.client === 'nats-offload' && x.payload === payload && x.subjects === subjects);
        const nc = r.publishCost.rows.find((x) => x.client === 'nats' && x.payload === payload && x.subjects === subjects);
        if (off === undefined || nc === undefined) continue;
        const q = nc.p50Ns / off.p50Ns;
        out.push({
          target: `publish cost, ${payloadLabel(payload)}, ${subjects === 1 ? '1 subject' : `${subjects} rotating subjects`}`,
          measured: `${ns(off.p50Ns)} vs ${ns(nc.p50Ns)} ns/call (median)`,
          ratio: q,
          required: '≥ 8× cheaper',
          met: q >= 8,
        });
        const h = r.publishCost.rows.find((x) => x.client === 'nats-offload (handles)' && x.payload === payload && x.subjects === subjects);
        if (h !== undefined) {
          const qh = nc.p50Ns / h.p50Ns;
          out.push({
            target: `publish cost, ${payloadLabel(payload)}, ${subjects} rotating subjects as \`pub.subject()\` handles`,
            measured: `${ns(h.p50Ns)} vs ${ns(nc.p50Ns)} ns/call (median)`,
            ratio: qh,
            required: '≥ 8× cheaper',
            met: qh >= 8,
          });
        }
      }
    }
  }
  if (r.throughput !== undefined) {
    for (const payload of [16, 128]) {
      const get = (c: string): number => r.throughput!.rows.find((x) => x.client === c && x.payload === payload)?.medianMsgsPerSecond ?? Number.NaN;
      const off = get('nats-offload');
      const nc = get('nats');
      const raw = get('raw');
      if (Number.isFinite(off) && Number.isFinite(nc)) {
        const q = pairedRatio(r.throughput, 'nats-offload', 'nats', payload);
        out.push({
          target: `throughput vs nats client, ${payloadLabel(payload)}`,
          measured: `${rate(off)} vs ${rate(nc)} (medians)`,
          ratio: q,
          required: '≥ 3×',
          met: q >= 3,
        });
      }
      if (Number.isFinite(off) && Number.isFinite(raw)) {
        const q = pairedRatio(r.throughput, 'nats-offload', 'raw', payload);
        out.push({
          target: `throughput vs raw-frame ceiling, ${payloadLabel(payload)}`,
          measured: `${rate(off)} vs ${rate(raw)} (medians)`,
          ratio: q,
          required: '≥ 0.70×',
          met: q >= 0.7,
        });
      }
    }
  }
  if (r.eventLoop !== undefined) {
    const off = r.eventLoop.rows.find((x) => x.client === 'nats-offload');
    const nc = r.eventLoop.rows.find((x) => x.client === 'nats');
    if (off !== undefined && nc !== undefined) {
      const q = nc.delayP99Ms / off.delayP99Ms;
      out.push({
        target: `event-loop delay p99 at ${rate(off.offeredPerSecond)} offered`,
        measured: `${ms(off.delayP99Ms)} vs ${ms(nc.delayP99Ms)} ms`,
        ratio: q,
        required: '≤ 1/5 of nats (ratio ≥ 5×)',
        met: q >= 5,
      });
    }
  }
  if (r.outage !== undefined) {
    for (const run of r.outage.runs) {
      if (run.config.client !== 'nats-offload') continue;
      const limit = run.config.bufferBytes + 16 * MiB;
      out.push({
        target: `outage RSS growth, ${label(run.config)}`,
        measured: `+${mib(run.rssGrowth)} MiB (limit ${mib(limit)} MiB)`,
        ratio: run.rssGrowth / limit,
        required: '≤ 1.00× of buffer + 16 MiB',
        met: run.rssGrowth <= limit,
      });
      out.push({
        target: `outage: every accepted message arrives, ${label(run.config)}`,
        measured: `${int(run.arrivedUnique)} of ${int(run.accepted)} (${int(run.missing)} missing)`,
        ratio: run.accepted === 0 ? Number.NaN : run.arrivedUnique / run.accepted,
        required: '1.00× (none missing)',
        met: run.missing === 0 && run.accepted > 0,
      });
    }
  }
  return out;
}

function targetsTable(targets: readonly Target[]): string {
  return markdownTable(
    ['Target', 'Measured (nats-offload vs other)', '>Ratio', 'Required', 'Verdict'],
    targets.map((t) => [t.target, t.measured, ratio(t.ratio), t.required, t.met ? 'met' : '**not met**']),
  );
}

function publishCostSection(p: PublishCostResult): string {
  const rows: string[][] = [];
  const keys = [...new Set(p.rows.map((r) => `${r.payload}/${r.subjects}`))];
  for (const k of keys) {
    const [payload, subjects] = k.split('/').map(Number) as [number, number];
    const off = p.rows.find((r) => r.client === 'nats-offload' && r.payload === payload && r.subjects === subjects)!;
    const nc = p.rows.find((r) => r.client === 'nats' && r.payload === payload && r.subjects === subjects)!;
    const h = p.rows.find((r) => r.client === 'nats-offload (handles)' && r.payload === payload && r.subjects === subjects);
    rows.push([
      payloadLabel(payload),
      String(subjects),
      ns(off.p50Ns),
      h === undefined ? '–' : `${ns(h.p50Ns)} (${ratio(nc.p50Ns / h.p50Ns)})`,
      `${ns(off.meanNs)} ±${off.rme.toFixed(0)}%`,
      ns(nc.p50Ns),
      `${ns(nc.meanNs)} ±${nc.rme.toFixed(0)}%`,
      ratio(nc.p50Ns / off.p50Ns),
      ratio(nc.meanNs / off.meanNs),
      int(off.refused),
    ]);
  }
  return [
    '## 1. Main-thread publish cost (tinybench)',
    '',
    `Wall-clock ns per accepted call. Each tinybench sample is one batch of ${int(p.batch)} calls plus one microtask turn (which`,
    "runs the nats client's deferred write on this thread), divided by the calls accepted. The headline is the median",
    'sample: on this shared 2-core machine some batches include a preemption of a millisecond or more (the worker,',
    'nats-server and other processes compete for the cores), which the mean (± relative margin of error) keeps.',
    "Between samples the client's flush is awaited outside the timed window, so nats-offload's ring",
    `(reconnectBufSize ${mib(p.bufferBytes)} MiB, lapped by ${int(p.warmupMessages)} messages before timing so that no first-touch page`,
    "fault is counted) starts each batch empty and refuses nothing, and the nats client's outbound buffer never piles up.",
    'This is the cost of an accepted publish; a publisher that outruns the worker meets a full ring instead (suite 2',
    'counts those refusals). Suite 2 also gives main-thread CPU per message over whole runs.',
    '',
    markdownTable(
      ['Payload', '>Subjects', '>nats-offload median', '>with handles (nats / it)', '>mean', '>nats median', '>mean', '>nats / offload (median)', '>(mean)', '>Refused'],
      rows,
    ),
    '',
    '![publish cost](publish-cost.svg)',
  ].join('\n');
}

function throughputSection(t: ThroughputResult, runs: number): string {
  const payloads = [...new Set(t.rows.map((r) => r.payload))];
  const get = (c: string, p: number): ThroughputRow | undefined => t.rows.find((r) => r.client === c && r.payload === p);
  const mid = (values: number[]): number => median(values);
  const rows = payloads.map((p) => {
    const raw = get('raw', p)!;
    const off = get('nats-offload', p)!;
    const spin = get('nats-offload (setImmediate)', p);
    const nc = get('nats', p)!;
    return [
      payloadLabel(p),
      rate(raw.medianMsgsPerSecond),
      rate(off.medianMsgsPerSecond),
      spin === undefined ? '–' : rate(spin.medianMsgsPerSecond),
      rate(nc.medianMsgsPerSecond),
      ratio(pairedRatio(t, 'nats-offload', 'nats', p)),
      pct(pairedRatio(t, 'nats-offload', 'raw', p)),
      `${off.medianMBPerSecond.toFixed(0)} MB/s`,
      `${int(mid(off.runs.map((r) => r.waits)))} / ${spin === undefined ? '–' : int(mid(spin.runs.map((r) => r.waits)))}`,
    ];
  });
  const cpuCell = (v: (number | undefined)[]): string => {
    const ok = v.filter((x): x is number => x !== undefined);
    return ok.length === 0 ? '–' : ns(mid(ok));
  };
  const cpuRows = t.rows.map((r) => [
    payloadLabel(r.payload),
    r.client,
    cpuCell(r.runs.map((x) => x.cpu.mainNs)),
    cpuCell(r.runs.map((x) => x.cpu.workerNs)),
    cpuCell(r.runs.map((x) => x.cpu.serverNs)),
    cpuCell(r.runs.map((x) => (x.cpu.mainRunQueueMs === undefined ? undefined : (x.cpu.mainRunQueueMs / x.ms) * 100))),
  ]);
  const lines = [
    '## 2. End-to-end throughput (server-confirmed)',
    '',
    `Median of ${runs} run(s) per cell; clients alternate within each round, and the ratios are the median of the`,
    'per-round ratios (runs seconds apart, so drifting load from other processes cancels). Timed from the first publish until a PONG',
    'confirms the last message. nats-offload: default options (8 MiB ring), `tryPublish()` in a loop; on `false` it',
    'awaits `pub.ready()` (resolves when pending falls to the low-water mark) and retries; `await pub.flush()` at the',
    'end. "(setImmediate)": the same with `await setImmediate` on `false`, a busy retry. "waits" counts the `false`',
    'returns (median; ready / setImmediate). nats: `nc.publish()` in a loop, awaiting the previous `nc.flush()` every',
    "16,384 messages. Raw ceiling: one socket, pre-built `PUB` frames in 64 KiB writes honouring 'drain', then PING/PONG.",
    '',
    markdownTable(
      ['Payload', '>raw ceiling', '>nats-offload', '>nats-offload (setImmediate)', '>nats', '>offload / nats', '>offload / raw', '>offload wire', '>waits'],
      rows,
    ),
    '',
    'CPU time per message during the same runs (median), from per-thread schedstat (main thread, the publisher\'s worker',
    'thread) and /proc/<pid>/stat of nats-server (10 ms ticks). "Run queue" is the share of wall time the main thread was',
    'runnable but waiting for a core: on this 2-core machine publisher, worker and server compete for CPUs.',
    '',
    markdownTable(['Payload', 'Client', '>Main ns/msg', '>Worker ns/msg', '>Server ns/msg', '>Main run queue %'], cpuRows),
  ];
  const s = t.subscriberCheck;
  if (s !== undefined) {
    const r = s.subscriber.report;
    lines.push(
      '',
      `**Nothing dropped:** nats-offload at ${payloadLabel(s.payload)} with a counting subscriber in a separate process ` +
        `(raw-protocol parser, sequence number in each payload): ${int(s.messages)} published, confirmed at ${rate(s.msgsPerSecond)} ` +
        `(${int(s.waits)} waits), subscriber received ${int(r.received)}: ${int(r.unique)} unique, ${int(r.duplicates)} duplicates, ` +
        `${int(r.outOfOrder)} out of order, **${int(r.missing)} missing**` +
        (Number.isFinite(s.allArrivedMs) ? `; all had arrived ${ms(s.allArrivedMs, 0)} ms after the first publish.` : '.') +
        ' (This run shares 2 cores with a third busy process, so its rate is not comparable with the table.)',
    );
  }
  lines.push('', '![throughput](throughput.svg)');
  return lines.join('\n');
}

function eventLoopSection(e: EventLoopResult): string {
  const pctOf = (v: number | undefined, wall: number): string => (v === undefined ? 'n/a' : pct(v / wall));
  const rows = e.rows.map((r) => [
    r.client,
    r.client === 'idle pacer' ? '–' : rate(r.achievedPerSecond),
    ms(r.delayP50Ms),
    ms(r.delayP99Ms),
    ms(r.delayMaxMs),
    pctOf(r.cpu.mainMs, r.cpu.wallMs),
    pct(r.cpu.mainElu),
    r.client === 'nats-offload' ? pctOf(r.cpu.clientThreadsMs, r.cpu.wallMs) : '–',
    pct(r.cpu.processMs / r.cpu.wallMs),
    r.client === 'nats-offload' ? int(r.refused) : '–',
  ]);
  return [
    '## 3. Main-thread freedom',
    '',
    `Each client sustains ${rate(e.rows.find((r) => r.client !== 'idle pacer')?.offeredPerSecond ?? 0)} of ${payloadLabel(e.payload)} for ${e.durationMs} ms: a 1 ms`,
    'setTimeout publishes whatever is due since the start. Event-loop delay: `perf_hooks.monitorEventLoopDelay`',
    '(resolution 1 ms), reported as the delay beyond the 1 ms interval. "idle pacer" runs the same timer without',
    'publishing: it is the floor this machine gives.',
    '',
    'CPU: Node 20 has no `process.threadCpuUsage()`, and `process.cpuUsage()` sums all threads of the process',
    "(nats-offload's worker included), so it cannot show the main thread's share. Main-thread CPU is read per thread",
    "from Linux's `/proc/self/task/<pid>/schedstat`; the worker column is the threads created with the publisher;",
    "ELU is `performance.eventLoopUtilization()` of the main loop; process CPU is `process.cpuUsage()` (all threads).",
    '',
    markdownTable(
      ['Client', '>Achieved', '>Delay p50 ms', '>p99 ms', '>max ms', '>Main-thread CPU', '>Main ELU', '>Worker CPU', '>Process CPU', '>Refused'],
      rows,
    ),
  ].join('\n');
}

function outageSection(o: OutageResult): string {
  const first = o.runs[0];
  const rows = o.runs.map((r) => {
    const offload = r.config.client === 'nats-offload';
    return [
      label(r.config),
      offload ? mib(r.ringBytes) : '–',
      `+${mib(r.rssGrowth)}`,
      offload ? mib(r.config.bufferBytes + 16 * MiB) : '–',
      int(r.offered),
      int(r.accepted),
      int(r.refused),
      `${int(r.acceptedDuringOutage)} / ${int(r.refusedDuringOutage)}`,
      offload ? int(r.confirmed) : 'unknown',
      int(r.arrivedUnique),
      int(r.missing),
      int(r.duplicates),
      Number.isFinite(r.publisherReconnectAt - r.restartedAt) ? ms(r.publisherReconnectAt - r.restartedAt, 0) : 'n/a',
      offload && Number.isFinite(r.drainMs) ? ms(r.drainMs, 0) : '–',
    ];
  });
  const notes = o.runs.flatMap((r) => r.notes.map((n) => `- ${label(r.config)}: ${n}`));
  return [
    '## 4. Outage',
    '',
    first === undefined
      ? ''
      : `Each client in its own process with its own nats-server: ${int(first.config.ratePerSecond)} msg/s of ${payloadLabel(first.config.payload)} ` +
        `at a fixed rate (refused messages are not retried); after ${first.config.beforeMs} ms the server is stopped (SIGTERM), ` +
        `restarted on the same port ${first.config.outageMs} ms later, and publishing goes on for ${first.config.afterMs} ms. ` +
        `Both publishers wait ${first.config.reconnectTimeWait} ms between reconnect attempts; a subscriber process (nats client, ` +
        'reconnecting every 50 ms) counts sequence numbers. RSS growth = highest RSS sampled minus the RSS before publishing ' +
        '(after a GC). "Drain" = from the server being ready again until every message accepted before then was confirmed.',
    '',
    markdownTable(
      ['Run', '>Ring SAB MiB', '>RSS growth MiB', '>Limit MiB', '>Offered', '>Accepted', '>Refused', '>Outage accepted / refused', '>Confirmed', '>Arrived', '>Missing', '>Dups', '>Reconnect ms', '>Drain ms'],
      rows,
    ),
    '',
    ...(notes.length > 0 ? ['Notes:', ...notes, ''] : []),
    '![outage memory](outage-memory.svg)',
    '![outage buffer](outage-buffer.svg)',
    '![outage arrivals](outage-arrivals.svg)',
  ].join('\n');
}

function environmentSection(e: Environment): string {
  return [
    '## Environment',
    '',
    markdownTable(
      ['Item', 'Value'],
      [
        ['Date', e.date],
        ['Node', `${e.node} (V8 ${e.v8})`],
        ['Platform', `${e.platform} ${e.kernel}`],
        ['CPU', `${e.cpuModel}, ${e.cores} cores`],
        ['Memory', `${mib(e.memoryBytes)} MiB`],
        ['nats package', e.natsPackage],
        ['nats-server', `${e.natsServer} (${e.serverStartedByBench ? 'started by the bench' : 'NATS_URL'}, ${e.serverUrl})`],
        ['Commit', `${e.gitCommit}${e.gitDirty ? ' + uncommitted changes' : ''}`],
        ['Load average (1 min) at start / end', `${e.loadAverageStart[0]?.toFixed(2)} / ${e.loadAverageEnd[0]?.toFixed(2)}`],
        ['Duration', `${e.durationSeconds.toFixed(0)} s${e.quick ? ' (BENCH_QUICK)' : ''}`],
      ],
    ),
  ].join('\n');
}

export function renderMarkdown(r: Results, targets: readonly Target[]): string {
  const e = r.environment;
  const parts = [
    `# nats-offload benchmark${e.quick ? ' (quick smoke run)' : ''}`,
    '',
    e.quick
      ? '> BENCH_QUICK=1 smoke run: shorter runs, fewer repetitions; not a reference.'
      : `> Reference run made on this project's ${e.cores}-core machine (${e.cpuModel}, Node ${e.node}) on ${e.date.slice(0, 10)} ` +
        `with \`npm run bench\`. Every ratio compares clients measured in this same run. The machine was shared with ` +
        `other processes (1-min load average ${e.loadAverageStart[0]?.toFixed(2)} at start, ${e.loadAverageEnd[0]?.toFixed(2)} at end).`,
    '',
    '## Targets',
    '',
    targets.length > 0 ? targetsTable(targets) : '(no suite produced a target)',
  ];
  if (r.errors.length > 0) parts.push('', '**Suites that failed:**', ...r.errors.map((x) => `- ${x.suite}: ${x.message}`));
  if (r.publishCost !== undefined) parts.push('', publishCostSection(r.publishCost));
  if (r.throughput !== undefined) parts.push('', throughputSection(r.throughput, r.config.throughput.runs));
  if (r.eventLoop !== undefined) parts.push('', eventLoopSection(r.eventLoop));
  if (r.outage !== undefined) parts.push('', outageSection(r.outage));
  parts.push(
    '',
    '## Running and profiling',
    '',
    '```sh',
    'npm ci && npm run bench            # this run: starts its own nats-server on a free loopback port',
    'BENCH_QUICK=1 npm run bench        # ~1-minute smoke run, written to bench/results/quick/ (git-ignored)',
    'NATS_URL=nats://127.0.0.1:4222 npm run bench   # suites 1-3 against that server (the outage suite always starts its own)',
    'BENCH_SUITES=cost,throughput npm run bench     # some of: cost, throughput, eventloop, outage',
    '# one .cpuprofile per thread (main, and each publisher worker thread):',
    'npm run build && BENCH_SUITES=throughput node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/index.js',
    '```',
    '',
    environmentSection(e),
    '',
  );
  return parts.join('\n');
}

function outageCharts(o: OutageResult): Record<string, string> {
  const first = o.runs[0];
  if (first === undefined) return {};
  const bands = [{ from: first.stopAt / 1000, to: first.restartedAt / 1000, label: 'server down' }];
  const name = (r: OutageRunResult): string => label(r.config);
  const offload = o.runs.filter((r) => r.config.client === 'nats-offload');
  return {
    'outage-memory.svg': lineChart({
      title: 'Resident memory during a server outage',
      subtitle: `RSS growth over the pre-publish baseline; ${int(first.config.ratePerSecond)} msg/s of ${payloadLabel(first.config.payload)}`,
      series: o.runs.map((r) => ({ name: name(r), points: r.samples.map((s) => [s.t / 1000, (s.rss - r.baselineRss) / MiB] as const) })),
      xLabel: 'seconds since publishing started',
      yLabel: 'RSS growth (MiB)',
      format: (v) => v.toFixed(0),
      bands,
      hlines: offload.map((r) => ({ y: (r.config.bufferBytes + 16 * MiB) / MiB, label: `target for ${name(r)}: buffer + 16 MiB` })),
    }),
    'outage-buffer.svg': lineChart({
      title: 'nats-offload buffer fill during a server outage',
      subtitle: 'pending (unconfirmed) frame bytes; publishes are refused while the ring is full',
      series: offload.map((r) => ({ name: name(r), points: r.samples.map((s) => [s.t / 1000, s.pendingBytes / MiB] as const) })),
      xLabel: 'seconds since publishing started',
      yLabel: 'pending bytes (MiB)',
      format: (v) => v.toFixed(0),
      bands,
      hlines: offload.map((r) => ({ y: r.config.bufferBytes / MiB, label: `reconnectBufSize ${name(r)}` })),
    }),
    'outage-arrivals.svg': lineChart({
      title: 'Messages accepted and messages that reached the subscriber',
      subtitle: 'solid: unique sequence numbers at the subscriber; dashed: accepted by the publisher',
      series: o.runs.flatMap((r) => [
        { name: `${name(r)} arrived`, points: r.samples.map((s) => [s.t / 1000, s.arrived / 1000] as const) },
        { name: `${name(r)} accepted`, dashed: true, points: r.samples.map((s) => [s.t / 1000, s.accepted / 1000] as const) },
      ]).map((s, i) => ({ ...s, color: ['#1f77b4', '#1f77b4', '#2ca02c', '#2ca02c', '#d62728', '#d62728', '#9467bd', '#9467bd'][i] ?? '#333' })),
      xLabel: 'seconds since publishing started',
      yLabel: 'thousands of messages',
      format: (v) => v.toFixed(0),
      bands,
    }),
  };
}

export function renderCharts(r: Results): Record<string, string> {
  const charts: Record<string, string> = {};
  if (r.throughput !== undefined) {
    const t = r.throughput;
    const payloads = [...new Set(t.rows.map((x) => x.payload))];
    charts['throughput.svg'] = barChart({
      title: 'End-to-end throughput by payload (server-confirmed)',
      subtitle: `median of ${r.config.throughput.runs} run(s), million messages per second`,
      groups: payloads.map(payloadLabel),
      series: (['raw', 'nats-offload', 'nats-offload (setImmediate)', 'nats'] as const).map((c) => ({
        name: c === 'raw' ? 'raw-frame ceiling' : c,
        color: c === 'raw' ? '#7f7f7f' : c === 'nats' ? '#d62728' : c === 'nats-offload' ? '#1f77b4' : '#9ecae1',
        values: payloads.map((p) => (t.rows.find((x) => x.client === c && x.payload === p)?.medianMsgsPerSecond ?? Number.NaN) / 1e6),
      })),
      yLabel: 'M msg/s',
      format: (v) => v.toFixed(2),
    });
  }
  if (r.publishCost !== undefined) {
    const p = r.publishCost;
    const keys = [...new Set(p.rows.map((x) => `${x.payload}/${x.subjects}`))];
    charts['publish-cost.svg'] = barChart({
      title: 'Main-thread cost per accepted publish',
      subtitle: 'median wall-clock ns per call (lower is better); ×N = number of rotating subjects',
      groups: keys.map((k) => {
        const [pl, s] = k.split('/').map(Number) as [number, number];
        return `${payloadLabel(pl)} ×${s}`;
      }),
      series: (['nats-offload', 'nats'] as const).map((c) => ({
        name: c === 'nats' ? 'nats nc.publish()' : 'nats-offload tryPublish()',
        color: c === 'nats' ? '#d62728' : '#1f77b4',
        values: keys.map((k) => p.rows.find((x) => x.client === c && `${x.payload}/${x.subjects}` === k)?.p50Ns ?? Number.NaN),
      })),
      yLabel: 'ns per call',
      format: (v) => v.toFixed(0),
    });
  }
  if (r.outage !== undefined) Object.assign(charts, outageCharts(r.outage));
  return charts;
}

/** Writes latest.md, latest.json and the charts into `dir`; returns the paths written. */
export function writeResults(dir: string, r: Results, targets: readonly Target[], markdown: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  put('latest.md', markdown);
  put('latest.json', `${JSON.stringify({ ...r, targets }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  for (const [name, svg] of Object.entries(renderCharts(r))) put(name, svg);
  return written;
}
