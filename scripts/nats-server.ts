/**
 * Finds, installs and runs a real nats-server for integration tests, benchmarks and demos.
 * There is deliberately no mock: the point of this project is behaviour against the real wire.
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface StartOptions {
  /** Client port; a free one is picked when omitted. */
  port?: number;
  /** nats-server config file text; written to a temp file and passed with `-c`. */
  config?: string;
  /** Extra command-line arguments, appended last. */
  args?: string[];
  /** Server name (`-n`), also used in error messages. */
  name?: string;
  /**
   * Enable JetStream (`-js`) with a fresh temp `store_dir` that outlives restart() (same store)
   * and is deleted by dispose() or at process exit.
   */
  jetstream?: boolean;
}

export interface NatsServerProcess {
  readonly port: number;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the current child; changes on restart. */
  readonly pid: number | undefined;
  /** True from spawn until the child exits. */
  readonly running: boolean;
  /**
   * Sends `signal` (SIGTERM by default), escalates to SIGKILL after 5 s and resolves on exit.
   * Idempotent: calling it on a stopped server resolves at once.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Stops, then starts again on the same port with the same arguments and waits until ready.
   * @throws Error when the server is not ready within 10 s (the message carries its log tail).
   */
  restart(): Promise<void>;
  /** The last ~200 lines the server wrote to stdout/stderr, across restarts. */
  logTail(): string;
  /** JetStream's store directory when started with `jetstream: true`. */
  readonly storeDir: string | undefined;
  /** stop(), then delete the temp files (config, JetStream store): the server cannot restart after. */
  dispose(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: NatsServerProcess[];
  /** Client URLs, in the same order as `servers`. */
  readonly urls: string[];
  /** Monitoring base URLs (`http://127.0.0.1:<m>`), in the same order as `servers`. */
  readonly monitorUrls: string[];
  /** Stops every node; with JetStream, their stores are deleted too. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const RESTART_RETRY_MS = 10_000;
const KILL_AFTER_MS = 5_000;
const ROUTES_TIMEOUT_MS = 15_000;
const LOG_LINES = 200;
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

const INSTALL_HINT =
  'Get one by setting NATS_SERVER_BIN to the path of a nats-server binary, by installing the Debian ' +
  'package (`apt-get install nats-server`), or by downloading a release from ' +
  'https://github.com/nats-io/nats-server/releases and putting it on PATH.';

let cachedBinary: string | undefined;

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Looks `name` up on PATH and then in the sbin/bin directories a non-login PATH often lacks. */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...dirs, ...EXTRA_BIN_DIRS]) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Installs a Debian package when running as root with apt-get available; returns false when it cannot try.
 * @throws Error when apt-get itself fails (its output is in the message).
 */
export function installWithApt(pkg: string): boolean {
  const aptGet = findExecutable('apt-get');
  if (process.getuid?.() !== 0 || aptGet === undefined) return false;
  process.stderr.write(`${pkg} not found; installing it with apt-get (needs network)…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', pkg],
  ]) {
    try {
      execFileSync(aptGet, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (err) {
      const output = err instanceof Error && 'stderr' in err ? String(err.stderr) : '';
      throw new Error(`apt-get ${args.join(' ')} failed:\n${output.trim()}`, { cause: err });
    }
  }
  return true;
}

/**
 * Path of a nats-server binary: NATS_SERVER_BIN, else PATH (plus /usr/sbin, /usr/bin), else an
 * apt-get install when root. The answer is cached for the life of the process.
 * @throws Error when NATS_SERVER_BIN names a missing or non-executable file, or no binary can be found.
 */
export function findNatsServer(): string {
  if (cachedBinary !== undefined) return cachedBinary;
  const fromEnv = process.env['NATS_SERVER_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(`NATS_SERVER_BIN must name an executable nats-server file, got \`${fromEnv}\``);
    }
    return (cachedBinary = fromEnv);
  }
  let found = findExecutable('nats-server');
  if (found === undefined) {
    try {
      if (installWithApt('nats-server')) found = findExecutable('nats-server');
    } catch (err) {
      throw new Error(`nats-server is not installed and installing it failed. ${INSTALL_HINT}`, { cause: err });
    }
  }
  if (found === undefined) throw new Error(`nats-server was not found. ${INSTALL_HINT}`);
  return (cachedBinary = found);
}

