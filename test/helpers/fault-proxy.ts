/**
 * A loopback TCP proxy that sits between a NATS client and nats-server and injects network faults:
 * resets, refused connects, stalls and a rate limit. Bytes are moved by hand rather than with
 * pipe() so that a stall or a throttle can hold them without dropping or reordering anything.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FaultProxyOptions {
  /** Port of the real server behind the proxy. */
  targetPort: number;
  /** Host of the real server; `127.0.0.1` when omitted. */
  targetHost?: string;
  /** Port to listen on (always on 127.0.0.1); a free one is picked when omitted or 0. */
  port?: number;
}

export interface FaultProxy {
  /** Listening port on 127.0.0.1. */
  readonly port: number;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  /** Live proxied connection pairs. */
  readonly connections: number;
  /** Client connections accepted so far, refused ones included. */
  readonly accepted: number;
  /** Bytes forwarded client → server. */
  readonly bytesUp: number;
  /** Bytes forwarded server → client. */
  readonly bytesDown: number;
  /**
   * Resets both sockets of every live pair at once, as a network failure would.
   * Refuse, stall and throttle modes are left as they are.
   */
  cutAll(): void;
  /**
   * For `ms` milliseconds, accepts new client connections and destroys them at once, so the
   * client sees the connection drop before INFO. `Infinity` lasts until allow().
   * @throws RangeError when `ms` is negative or NaN.
   */
  refuse(ms: number): void;
  /** Ends refuse and stall modes; bytes held by a stall are forwarded in order. */
  allow(): void;
  /**
   * Stops forwarding in both directions on live and new connections without closing anything;
   * bytes are held, not dropped, until allow() (or lost with cutAll()).
   */
  stall(): void;
  /**
   * Stops forwarding server → client only (replies, acks, PONGs are held, not dropped) on live and
   * new connections, until allow(); the client's bytes still reach the server.
   */
  stallDown(): void;
  /**
   * Limits the client → server rate of the whole proxy (shared by all connections);
   * `null` removes the limit.
   * @throws RangeError when `bytesPerSecond` is not a positive finite number or null.
   */
  throttle(bytesPerSecond: number | null): void;
  /** Stops listening and destroys every socket. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const THROTTLE_TICK_MS = 10;
// A tick can fire late under load; capping the bucket keeps a late tick from becoming a burst.
const THROTTLE_BURST_SECONDS = 0.05;

/**
 * Starts a proxy listening on 127.0.0.1 that forwards each connection to the target.
 * @throws RangeError when a port is out of range.
 * @throws Error when the listening port cannot be bound.
 */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const targetPort = checkPort('options.targetPort', opts.targetPort, 1);
  const listenPort = checkPort('options.port', opts.port ?? 0, 0);
  const proxy = new ProxyServer(targetPort, opts.targetHost ?? LOOPBACK);
  await proxy.listen(listenPort);
  return proxy;
}

function checkPort(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65535) {
    throw new RangeError(`${name} must be an integer in ${min}..65535, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

function kill(socket: Socket, reset: boolean): void {
  if (socket.destroyed) return;
  // resetAndDestroy() on a socket still connecting would wait for the connect; there is nothing to reset yet.
  if (reset && !socket.connecting) socket.resetAndDestroy();
  else socket.destroy();
}

class ProxyServer implements FaultProxy {
  port = 0;
  accepted = 0;
  bytesUp = 0;
  bytesDown = 0;
  stalled = false;
  stalledDown = false;

  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  // Sockets outlive their pair while a graceful end flushes; close() must still reach them.
  private readonly sockets = new Set<Socket>();
  private refuseUntil = 0;
  private rate: number | null = null;
  private tokens = 0;
  private lastTick = 0;
  private ticker: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost: string,
  ) {
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => this.onConnection(client));
  }

  get url(): string {
    return `nats://${LOOPBACK}:${this.port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onListenError = (err: Error): void => reject(err);
      this.server.once('error', onListenError);
      this.server.listen({ port, host: LOOPBACK }, () => {
        this.server.off('error', onListenError);
        // Accept errors (EMFILE and the like) must not crash the test process.
        this.server.on('error', () => {});
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  cutAll(): void {
    this.destroyAll(true);
  }

  refuse(ms: number): void {
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new RangeError(`refuse(ms) needs a non-negative number of milliseconds, got \`${String(ms)}\` (${typeof ms})`);
    }
    this.refuseUntil = performance.now() + ms;
  }

  allow(): void {
    this.refuseUntil = 0;
    this.stalled = false;
    this.stalledDown = false;
    this.pumpAll();
  }

  stall(): void {
    this.stalled = true;
  }

  stallDown(): void {
    this.stalledDown = true;
  }

  throttle(bytesPerSecond: number | null): void {
    if (bytesPerSecond === null) {
      this.rate = null;
      clearInterval(this.ticker);
      this.ticker = undefined;
      this.pumpAll();
      return;
    }
    if (typeof bytesPerSecond !== 'number' || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
      throw new RangeError(
        `throttle(bytesPerSecond) needs a positive finite number or null, got \`${String(bytesPerSecond)}\` (${typeof bytesPerSecond})`,
      );
    }
    if (this.rate === null) {
      this.tokens = 0;
      this.lastTick = performance.now();
      this.ticker = setInterval(() => this.tick(), THROTTLE_TICK_MS);
      this.ticker.unref();
    }
    this.rate = bytesPerSecond;
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.throttle(null);
      // The callback also runs (with an error) if the server is not listening; closing is done either way.
      this.server.close(() => resolve());
      this.destroyAll(false);
    });
    return this.closing;
  }

  /** Grants up to `wanted` bytes of client → server budget; all of it when unthrottled. */
  takeUpBudget(wanted: number): number {
    if (this.rate === null) return wanted;
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  release(pair: Pair): void {
    this.pairs.delete(pair);
  }

  private onConnection(client: Socket): void {
    this.accepted += 1;
    client.on('error', () => {});
    if (performance.now() < this.refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true, noDelay: true });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    this.pairs.add(new Pair(this, client, upstream));
  }

  private tick(): void {
    if (this.rate === null) return;
    const now = performance.now();
    const burst = Math.max(this.rate * THROTTLE_BURST_SECONDS, 1);
    this.tokens = Math.min(this.tokens + (this.rate * (now - this.lastTick)) / 1000, burst);
    this.lastTick = now;
    this.pumpAll();
  }

  private pumpAll(): void {
    for (const pair of [...this.pairs]) pair.pump();
  }

  private destroyAll(reset: boolean): void {
    for (const pair of [...this.pairs]) pair.destroy(reset);
    for (const socket of [...this.sockets]) kill(socket, reset);
  }
}

