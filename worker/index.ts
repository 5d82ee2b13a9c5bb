/**
 * The worker entry (a piscina task that lives as long as the publisher): owns the NATS
 * connection, runs the drain loop, reports status and answers flush and close requests.
 */
import { connect, type NatsConnection } from 'nats';
import {
  CLOCK_TICK_MS,
  CONFIRMED_POS,
  CONFIRM_SEQ,
  CONNECTION,
  Connection,
  DEFAULT_MAX_PAYLOAD,
  MAX_PAYLOAD,
  NOW,
  STATE,
  Stat,
  State,
  WRITE_POS,
  replaceNonTerminalState,
  viewsOf,
} from '../src/shared/layout.js';
import type { MainMessage, SerializedError, WorkerExit, WorkerMessage, WorkerTask } from '../src/shared/protocol.js';
import { natsOptions } from './connect-options.js';
import { AckConfirmation } from './ack-confirmation.js';
import { DrainLoop } from './drain-loop.js';
import { NatsWire } from './nats-wire.js';
import { PongConfirmation } from './pong-confirmation.js';
import { RingReader } from './ring-reader.js';
import { setThreadNice } from './thread-priority.js';

export default async function runPublisherWorker(task: WorkerTask): Promise<WorkerExit> {
  return new PublisherWorker(task).run();
}

class PublisherWorker {
  private readonly ring: RingReader;
  private readonly drain: DrainLoop;
  private nc: NatsConnection | undefined;
  private closeRequest: { deadline: number; resolve: () => void } | undefined;

  constructor(private readonly task: WorkerTask) {
    setThreadNice(task.workerNice);
    this.ring = new RingReader(viewsOf(task.ring, task.geometry));
    this.drain = new DrainLoop(
      this.ring,
      task.drain,
      {
        onConfirm: () => this.onConfirm(),
        onReopen: () => this.post({ type: 'drain' }),
        onOversize: (size, max) =>
          this.post({
            type: 'error',
            error: {
              code: 'MAX_PAYLOAD_EXCEEDED',
              name: 'MaxPayloadExceededError',
              message: `dropped a buffered message of ${size} bytes: the server's max_payload is ${max}`,
            },
          }),
        onFlushed: (id, expired, oversize) => this.post({ type: 'flushed', id, expired, oversize }),
      },
      DEFAULT_MAX_PAYLOAD,
      (hooks) => {
        const deadline = task.connection.pingInterval * task.connection.maxPingOut;
        const js = task.jetstream;
        if (js === undefined) return new PongConfirmation(this.ring, hooks, deadline);
        return new AckConfirmation(this.ring, hooks, js, deadline, (e) => this.post({ type: 'rejected', ...e }));
      },
    );
  }

  async run(): Promise<WorkerExit> {
    const port = this.task.port;
    port.on('message', (m: MainMessage) => this.onMessage(m));
    const clock = setInterval(() => this.tick(), CLOCK_TICK_MS);
    this.tick();
    this.ring.stats[Stat.DISCONNECTED_SINCE] = Date.now();
    const closeRequested = new Promise<void>((resolve) => {
      this.onClose = resolve;
    });
    let exit: WorkerExit;
    try {
      const connecting = this.connectFirst();
      // A close before the first connection still waits for one until its deadline, then drains.
      const gaveUp = closeRequested.then(() => delay(Math.max(0, (this.closeRequest?.deadline ?? 0) - Date.now())));
      const first = await Promise.race([connecting, gaveUp.then(() => undefined)]);
      if (first === undefined) {
        // No server answered in time: everything pending is reported unsent by the main side.
        this.firstConnectAbandoned = true;
        connecting.then((nc) => nc?.close()).catch(() => {});
        exit = { reason: 'closed' };
      } else {
        exit = await this.serve(first, closeRequested);
      }
    } catch (err) {
      exit = { reason: 'connection-closed', error: connectionError(err) };
    }
    this.drain.stop();
    clearInterval(clock);
    Atomics.store(this.ring.control, CONNECTION, Connection.CLOSED);
    port.close();
    return exit;
  }