/** Binds `count` listeners at once so the ports handed out are distinct, then releases them. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('freePort: no port was allocated');
  return port;
}

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

// A test runner that exits (or crashes) without stopping its servers must not leave them bound to ports.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Keeps the last `capacity` lines of a byte stream; a trailing partial line is held until completed. */
class LineRing {
  private readonly lines: string[] = [];
  private partial = '';
  /** Lines ever appended, so a caller can ask for only what came after a point. */
  private total = 0;

  constructor(private readonly capacity: number) {}

  mark(): number {
    return this.total;
  }

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.append(line.replace(/\r$/, ''));
  }

  text(since = 0): string {
    const kept = this.lines.slice(Math.max(0, this.lines.length - (this.total - since)));
    return (this.partial === '' ? kept : [...kept, this.partial]).join('\n');
  }

  private append(line: string): void {
    this.lines.push(line);
    this.total++;
    if (this.lines.length > this.capacity) this.lines.shift();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true once a client connection on `port` receives a line starting `INFO {`. */
function probeInfo(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      received += data;
      if (received.includes('\r\n')) finish(received.startsWith('INFO {'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

class NotReadyError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'NotReadyError';
  }
}

class ServerHandle implements NatsServerProcess {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly log = new LineRing(LOG_LINES);

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly args: readonly string[],
    private readonly label: string,
    /** Temp directories of this server (config, store), deleted by dispose(). */
    private readonly tempDirs: readonly string[] = [],
    readonly storeDir: string | undefined = undefined,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const dir of this.tempDirs) {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  logTail(): string {
    return this.log.text();
  }

  /** Spawns the child and waits for its INFO line; on failure the child is gone before this throws. */
  async launch(): Promise<void> {
    installExitHook();
    const logMark = this.log.mark();
    const child = spawn(this.binary, [...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    liveChildren.add(child);
    let exitReason: string | undefined;
    // Resolve on 'exit' and on a spawn 'error' (which may come without 'exit'), whichever is first.
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitReason = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        resolve();
      });
      child.once('error', (err) => {
        exitReason = `failed to spawn: ${err.message}`;
        resolve();
      });
    }).then(() => {
      liveChildren.delete(child);
      if (this.child === child) this.child = undefined;
    });
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.log.push(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.log.push(d));

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitReason !== undefined) break;
      if (await probeInfo(this.port, Math.min(1_000, deadline - Date.now()))) {
        // The INFO could come from a stranger on a reused port; only our live child counts.
        if (exitReason === undefined) return;
        break;
      }
      await sleep(25);
    }
    const why = exitReason ?? `did not become ready within ${READY_TIMEOUT_MS} ms`;
    await (exitReason === undefined ? this.stop('SIGKILL') : this.exited);
    const tail = this.log.text();
    throw new NotReadyError(
      `${this.label} on 127.0.0.1:${this.port} ${why}; last output:\n${tail || '(none)'}`,
      // Only this attempt's output: an earlier attempt's bind failure must not make this one retryable.
      /address already in use/i.test(this.log.text(logMark)),
    );
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined) return this.exited;
    if (this.stopping !== undefined) {
      if (signal === 'SIGKILL') child.kill(signal);
      return this.stopping;
    }
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    this.stopping = this.exited.finally(() => {
      clearTimeout(killer);
      this.stopping = undefined;
    });
    return this.stopping;
  }

  async restart(): Promise<void> {
    await this.stop();
    // The old listener can linger briefly after exit; retry only that failure, until the deadline.
    const deadline = Date.now() + RESTART_RETRY_MS;
    for (;;) {
      try {
        return await this.launch();
      } catch (err) {
        if (!(err instanceof NotReadyError && err.addressInUse) || Date.now() >= deadline) throw err;
        await sleep(100);
      }
    }
  }
}

