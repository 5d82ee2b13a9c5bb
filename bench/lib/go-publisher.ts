/**
 * The opt-in nats.go publisher (bench/go/publisher.go, BENCH_GO=1): built at bench time from
 * Debian's packages only (golang-go, golang-github-nats-io-go-nats-dev: GOPATH mode, no module
 * download), into a directory outside the repository, then driven one run at a time over stdin.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Where Debian's golang-* -dev packages put their sources. */
const DEBIAN_GOPATH = '/usr/share/gocode';

export interface GoRun {
  readonly ms: number;
  /** CPU time of the whole Go process over the run (all its threads), ns. */
  readonly cpuNs: number;
}

/** Builds the publisher; the error says which Debian packages are missing. */
export async function buildGoPublisher(): Promise<string> {
  const dir = join(tmpdir(), 'nats-offload-bench-go');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, 'publisher');
  const source = fileURLToPath(new URL('../../../bench/go/publisher.go', import.meta.url));
  const env = { ...process.env, GOPATH: DEBIAN_GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off', GOCACHE: join(dir, 'cache') };
  try {
    await run('go', ['build', '-o', bin, source], { env, timeout: 300_000 });
  } catch (err) {
    throw new Error(
      'BENCH_GO=1 needs Go and nats.go from Debian: apt-get install golang-go golang-github-nats-io-go-nats-dev ' +
        `(go build failed: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err)})`,
    );
  }
  return bin;
}

export class GoPublisher {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: Interface,
    readonly version: string,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(url: string, subject: string): Promise<GoPublisher> {
    const bin = await buildGoPublisher();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', 'golang-github-nats-io-go-nats-dev']).catch(() => ({
      stdout: 'unknown',
    }));
    const child = spawn(bin, [url, subject], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const p = new GoPublisher(child, lines, `nats.go ${stdout.trim()} (Debian)`);
    const ready = JSON.parse(await p.nextLine()) as { ready?: boolean };
    if (ready.ready !== true) throw new Error('the Go publisher did not start');
    return p;
  }

  private nextLine(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onLine = (line: string): void => {
        this.child.off('exit', onExit);
        resolve(line);
      };
      const onExit = (code: number | null): void => {
        this.lines.off('line', onLine);
        reject(new Error(`the Go publisher exited with code ${code}`));
      };
      this.lines.once('line', onLine);
      this.child.once('exit', onExit);
    });
  }

  /**
   * Publishes `messages` of `payloadBytes`, then Flush (the server's PONG); with `jetstream`,
   * PublishAsync with a Msg-Id each, until every ack is in.
   */
  async run(payloadBytes: number, messages: number, jetstream = false): Promise<GoRun> {
    this.child.stdin.write(`${payloadBytes} ${messages}${jetstream ? ' js' : ''}\n`);
    const r = JSON.parse(await this.nextLine()) as { ms: number; cpuNs: number; error?: string };
    if (r.error !== undefined) throw new Error(`nats.go publisher: ${r.error}`);
    return { ms: r.ms, cpuNs: r.cpuNs };
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await exited;
  }
}