  /**
   * The coarse clock the producer stamps records with, the peak-pending gauge, the liveness
   * deadline, and while not connected a nudge to the main thread when the oldest buffered message
   * has expired (only main moves the head then; see layout.ts).
   */
  private tick(): void {
    const c = this.ring.control;
    const s = this.ring.stats;
    const wall = Date.now();
    const now = wall - s[Stat.EPOCH_MS]!;
    Atomics.store(c, NOW, now);
    const pending = this.ring.pendingBytes();
    if (pending > s[Stat.PEAK_PENDING_BYTES]!) s[Stat.PEAK_PENDING_BYTES] = pending;
    this.drain.tick(wall);
    const maxAge = this.task.drain.maxBufferedAgeMs;
    if (maxAge > 0 && Atomics.load(c, CONNECTION) !== Connection.CONNECTED && wall - this.lastExpiryNudge >= EXPIRY_NUDGE_MS) {
      const head = Atomics.load(c, CONFIRMED_POS);
      if (head !== Atomics.load(c, WRITE_POS) && ((now - this.ring.headStamp()) | 0) > maxAge) {
        this.lastExpiryNudge = wall;
        this.post({ type: 'expired' });
      }
    }
  }

  private lastExpiryNudge = 0;

  private onClose: () => void = () => {};
  private firstConnectAbandoned = false;

  /**
   * The first connection, retried round after round over the server list, as nats.js would with
   * waitOnFirstConnect, but counting rounds against maxReconnectAttempts (nats.js ignores it
   * there) and reporting each new reason for failing as an error event (nats.js reports none).
   * Authorization failures end it at once: retrying cannot fix credentials.
   */
  private async connectFirst(): Promise<NatsConnection | undefined> {
    const s = this.task.connection;
    let rounds = 0;
    let lastReason = '';
    for (;;) {
      try {
        return await connect({ ...natsOptions(s), waitOnFirstConnect: false });
      } catch (err) {
        rounds++;
        if (this.firstConnectAbandoned) return undefined;
        const e = err as { isAuthError?: () => boolean };
        if (typeof e.isAuthError === 'function' && e.isAuthError()) throw err;
        // A certificate the client does not trust will not be trusted on the next attempt either:
        // a caller waiting for the connection gets the reason now; others get error events.
        if (this.task.waitForConnect && certificateProblem(err) !== undefined) throw err;
        if (s.maxReconnectAttempts !== -1 && rounds >= s.maxReconnectAttempts) throw err;
        const reason = connectionError(err);
        if (reason.message !== lastReason) {
          lastReason = reason.message;
          this.post({ type: 'error', error: { ...reason, message: `${reason.message} (retrying)` } });
        }
        const jitter = s.tls === undefined ? s.reconnectJitter : s.reconnectJitterTLS;
        await delay(s.reconnectTimeWait + Math.floor(Math.random() * (jitter + 1)));
        if (this.firstConnectAbandoned) return undefined;
      }
    }
  }

  private async serve(nc: NatsConnection, closeRequested: Promise<void>): Promise<WorkerExit> {
    this.nc = nc;
    const wire = new NatsWire(nc);
    this.connected(wire, 'connect');
    void this.watchStatus(nc, wire);
    this.drain.attach(wire);
    const ended = nc.closed().then((err) => ({ closedForGood: true as const, err }));
    const outcome = await Promise.race([ended, closeRequested.then(() => ({ closedForGood: false as const, err: undefined }))]);
    if (outcome.closedForGood) {
      return outcome.err === undefined
        ? { reason: 'connection-closed' }
        : { reason: 'connection-closed', error: connectionError(outcome.err) };
    }
    // Graceful close: drain until everything is confirmed or the deadline passes.
    await this.drained();
    this.drain.stop();
    await Promise.race([nc.close().catch(() => {}), delay(2000)]);
    return { reason: 'closed' };
  }