/**
 * Starts `nats-server -a 127.0.0.1 -p <port>` and waits until it greets a client with INFO.
 * @throws Error when no binary is found or the server is not ready within 10 s (with its log tail).
 */
export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServerProcess> {
  const binary = findNatsServer();
  const port = opts.port ?? (await freePort());
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (opts.name !== undefined) args.push('-n', opts.name);
  const own: string[] = [];
  if (opts.config !== undefined) {
    // Kept until process exit or dispose(), not stop(): restart() needs the file again.
    const dir = mkdtempSync(join(tmpdir(), 'nats-server-'));
    tempDirs.add(dir);
    own.push(dir);
    const file = join(dir, 'server.conf');
    writeFileSync(file, opts.config);
    args.push('-c', file);
  }
  let storeDir: string | undefined;
  if (opts.jetstream === true) {
    storeDir = mkdtempSync(join(tmpdir(), 'nats-js-'));
    tempDirs.add(storeDir);
    own.push(storeDir);
    args.push('-js', '-sd', storeDir);
  }
  args.push(...(opts.args ?? []));
  const label = opts.name === undefined ? 'nats-server' : `nats-server "${opts.name}"`;
  const handle = new ServerHandle(binary, port, args, label, own, storeDir);
  try {
    await handle.launch();
  } catch (err) {
    await handle.dispose();
    throw err;
  }
  return handle;
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(2_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function numRoutes(monitorUrl: string): Promise<number | undefined> {
  try {
    const body = await getJson(`${monitorUrl}/routez`);
    const n = (body as { num_routes?: unknown }).num_routes;
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a loopback cluster of `size` routed servers and waits until every node reports size-1 routes.
 * @throws Error when a node does not start, or routes are incomplete after 15 s; started nodes are stopped.
 */
export async function startCluster(size: number, opts: { config?: (i: number) => string; jetstream?: boolean } = {}): Promise<NatsCluster> {
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`startCluster size must be a positive integer, got \`${String(size)}\` (${typeof size})`);
  }
  const ports = await freePorts(size * 3);
  const nodes = Array.from({ length: size }, (_, i) => ({
    client: ports[i * 3] as number,
    cluster: ports[i * 3 + 1] as number,
    monitor: ports[i * 3 + 2] as number,
  }));

  const settled = await Promise.allSettled(
    nodes.map((node, i) => {
      const routes = nodes.filter((_, j) => j !== i).map((n) => `nats://127.0.0.1:${n.cluster}`);
      const args = ['-m', String(node.monitor), '--cluster', `nats://127.0.0.1:${node.cluster}`];
      args.push('--cluster_name', 'offload');
      if (routes.length > 0) args.push('--routes', routes.join(','));
      const config = opts.config?.(i);
      // JetStream clustering needs server_name (-n) and cluster_name, both set here.
      return startNatsServer({
        port: node.client,
        args,
        name: `offload-${i}`,
        ...(config === undefined ? {} : { config }),
        ...(opts.jetstream === true ? { jetstream: true } : {}),
      });
    }),
  );
  const servers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.dispose()));
  };
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw new Error('startCluster: a node failed to start', { cause: failed.reason });
  }

  const monitorUrls = nodes.map((n) => `http://127.0.0.1:${n.monitor}`);
  const deadline = Date.now() + ROUTES_TIMEOUT_MS;
  let counts: (number | undefined)[] = [];
  while (Date.now() < deadline) {
    counts = await Promise.all(monitorUrls.map(numRoutes));
    if (counts.every((n) => n === size - 1)) {
      return { servers, urls: servers.map((s) => s.url), monitorUrls, stop };
    }
    await sleep(50);
  }
  const tails = servers.map((s, i) => `--- offload-${i} ---\n${s.logTail()}`).join('\n');
  await stop();
  throw new Error(
    `startCluster: routes incomplete after ${ROUTES_TIMEOUT_MS} ms; num_routes per node ` +
      `${JSON.stringify(counts)}, expected ${size - 1} each\n${tails}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(findNatsServer());
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
