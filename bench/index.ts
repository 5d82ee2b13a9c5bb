/**
 * `npm run bench`: nats-offload against the nats client and the raw wire, side by side in one run.
 *
 *   NATS_URL=nats://host:port   use that server for suites 1-3 (default: start one on a free port)
 *   BENCH_QUICK=1               ~1-minute smoke run; results go to bench/results/quick/
 *   BENCH_SUITES=cost,throughput,eventloop,outage   run only these
 *   BENCH_OUT=dir               write results there instead
 *
 * Progress goes to stderr; the markdown summary to stdout and bench/results/latest.md, raw figures to
 * latest.json, charts to *.svg beside them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { startNatsServer, type NatsServerProcess } from '../scripts/nats-server.js';
import { benchConfig } from './config.js';
import { progress } from './lib/progress.js';
import { evaluateTargets, renderMarkdown, writeResults, type Environment, type Results } from './lib/report.js';
import { runEventLoop } from './suites/event-loop.js';
import { runJetStreamSuite } from './suites/jetstream.js';
import { runOutage } from './suites/outage.js';
import { runPublishCost } from './suites/publish-cost.js';
import { runThroughput } from './suites/throughput.js';

const SUITES = ['cost', 'throughput', 'eventloop', 'outage', 'jetstream'] as const;
type Suite = (typeof SUITES)[number];

function selectedSuites(): Set<Suite> {
  const env = process.env['BENCH_SUITES'];
  if (env === undefined || env.trim() === '') return new Set(SUITES);
  const wanted = env.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of wanted) {
    if (!(SUITES as readonly string[]).includes(s)) throw new Error(`BENCH_SUITES must list some of ${SUITES.join(', ')}, got \`${s}\``);
  }
  return new Set(wanted as Suite[]);
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function packageVersion(name: string): string {
  try {
    const file = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url));
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function serverVersion(url: string): Promise<string> {
  const nc = await connect({ servers: url, name: 'bench-probe' });
  const v = nc.info?.version ?? 'unknown';
  await nc.close();
  return v;
}

async function main(): Promise<void> {
  const quick = process.env['BENCH_QUICK'] === '1' || process.env['BENCH_QUICK'] === 'true';
  const suites = selectedSuites();
  const config = benchConfig(quick);
  const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
  const outDir = process.env['BENCH_OUT'] ?? join(repoRoot, 'bench', 'results', ...(quick ? ['quick'] : []));
  const t0 = performance.now();

  let server: NatsServerProcess | undefined;
  let url = process.env['NATS_URL'];
  if (url === undefined || url === '') {
    server = await startNatsServer();
    url = server.url;
    progress(`started nats-server on ${url} (pid ${server.pid})`);
  } else progress(`using NATS_URL=${url}`);

  const cpu = cpus();
  const environment: Environment = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    natsPackage: packageVersion('nats'),
    natsServer: await serverVersion(url),
    serverUrl: url,
    serverStartedByBench: server !== undefined,
    gitCommit: tryRun('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']) ?? 'unknown',
    gitDirty: (tryRun('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    loadAverageStart: loadavg(),
    loadAverageEnd: [],
    durationSeconds: 0,
    quick,
  };
  const results: Results = { environment, config, errors: [] };
  const attempt = async (suite: Suite, title: string, fn: () => Promise<void>): Promise<void> => {
    if (!suites.has(suite)) return;
    progress(`── ${title}`);
    try {
      await fn();
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.errors.push({ suite, message: message.split('\n')[0] ?? message });
      progress(`${suite} failed: ${message}`);
    }
  };

  try {
    await attempt('cost', '1/4 main-thread publish cost', async () => {
      results.publishCost = await runPublishCost(url!, config.publishCost);
    });
    await attempt('throughput', '2/4 end-to-end throughput', async () => {
      results.throughput = await runThroughput(url!, config.throughput, server?.pid);
    });
    await attempt('eventloop', '3/4 main-thread freedom', async () => {
      results.eventLoop = await runEventLoop(url!, config.eventLoop);
    });
    await attempt('outage', '4/4 outage (own server per client)', async () => {
      results.outage = await runOutage(config.outage);
    });
    await attempt('jetstream', 'JetStream (own -js server; writes jetstream.md/json)', () => runJetStreamSuite(quick, outDir));
  } finally {
    await server?.stop();
  }

  environment.loadAverageEnd = loadavg();
  environment.durationSeconds = (performance.now() - t0) / 1000;
  const targets = evaluateTargets(results);
  const markdown = renderMarkdown(results, targets);
  const written = writeResults(outDir, results, targets, markdown);
  if (quick && process.env['BENCH_OUT'] === undefined) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, '.gitignore'), '*\n');
  }
  process.stdout.write(`\n${markdown}\n`);
  progress(`wrote ${written.length} files to ${outDir} in ${environment.durationSeconds.toFixed(0)} s`);
  if (results.errors.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
