/**
 * Vitest's V8 coverage provider, plus the threads it cannot see. It reads coverage through the
 * inspector of each test process's main thread, so the publisher's worker thread (running the
 * built dist/worker/*.js) and child processes would count as never run. NODE_V8_COVERAGE makes
 * Node write every thread's and child's coverage to a directory when it ends; the entries for
 * dist/src and dist/worker are mapped back to the TypeScript through their source maps (the
 * build inlines the sources) and merged into the same report.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8Provider from '@vitest/coverage-v8';
import type { CoverageProviderModule } from 'vitest/node';

interface Location {
  start: { line: number; column: number | null };
}
/** istanbul's per-file data: location maps and hit counts under the same keys. */
interface FileCoverageData {
  statementMap: Record<string, Location>;
  s: Record<string, number>;
  fnMap: Record<string, { decl: Location; loc: Location }>;
  f: Record<string, number>;
  branchMap: Record<string, { loc: Location; type: string }>;
  b: Record<string, number[]>;
}
/** The part of istanbul-lib-coverage's CoverageMap used here. */
interface CoverageMap {
  files(): string[];
  fileCoverageFor(filename: string): { data: FileCoverageData };
  addFileCoverage(data: FileCoverageData): void;
  merge(other: unknown): void;
  filter(keep: (filename: string) => boolean): void;
}
interface ScriptCoverage {
  url: string;
  functions: unknown[];
}
interface Source {
  code: string;
  map: { sources: string[] } & Record<string, unknown>;
}
/** The V8 provider's own remapping (ast-v8-to-istanbul over code + source map), reused. */
interface V8Provider {
  generateCoverage(options: { allTestsRun?: boolean }): Promise<unknown>;
  createCoverageMap(): CoverageMap;
  remapCoverage(url: string, wrapperLength: number, source: Source, functions: unknown[]): Promise<unknown>;
  isIncluded(filename: string): boolean;
}

const root = fileURLToPath(new URL('.', import.meta.url));
const distUrl = pathToFileURL(join(root, 'dist')).href;

// Set in the main vitest process before it starts the test processes, which inherit it (and pass it on).
if (process.env['NODE_V8_COVERAGE'] === undefined) {
  const created = mkdtempSync(join(tmpdir(), 'nats-offload-v8-coverage-'));
  process.env['NODE_V8_COVERAGE'] = created;
  process.once('exit', () => rmSync(created, { recursive: true, force: true }));
}
const rawDirectory = process.env['NODE_V8_COVERAGE'];

/** Code and source map of a built file, the map's sources made absolute URLs as the provider expects. */
function loadSource(url: string): Source | undefined {
  const path = fileURLToPath(url);
  try {
    const map = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as Source['map'];
    map.sources = map.sources.map((s) => new URL(s, url).href);
    return { code: readFileSync(path, 'utf8'), map };
  } catch {
    return undefined;
  }
}

/** Coverage of dist/src and dist/worker from every thread and child that wrote some, mapped to the TypeScript. */
async function otherThreads(provider: V8Provider): Promise<CoverageMap> {
  const map = provider.createCoverageMap();
  const sources = new Map<string, Source | undefined>();
  for (const file of readdirSync(rawDirectory)) {
    if (!file.endsWith('.json')) continue;
    const { result } = JSON.parse(readFileSync(join(rawDirectory, file), 'utf8')) as { result: ScriptCoverage[] };
    for (const script of result) {
      if (!script.url.startsWith(`${distUrl}/src/`) && !script.url.startsWith(`${distUrl}/worker/`)) continue;
      if (!sources.has(script.url)) sources.set(script.url, loadSource(script.url));
      const source = sources.get(script.url);
      if (source === undefined) continue;
      map.merge(await provider.remapCoverage(script.url, 0, source, script.functions));
    }
  }
  map.filter((filename) => provider.isIncluded(filename));
  return map;
}

const startKey = (l: Location): string => `${l.start.line}:${l.start.column}`;

/**
 * Pairs each entry of `from` with the entry of `into` for the same source construct, or none.
 * Vitest maps the TypeScript through Vite's transform and this file through tsc's output: most
 * starts agree exactly; the rest (a `private` modifier, an arrow's body) start elsewhere on the
 * same line, so those are paired in column order when both sides have as many on that line.
 */
