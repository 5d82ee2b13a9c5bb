/**
 * Checks the package as a user gets it: `npm pack` (prepack builds), publint and
 * arethetypeswrong on the tarball, then an empty project outside the repo installs the tarball and
 * (a) an ESM import and a CommonJS require() each publish to a real nats-server, on every Node
 * given, counted by a subscriber; (b) tsc checks a consumer under node16, bundler and nodenext/CJS.
 *
 * usage: node dist/scripts/consumer-check.js [--node <bin>]... [--keep]   (default: this Node)
 * Prints one `ok`/`FAIL` line per check; exits 1 if any failed.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from 'nats';
import { startNatsServer } from './nats-server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test', 'consumer');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
const MESSAGES = 1000;
const TIMEOUT_MS = 300_000;

let failures = 0;

/** Runs a command; on failure the error message carries its output. */
async function sh(file: string, args: readonly string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(file, args, { cwd, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${[file, ...args].join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
  }
}

async function check(name: string, fn: () => Promise<string | undefined>): Promise<void> {
  try {
    const note = await fn();
    console.log(`ok   ${name}${note === undefined || note === '' ? '' : `: ${note}`}`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseArgs(argv: readonly string[]): { nodes: string[]; keep: boolean } {
  const nodes: string[] = [];
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') keep = true;
    else if (a === '--node' && argv[i + 1] !== undefined) nodes.push(argv[++i] as string);
    else throw new Error(`usage: consumer-check [--node <bin>]... [--keep]; unexpected \`${String(a)}\``);
  }
  return { nodes: nodes.length > 0 ? nodes : [process.execPath], keep };
}

function tsconfig(dir: string, name: string, compilerOptions: Record<string, unknown>, files: string[]): string {
  const file = join(dir, name);
  const base = { strict: true, noEmit: true, skipLibCheck: false, types: ['node'], target: 'ES2022', lib: ['ES2022'] };
  writeFileSync(file, JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files }, null, 2));
  return file;
}

async function main(): Promise<void> {
  const { nodes, keep } = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'nats-offload-consumer-'));
  const project = join(work, 'project');
  try {
    const { stdout } = await sh('npm', ['pack', '--pack-destination', work, '--json'], root);
    const packed = (JSON.parse(stdout) as { filename: string; files: { path: string }[] }[])[0];
    if (packed === undefined) throw new Error('npm pack reported no tarball');
    const tarball = join(work, packed.filename);
    const outside = packed.files
      .map((f) => f.path)
      .filter((p) => !/^(dist\/(src|worker)\/|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/.test(p));
    await check('tarball holds only the library', async () => {
      if (outside.length > 0) throw new Error(`unexpected files: ${outside.join(', ')}`);
      const maps = packed.files.filter((f) => f.path.endsWith('.map')).map((f) => f.path);
      for (const map of maps) {
        const json = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
        if (json.sourcesContent?.length !== json.sources.length || json.sourcesContent.some((c) => typeof c !== 'string')) {
          throw new Error(`${map} points at sources it does not carry`);
        }
      }
      return `${packed.files.length} files, ${maps.length} source maps with their sources inline`;
    });
    await check('publint --strict', async () => {
      const out = await sh(bin('publint'), ['run', tarball, '--strict'], root);
      return out.stdout.trim().split('\n').at(-1);
    });
    await check('attw --profile esm-only', async () => {
      const out = await sh(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-color', '--no-emoji'], root);
      return `\n${out.stdout.trim()}`;
    });

    await sh('mkdir', ['-p', project], work);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(project, f));
    const typesNode = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> })
      .devDependencies['@types/node'];
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@types/node@${typesNode}`], project);

    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const configs: [string, Record<string, unknown>, string][] = [
      ['node16', { module: 'node16', moduleResolution: 'node16' }, 'types.ts'],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, 'types.ts'],
      ['nodenext, CommonJS require', { module: 'nodenext', moduleResolution: 'nodenext' }, 'types-require.cts'],
    ];
    for (const [label, options, file] of configs) {
      await check(`tsc types (${label})`, async () => {
        const config = tsconfig(project, `tsconfig.${label.split(',')[0]}.json`, options, [file]);
        await sh(process.execPath, [tsc, '-p', config], project);
        return undefined;
      });
    }

    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const counts = new Map<string, number>();
    nc.subscribe('consumer.>', { callback: (_err, msg) => counts.set(msg.subject, (counts.get(msg.subject) ?? 0) + 1) });
    await nc.flush();
    try {
      for (const [n, node] of nodes.entries()) {
        const version = (await sh(node, ['--version'], project)).stdout.trim();
        for (const script of ['esm.mjs', 'cjs.cjs']) {
          const subject = `consumer.${n}.${script.replace('.', '_')}`;
          await check(`${script === 'esm.mjs' ? 'import' : 'require'} on ${version}`, async () => {
            const out = await sh(node, [script, server.url, subject, String(MESSAGES)], project);
            const report = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
            await nc.flush();
            const received = counts.get(subject) ?? 0;
            if (report['accepted'] !== MESSAGES || report['sent'] !== MESSAGES || report['unsent'] !== 0 || received !== MESSAGES) {
              throw new Error(`published ${MESSAGES}, close report ${JSON.stringify(report)}, subscriber received ${received}`);
            }
            const warning = /\w+Warning/.exec(out.stderr)?.[0];
            return `close report sent ${MESSAGES}, subscriber received ${received}${warning === undefined ? '' : ` (printed an ${warning})`}`;
          });
        }
      }
    } finally {
      await nc.close();
      await server.stop();
    }
  } finally {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  failures++;
  console.log(`FAIL consumer check: ${err instanceof Error ? err.message : String(err)}`);
}
console.log(`consumer check: ${failures === 0 ? 'passed' : `${failures} failed`}`);
process.exitCode = failures === 0 ? 0 : 1;