  private drained(): Promise<void> {
    const req = this.closeRequest;
    if (req === undefined || this.drain.idle) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, req.deadline - Date.now()));
      this.closeRequest = {
        deadline: req.deadline,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.drain.kick();
    });
  }

  private connected(wire: NatsWire, type: 'connect' | 'reconnect'): void {
    const c = this.ring.control;
    const s = this.ring.stats;
    const max = wire.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.drain.maxPayload = max;
    Atomics.store(c, MAX_PAYLOAD, max);
    const since = s[Stat.DISCONNECTED_SINCE]!;
    if (since > 0) s[Stat.DISCONNECTED_TOTAL_MS]! += Date.now() - since;
    s[Stat.DISCONNECTED_SINCE] = 0;
    if (type === 'reconnect') s[Stat.RECONNECTS]!++;
    Atomics.store(c, CONNECTION, Connection.CONNECTED);
    if (Atomics.compareExchange(c, STATE, State.DISCONNECTED, State.OPEN) === State.DISCONNECTED) {
      // reconnectBufSize -1: ready() waits on CONFIRM_SEQ for publishes to be accepted again.
      Atomics.add(c, CONFIRM_SEQ, 1);
      Atomics.notify(c, CONFIRM_SEQ);
    }
    this.post({ type, server: this.server(), maxPayload: max, headers: wire.headers });
    this.drain.kick();
  }

  /**
   * Test hook (holdLockOnReconnectMs): holds RING_LOCK from the reconnect until a first pass has
   * resent from the head, so a main thread that read CONNECTION before it is made to wait for it.
   */
  private async reconnectHoldingLock(wire: NatsWire, ms: number): Promise<void> {
    if (!this.ring.tryLock()) return this.connected(wire, 'reconnect');
    try {
      await delay(ms);
      this.connected(wire, 'reconnect');
      this.drain.passHoldingLock();
    } finally {
      this.ring.unlock();
    }
  }

  private async watchStatus(nc: NatsConnection, wire: NatsWire): Promise<void> {
    const c = this.ring.control;
    const s = this.ring.stats;
    for await (const st of nc.status()) {
      switch (st.type) {
        case 'disconnect':
          // Before CONNECTION says so: from then on main may release from the head.
          this.drain.confirmation.connectionLost();
          s[Stat.DISCONNECTS]!++;
          if (s[Stat.DISCONNECTED_SINCE] === 0) s[Stat.DISCONNECTED_SINCE] = Date.now();
          Atomics.store(c, CONNECTION, Connection.RECONNECTING);
          // reconnectBufSize -1: refuse publishes from now until connected again.
          if (!this.task.drain.bufferWhileDisconnected) replaceNonTerminalState(c, State.DISCONNECTED);
          this.post({ type: 'disconnect', server: String(st.data) });
          break;
        case 'reconnect': {
          const hold = this.task.testHooks?.holdLockOnReconnectMs;
          if (hold === undefined) this.connected(wire, 'reconnect');
          else await this.reconnectHoldingLock(wire, hold);
          break;
        }
        case 'error': {
          s[Stat.SERVER_ERRORS]!++;
          const ctx = st.permissionContext;
          const detail = ctx === undefined ? '' : ` (${ctx.operation} to ${JSON.stringify(ctx.subject)})`;
          this.post({
            type: 'error',
            error: { code: 'SERVER_ERROR', name: 'ServerError', message: `server error ${String(st.data)}${detail}` },
          });
          break;
        }
        default:
          break;
      }
    }
  }

  private onMessage(m: MainMessage): void {
    switch (m.type) {
      case 'flush':
        this.drain.confirmation.addFlush(m.id, m.position);
        this.drain.kick();
        break;
      case 'flush-cancel':
        this.drain.confirmation.cancelFlush(m.id);
        break;
      case 'close':
        this.closeRequest = { deadline: Date.now() + m.timeoutMs, resolve: () => {} };
        this.onClose();
        break;
      case 'crash':
        setImmediate(() => {
          throw new Error('worker crash requested by a test');
        });
        break;
    }
  }

  private onConfirm(): void {
    if (this.closeRequest !== undefined && this.drain.idle) this.closeRequest.resolve();
  }

  private server(): string {
    const info = this.nc?.info;
    return info === undefined ? '' : `${info.host}:${info.port}`;
  }

  private post(m: WorkerMessage): void {
    this.task.port.postMessage(m);
  }
}

/** Node's codes for a server certificate that fails verification (tls.connect, OpenSSL). */
const CERTIFICATE_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
]);

/** The certificate verification failure in `err` or its causes, if that is what it is. */
function certificateProblem(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e.code === 'string' && CERTIFICATE_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

function connectionError(err: unknown): SerializedError {
  const e = err as { message?: string; code?: string };
  let detail = e.code !== undefined ? `${e.code}: ${e.message ?? ''}` : (e.message ?? String(err));
  const cert = certificateProblem(err);
  if (cert !== undefined && !detail.includes(cert)) detail += ` (server certificate: ${cert})`;
  if (e.code === 'TIMEOUT') {
    // nats.js waits out its timeout when a socket dies mid-handshake, so name the usual causes.
    detail +=
      ' (no answer within options.timeout: server unreachable or black-holed, or a TLS handshake the server refused, e.g. a client certificate it requires)';
  }
  return { code: 'CONNECTION_ERROR', name: 'ConnectionError', message: `NATS connection failed: ${detail}` };
}

/** Expiry nudges to the main thread while disconnected: at most one per this many ms. */
const EXPIRY_NUDGE_MS = 50;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