class Pair {
  done = false;
  private readonly up: Flow;
  private readonly down: Flow;

  constructor(
    readonly proxy: ProxyServer,
    readonly client: Socket,
    readonly upstream: Socket,
  ) {
    this.up = new Flow(this, client, upstream, 'up');
    this.down = new Flow(this, upstream, client, 'down');
    for (const socket of [client, upstream]) {
      // Also covers a failed upstream connect: the client is destroyed with it.
      socket.on('error', () => this.destroy(false));
      socket.on('close', () => this.destroy(false));
    }
  }

  pump(): void {
    this.up.pump();
    this.down.pump();
  }

  destroy(reset: boolean): void {
    if (this.done) return;
    this.done = true;
    this.proxy.release(this);
    kill(this.client, reset);
    kill(this.upstream, reset);
  }

  /** Passes a FIN on once `flow` has forwarded everything, so a server's last -ERR still arrives. */
  finish(flow: Flow): void {
    if (this.done) return;
    this.done = true;
    this.proxy.release(this);
    flow.source.destroy();
    // destroy() alone would discard bytes still queued in the socket; end() writes them first.
    flow.dest.end(() => flow.dest.destroy());
  }
}

/** One direction of a pair; holds at most the chunks read since its source was paused. */
class Flow {
  private readonly held: Buffer[] = [];
  private awaitingDrain = false;
  private sourceEnded = false;

  constructor(
    private readonly pair: Pair,
    readonly source: Socket,
    readonly dest: Socket,
    private readonly direction: 'up' | 'down',
  ) {
    source.on('data', (chunk: Buffer) => {
      this.held.push(chunk);
      this.pump();
    });
    source.on('end', () => {
      this.sourceEnded = true;
      this.pump();
    });
    dest.on('drain', () => {
      this.awaitingDrain = false;
      this.pump();
    });
  }

  pump(): void {
    if (this.pair.done || this.dest.destroyed) return;
    const proxy = this.pair.proxy;
    const stalled = proxy.stalled || (this.direction === 'down' && proxy.stalledDown);
    while (!stalled && !this.awaitingDrain) {
      const chunk = this.held[0];
      if (chunk === undefined) break;
      const size = this.direction === 'up' ? proxy.takeUpBudget(chunk.length) : chunk.length;
      if (size === 0) break;
      if (size < chunk.length) {
        this.held[0] = chunk.subarray(size);
      } else {
        this.held.shift();
      }
      if (this.direction === 'up') proxy.bytesUp += size;
      else proxy.bytesDown += size;
      if (!this.dest.write(size < chunk.length ? chunk.subarray(0, size) : chunk)) this.awaitingDrain = true;
    }
    if (this.held.length === 0 && this.sourceEnded && !stalled) {
      this.pair.finish(this);
      return;
    }
    // Pausing leaves unread bytes in the kernel, whose window then pushes back on the sender.
    if (this.held.length > 0 || this.awaitingDrain) this.source.pause();
    else this.source.resume();
  }
}