function pair<L>(into: Record<string, L>, from: Record<string, L>, start: (l: L) => Location, kind: (l: L) => string): Map<string, string> {
  const pairs = new Map<string, string>();
  const exact = new Map(Object.entries(into).map(([k, l]) => [`${startKey(start(l))} ${kind(l)}`, k]));
  const leftInto = new Map<string, string[]>();
  const leftFrom = new Map<string, string[]>();
  for (const [k, l] of Object.entries(from)) {
    const match = exact.get(`${startKey(start(l))} ${kind(l)}`);
    if (match !== undefined) {
      pairs.set(k, match);
      exact.delete(`${startKey(start(l))} ${kind(l)}`);
    } else {
      const line = `${start(l).start.line} ${kind(l)}`;
      leftFrom.set(line, [...(leftFrom.get(line) ?? []), k]);
    }
  }
  for (const k of exact.values()) {
    const l = into[k] as L;
    const line = `${start(l).start.line} ${kind(l)}`;
    leftInto.set(line, [...(leftInto.get(line) ?? []), k]);
  }
  const byColumn = (map: Record<string, L>) => (a: string, b: string) =>
    (start(map[a] as L).start.column ?? 0) - (start(map[b] as L).start.column ?? 0);
  const restFrom: string[] = [];
  const restInto = new Set([...leftInto.values()].flat());
  for (const [line, fromKeys] of leftFrom) {
    const intoKeys = leftInto.get(line) ?? [];
    if (intoKeys.length !== fromKeys.length) {
      restFrom.push(...fromKeys);
      continue;
    }
    fromKeys.sort(byColumn(from));
    intoKeys.sort(byColumn(into));
    for (const [i, k] of fromKeys.entries()) {
      pairs.set(k, intoKeys[i] as string);
      restInto.delete(intoKeys[i] as string);
    }
  }
  // Last, a construct spanning lines (a multi-line arrow) may start on another line: pair what is left in order.
  if (restFrom.length === restInto.size) {
    const byPosition = (map: Record<string, L>) => (a: string, b: string) =>
      start(map[a] as L).start.line - start(map[b] as L).start.line || byColumn(map)(a, b);
    const intoKeys = [...restInto].sort(byPosition(into));
    for (const [i, k] of restFrom.sort(byPosition(from)).entries()) pairs.set(k, intoKeys[i] as string);
  }
  return pairs;
}

/** Adds `from`'s hit counts to `into`; entries with no counterpart are added as they are. */
function mergeInto<L, C>(
  intoMap: Record<string, L>,
  intoHits: Record<string, C>,
  fromMap: Record<string, L>,
  fromHits: Record<string, C>,
  pairs: Map<string, string>,
  sum: (a: C, b: C) => C | undefined,
): void {
  let next = Object.keys(intoMap).length;
  for (const [k, loc] of Object.entries(fromMap)) {
    const target = pairs.get(k);
    const summed = target === undefined ? undefined : sum(intoHits[target] as C, fromHits[k] as C);
    if (target !== undefined && summed !== undefined) {
      intoHits[target] = summed;
    } else {
      const id = String(next++);
      intoMap[id] = loc;
      intoHits[id] = fromHits[k] as C;
    }
  }
}

function mergeFile(into: FileCoverageData, from: FileCoverageData): void {
  const add = (a: number, b: number): number => a + b;
  const self = <T>(l: T): T => l;
  mergeInto(
    into.statementMap,
    into.s,
    from.statementMap,
    from.s,
    pair(into.statementMap, from.statementMap, self, () => 's'),
    add,
  );
  mergeInto(
    into.fnMap,
    into.f,
    from.fnMap,
    from.f,
    pair(
      into.fnMap,
      from.fnMap,
      (fn) => fn.decl,
      () => 'f',
    ),
    add,
  );
  const branches = pair(
    into.branchMap,
    from.branchMap,
    (br) => br.loc,
    (br) => br.type,
  );
  mergeInto(into.branchMap, into.b, from.branchMap, from.b, branches, (a, b) =>
    a.length === b.length ? a.map((n, i) => n + (b[i] ?? 0)) : undefined,
  );
}

const module: CoverageProviderModule = {
  ...v8Provider,
  async getProvider() {
    const provider = (await v8Provider.getProvider()) as unknown as V8Provider;
    const generate = provider.generateCoverage.bind(provider);
    provider.generateCoverage = async (options) => {
      const map = (await generate(options)) as CoverageMap;
      try {
        const threads = await otherThreads(provider);
        const known = new Set(map.files());
        for (const file of threads.files()) {
          const data = threads.fileCoverageFor(file).data;
          if (known.has(file)) mergeFile(map.fileCoverageFor(file).data, data);
          else map.addFileCoverage(data);
        }
      } finally {
        rmSync(rawDirectory, { recursive: true, force: true });
      }
      return map;
    };
    return provider as never;
  },
};

export default module;
