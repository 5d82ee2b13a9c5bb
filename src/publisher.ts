/**
 * The main-thread publisher: validates and encodes each message into the shared ring, and talks
 * to the worker (started through piscina) for everything that is not a publish.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Destination, type DestinationOptions } from './destination.js';
import {
  BufferFullError,
  type BufferLimit,
  ConnectionError,
  InvalidPayloadError,
  MaxPayloadExceededError,
  MessageTooLargeError,
  MessagesDroppedError,
  PublisherClosedError,
  TimeoutError,
  WorkerDiedError,
  reviveError,
} from './errors.js';
import { EventHub, type PublisherEvent } from './events.js';
import { encodeHeaders, headerLines, type HeadersInit } from './headers.js';
import { resolveOptions, type PublisherOptions, type ResolvedOptions } from './options.js';
import { JetStreamFrame, newPublisherId } from './jetstream-frame.js';
import { REJECT_TOO_LARGE, RingWriter } from './ring-writer.js';
import {
  CONFIRMED_POS,
  CONFIRM_SEQ,
  CONNECTION,
  CONNECTION_NAMES,
  Connection,
  MAIN_WAITING,
  DEFAULT_MAX_PAYLOAD,
  MAX_PAYLOAD,
  RELEASED_MSGS,
  SENT_POS,
  STATE,
  WRITE_POS,
  Stat,
  State,
  allocateRing,
  geometryFor,
  viewsOf,
  type RingViews,
} from './shared/layout.js';
import type { JetStreamWorkerSettings, MainMessage, WorkerExit, WorkerMessage, WorkerTask, WorkerTestHooks } from './shared/protocol.js';
import type { CloseReport, PublisherStats, PublisherStatus } from './stats.js';
import { Subject, SubjectCache, encodeText, validateSubject } from './subjects.js';
import { workerFilename } from './worker-path.js';
import { publisherWritable, type WritableOptions } from './writable.js';
import type { Writable } from 'node:stream';

/**
 * The worker's young generation, in MiB. Its garbage dies within a pass, yet V8's default lets
 * the young generation grow to 16+ MiB under load: 2 MiB cut the outage bench's RSS by ~6 MiB,
 * with no throughput change beyond the noise (README, Memory).
 */
export const WORKER_YOUNG_GENERATION_MB = 2;

export interface PublishOptions {
  /** Reply subject sent with the message. */
  reply?: string;
  /** Message headers; need a server with headers support (nats-server 2.2+). */
  headers?: HeadersInit;
}

/** A payload: bytes (copied, so the caller may reuse the buffer at once) or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

export class Publisher implements AsyncDisposable {
  private readonly views: RingViews;
  private readonly control: Int32Array;
  private readonly writer: RingWriter;
  private readonly subjects = new SubjectCache();
  private readonly hub = new EventHub();
  private readonly pool: Piscina;
  private readonly port: MessagePort;
  private readonly task: Promise<WorkerExit>;
  private readonly flushes = new Map<number, PendingFlush>();
  private flushIds = 0;
  private rejectedCount = 0;
  private rejectedBytesCount = 0;
  private readonly rejectedBy = { bytes: 0, messages: 0, disconnected: 0 };
  private unsentCount = 0;
  private closing: Promise<CloseReport> | undefined;
  private report: CloseReport | undefined;
  private deathError: WorkerDiedError | undefined;
  private readonly firstConnect: Promise<void>;
  private settleFirstConnect: ((e?: Error) => void) | undefined;
  private headersSupported = true;
  /** JetStream mode's per-publisher frame parts; undefined in core mode. */
  private readonly jsFrame: JetStreamFrame | undefined;
  /** The Msg-Id prefix in JetStream mode: Msg-Ids are `<publisherId>-<sequence>`. */
  readonly publisherId: string | undefined;
  private readonly serverRejectedBy = new Map<number, number>();
  private lastConnectError: Error | undefined;
  private readonly closedPromise: Promise<void | Error>;
  private resolveClosed!: (v: void | Error) => void;

  /**
   * @internal use `createPublisher()`. `initialPosition` starts the ring's 32-bit positions
   * elsewhere than 0, so tests can cross the 2^32 wrap without sending 4 GiB.
   */
  constructor(
    private readonly options: ResolvedOptions,
    internal?: InternalOptions,
  ) {
    const geometry = geometryFor(options.bufferBytes);
    const ring = allocateRing(geometry);
    this.views = viewsOf(ring, geometry);
    this.control = this.views.control;
    const start = (internal?.initialPosition ?? 0) | 0;
    this.control[WRITE_POS] = this.control[CONFIRMED_POS] = this.control[SENT_POS] = start;
    this.control[MAX_PAYLOAD] = DEFAULT_MAX_PAYLOAD;
    this.views.stats[Stat.EPOCH_MS] = Date.now();
    this.control[STATE] = options.drain.bufferWhileDisconnected ? State.OPEN : State.DISCONNECTED;
    this.control[CONNECTION] = Connection.CONNECTING;
    this.writer = new RingWriter(this.views, {
      bytes: options.bufferBytes,
      messages: options.reconnectBufMessages,
      lowWaterBytes: options.drain.lowWaterBytes,
      lowWaterMessages: options.drain.lowWaterMessages,
      dropOldest: options.overflow === 'drop-oldest',
      maxAgeMs: options.drain.maxBufferedAgeMs,
      refuseWhileDisconnected: !options.drain.bufferWhileDisconnected,
    });
    this.writer.onReopen = () => this.hub.push({ type: 'drain' });
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.firstConnect = new Promise<void>((resolve, reject) => {
      this.settleFirstConnect = (e) => (e === undefined ? resolve() : reject(e));
    });
    this.firstConnect.catch(() => {});

    // atomics 'disabled': piscina would otherwise park the idle worker in a blocking Atomics.wait,
    // stalling the socket it owns. min = max = 1 keeps the one thread alive without idleTimeout.
    this.pool = new Piscina({
      filename: workerFilename(),
      minThreads: 1,
      maxThreads: 1,
      atomics: 'disabled',
      concurrentTasksPerWorker: 1,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.on('message', (m: WorkerMessage) => this.onWorkerMessage(m));
    // Events must not keep the process alive by themselves; the worker thread decides that.
    this.port.unref();
    const js = options.jetstream;
    let jetstream: JetStreamWorkerSettings | undefined;
    if (js !== undefined) {
      this.publisherId = newPublisherId();
      // 8 random characters (62^8 values) keep the inbox, written into every frame, short.
      const inbox = `_INBOX.${newPublisherId().slice(0, 8)}`;
      const frame = { inbox, publisherId: this.publisherId, msgId: js.msgId, expectStream: js.expectStream };
      this.jsFrame = new JetStreamFrame(frame);
      jetstream = { frame, ackTimeoutMs: js.ackTimeoutMs, maxPendingAcks: js.maxPendingAcks, noRespondersRetryMs: js.noRespondersRetryMs };
    }
    const task: WorkerTask = {
      ring,
      geometry,
      connection: options.connection,
      drain: options.drain,
      waitForConnect: options.waitForConnect,
      workerNice: options.workerNice,
      port: port2,
      ...(internal?.testHooks === undefined ? {} : { testHooks: internal.testHooks }),
      ...(jetstream === undefined ? {} : { jetstream }),
    };
    this.task = this.pool.run(task, { transferList: [port2] }) as Promise<WorkerExit>;
    this.task.then(
      (exit) => this.onWorkerExit(exit),
      (err: unknown) => this.onWorkerDeath(err),
    );
    if (options.exitFlushTimeout > 0) exitHooks.add(this.onProcessExit);
  }

  /**
   * The process is exiting without close(): give the worker a bounded time to drain (the event
   * loop is gone, so wait synchronously, as pino's thread-stream does), then say what was lost.
   */
  private readonly onProcessExit = (): void => {
    if (this.report !== undefined) return;
    this.writer.terminate(State.CLOSED);
    const drained = this.flushSync(this.options.exitFlushTimeout);
    if (!drained) {
      const s = this.stats();
      process.stderr.write(
        `nats-offload: process exiting with ${s.pendingMessages} message(s) (${s.pendingBytes} bytes) not confirmed by a server ` +
          `after waiting ${this.options.exitFlushTimeout} ms; accepted ${s.accepted}, sent ${s.sent}, status ${s.status}\n`,
      );
    }
  };

  /** 'connecting' until the first connection, then 'connected' / 'reconnecting', and 'closed'. */
  get status(): PublisherStatus {
    return CONNECTION_NAMES[Atomics.load(this.control, CONNECTION)] ?? 'closed';
  }

  /** The shared full flag: true while publishes are refused for lack of room (or disconnected with -1). */
  get full(): boolean {
    return !this.writer.reopenIfRoom();
  }

  /**
   * Copies the message into the buffer; the worker sends it.
   * @throws {BufferFullError} the byte or message limit is reached, or disconnected with reconnectBufSize -1
   * @throws {InvalidSubjectError} @throws {InvalidPayloadError} @throws {MaxPayloadExceededError}
   * @throws {MessageTooLargeError} @throws {PublisherClosedError} @throws {WorkerDiedError}
   */
  publish(subject: string | Subject, payload: Payload, options?: PublishOptions): void {
    if (!this.tryPublish(subject, payload, options)) throw new BufferFullError(this.limitName());
  }

  /**
   * Like `publish()`, but returns false instead of throwing when the buffer is full.
   * Still throws for bad input and after close: those are bugs, not back-pressure.
   */
  tryPublish(subject: string | Subject, payload: Payload, options?: PublishOptions): boolean {
    if (options !== undefined) return this.tryPublishWith(subject instanceof Subject ? subject.name : subject, payload, options);
    const prefix = this.subjects.resolve(subject);
    const size = payloadSize(payload);
    const js = this.jsFrame;
    if (js === undefined) {
      this.checkMaxPayload(size);
      return this.writer.tryWrite(prefix, payload, size) || this.refused(size);
    }
    // The server's limit counts the header block too.
    this.checkMaxPayload(js.headerBytes + size);
    return this.writer.tryWriteJetStream(prefix, payload, size, js) || this.refused(size);
  }

  /**
   * A plain read of the server's limit: a stale value is caught again by the worker, which drops
   * such frames (counted in droppedOversize).
   * @throws {MaxPayloadExceededError}
   */
  private checkMaxPayload(bytes: number): void {
    const max = this.control[MAX_PAYLOAD]!;
    if (bytes > max) throw new MaxPayloadExceededError(bytes, max);
  }

  /**
   * A subject validated and encoded once, to publish with instead of the string: no cache lookup
   * per publish. For many rotating subjects; a single repeated string is as fast.
   * @throws {InvalidSubjectError}
   */
  subject(name: string): Subject {
    return new Subject(name);
  }

  private tryPublishWith(subject: string, payload: Payload, options: PublishOptions): boolean {
    if (options === null || typeof options !== 'object') throw new InvalidPayloadError('publish options must be an object');
    if (this.jsFrame !== undefined) return this.tryPublishJetStreamWith(subject, payload, options, this.jsFrame);
    validateSubject(subject);
    if (options.reply !== undefined) validateSubject(options.reply, 'reply subject');
    const size = payloadSize(payload);
    const reply = options.reply === undefined ? '' : `${options.reply} `;
    let head: Uint8Array;
    let total = size;
    if (options.headers !== undefined) {
      if (!this.headersSupported) throw new InvalidPayloadError('the server does not support headers');
      const hdr = encodeHeaders(options.headers);
      const hlen = Buffer.byteLength(hdr);
      total = hlen + size;
      head = encodeText(`HPUB ${subject} ${reply}${hlen} ${total}\r\n${hdr}`);
    } else {
      head = encodeText(`PUB ${subject} ${reply}${size}\r\n`);
    }
    this.checkMaxPayload(total);
    return this.writer.tryWriteHead(head, payload, size) || this.refused(size);
  }

  /**
   * JetStream mode with options: headers go after the Msg-Id (a Nats-Msg-Id of the caller's
   * replaces ours); a reply subject is refused, since the reply carries the stream's ack.
   */
  private tryPublishJetStreamWith(subject: string, payload: Payload, options: PublishOptions, js: JetStreamFrame): boolean {
    if (options.reply !== undefined) {
      throw new InvalidPayloadError("a reply subject is not supported in JetStream mode: the reply subject carries the stream's ack");
    }
    validateSubject(subject);
    const size = payloadSize(payload);
    if (options.headers !== undefined && !this.headersSupported) throw new InvalidPayloadError('the server does not support headers');
    const lines = options.headers === undefined ? '' : headerLines(options.headers);
    const head = js.headWithHeaders(subject, this.writer.acceptedMessages, lines, size);
    this.checkMaxPayload(head.length - head.indexOf(10) - 1 + size);
    return this.writer.tryWriteHead(head, payload, size) || this.refused(size);
  }

  /** Slow path of a refused write: throws for closed / dead / too large, else counts and returns false. */
  private refused(size: number): false {
    const why = this.writer.rejection;
    if (why === State.CLOSED) throw new PublisherClosedError('publish after close()');
    if (why === State.WORKER_DIED) throw this.deathError ?? new WorkerDiedError();
    if (why === REJECT_TOO_LARGE) throw new MessageTooLargeError(this.writer.rejectedFrameBytes, this.options.bufferBytes);
    this.rejectedCount++;
    this.rejectedBytesCount += size;
    this.rejectedBy[this.limitName()]++;
    return false;
  }

  /** Which limit the last refusal hit. */
  private limitName(): BufferLimit {
    const why = this.writer.rejection;
    return why === State.FULL_MESSAGES ? 'messages' : why === State.DISCONNECTED ? 'disconnected' : 'bytes';
  }

  /**
   * Resolves once a server answered a PING sent after every message published before the call
   * (nats.js's flush, across reconnects: it waits while disconnected). Messages a policy dropped
   * meanwhile (drop-oldest, maxBufferedAge, over max_payload) are not confirmed by anyone: then it
   * rejects with MessagesDroppedError, counting them, once the rest were confirmed.
   * @throws {MessagesDroppedError} @throws {TimeoutError} when `timeout` ms pass first
   * @throws {PublisherClosedError} @throws {WorkerDiedError} when the publisher stops before that
   */
  flush(options?: { timeout?: number }): Promise<void> {
    if (this.deathError !== undefined) return Promise.reject(this.deathError);
    if (this.report !== undefined) return Promise.reject(new PublisherClosedError('flush after close()'));
    const id = ++this.flushIds;
    const position = this.writer.position;
    const done = new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { position, oldest: 0, expired: 0, resolve, reject });
    });
    this.writer.onDropped = this.countFlushDrop;
    this.post({ type: 'flush', id, position });
    const timeout = options?.timeout;
    if (timeout === undefined) return done;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.forgetFlush(id);
        this.post({ type: 'flush-cancel', id });
        reject(new TimeoutError(`flush did not complete within ${timeout} ms`));
      }, timeout);
      done.then(resolve, reject).finally(() => clearTimeout(t));
    });
  }

  /** Counts a message dropped on this thread against every waiting flush published after it. */
  private readonly countFlushDrop = (pos: number, why: 'oldest' | 'expired'): void => {
    for (const f of this.flushes.values()) if (((f.position - pos) | 0) > 0) f[why]++;
  };

  private forgetFlush(id: number): PendingFlush | undefined {
    const f = this.flushes.get(id);
    this.flushes.delete(id);
    if (this.flushes.size === 0) this.writer.onDropped = undefined;
    return f;
  }

  /**
   * Blocks this thread (Atomics.wait) until everything accepted is confirmed by the server, or
   * `timeoutMs` passes. For exit paths where the event loop is gone; prefer `flush()` elsewhere.
   * @returns true if nothing is left pending
   */
  flushSync(timeoutMs: number): boolean {
    this.writer.publish(); // the microtask that would publish the tail may never run now
    const deadline = Date.now() + timeoutMs;
    const c = this.control;
    // Raised before CONFIRM_SEQ is read, so the worker notifies (layout.ts, MAIN_WAITING).
    Atomics.add(c, MAIN_WAITING, 1);
    try {
      for (;;) {
        if (this.deathError !== undefined || this.report !== undefined) return this.writer.pendingBytes() === 0;
        const seq = Atomics.load(c, CONFIRM_SEQ);
        if (this.writer.pendingBytes() === 0) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        // Woken by each confirmation; the slice bounds a missed wake-up.
        Atomics.wait(c, CONFIRM_SEQ, seq, Math.min(left, 50));
      }
    } finally {
      Atomics.sub(c, MAIN_WAITING, 1);
    }
  }

  /**
   * Resolves when pending falls to the low-water marks (`lowWaterMark` of the limits, half by
   * default): the moment to resume after `tryPublish()` returned false.
   * @throws {TimeoutError} @throws {PublisherClosedError} @throws {WorkerDiedError}
   */
  async ready(options?: { timeout?: number }): Promise<void> {
    const deadline = options?.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const c = this.control;
    // Raised before CONFIRM_SEQ is read, so the worker notifies (layout.ts, MAIN_WAITING).
    Atomics.add(c, MAIN_WAITING, 1);
    try {
      for (;;) {
        if (this.deathError !== undefined) throw this.deathError;
        if (this.report !== undefined || this.closing !== undefined) throw new PublisherClosedError('ready() after close()');
        const seq = Atomics.load(c, CONFIRM_SEQ);
        // Open, not only below low water: with reconnectBufSize -1, publishes are refused until connected.
        if (this.writer.belowLowWater() && this.writer.reopenIfRoom()) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new TimeoutError(`pending did not fall to the low-water mark within ${options?.timeout} ms`);
        // Confirmations, drops and reconnects bump CONFIRM_SEQ and notify; the slice re-checks closed/died states.
        const w = Atomics.waitAsync(c, CONFIRM_SEQ, seq, Math.min(left, 100));
        if (w.async) await w.value;
      }
    } finally {
      Atomics.sub(c, MAIN_WAITING, 1);
    }
  }

  /**
   * A Writable that publishes each chunk as one message on `subject`, waiting (back-pressure)
   * while the buffer is full. Object mode takes strings, bytes, or values sent as JSON.
   */
  writable(subject: string, options?: WritableOptions): Writable {
    return publisherWritable(this, subject, options);
  }

  /**
   * A synchronous log destination for pino: each line is one message on `subject`; a full buffer
   * counts the line as refused instead of queueing it. `pino(pub.destination('logs.app'))`.
   * @throws {InvalidSubjectError} @throws {InvalidOptionError}
   */
  destination(subject: string, options?: DestinationOptions): Destination {
    return new Destination(this, subject, options);
  }

  /** A synchronous snapshot of the counters in shared memory. */
  stats(): PublisherStats {
    const s = this.views.stats;
    const accepted = this.writer.acceptedMessages;
    const sent = s[Stat.CONFIRMED_MSGS]!;
    const dropped = s[Stat.DROPPED_OVERSIZE]!;
    const droppedOldest = this.writer.droppedOldest;
    const expired = s[Stat.EXPIRED]! + this.writer.expired;
    const since = s[Stat.DISCONNECTED_SINCE]!;
    const outageMs = since > 0 ? Date.now() - since : 0;
    const open = this.report === undefined;
    const pendingBytes = open ? this.writer.pendingBytes() : 0;
    // From the ring's own counters, not from the others: so the accounting identity can fail.
    const pendingMessages = open ? ((accepted | 0) - Atomics.load(this.control, RELEASED_MSGS)) >>> 0 : 0;
    const oldest = open ? this.writer.oldestAgeMs() : 0;
    return {
      accepted,
      acceptedBytes: this.writer.acceptedBytes,
      rejected: this.rejectedCount,
      rejectedBytes: this.rejectedBytesCount,
      rejectedByLimit: { ...this.rejectedBy },
      sent,
      sentBytes: s[Stat.CONFIRMED_BYTES]!,
      written: s[Stat.SENT_MSGS]!,
      resent: s[Stat.RESENT_MSGS]!,
      pendingMessages,
      pendingBytes,
      droppedOversize: dropped,
      unsent: this.unsentCount,
      droppedOldest,
      expired,
      oldestPendingAgeMs: oldest,
      peakPendingBytes: Math.max(s[Stat.PEAK_PENDING_BYTES]!, this.writer.peakPendingBytes),
      reconnects: s[Stat.RECONNECTS]!,
      disconnects: s[Stat.DISCONNECTS]!,
      writes: s[Stat.WRITES]!,
      pings: s[Stat.PINGS]!,
      serverErrors: s[Stat.SERVER_ERRORS]!,
      outageMs,
      disconnectedMs: s[Stat.DISCONNECTED_TOTAL_MS]! + outageMs,
      status: this.status,
      full: this.full,
      stored: s[Stat.STORED]!,
      duplicates: s[Stat.DUPLICATES]!,
      serverRejected: s[Stat.SERVER_REJECTED]!,
      serverRejectedByCode: Object.fromEntries(this.serverRejectedBy),
      ackTimeouts: s[Stat.ACK_TIMEOUTS]!,
      retries: s[Stat.RETRIES]!,
    };
  }

  /** A new async iterator of status events (connect, disconnect, reconnect, error, closed). */
  events(): AsyncIterableIterator<PublisherEvent> {
    return this.hub.iterator();
  }

  /** Resolves when the publisher has closed: to the error that ended it, if one did. */
  closed(): Promise<void | Error> {
    return this.closedPromise;
  }

  /**
   * Stops accepting, drains what it can within `timeout` ms (default `closeTimeout`), closes the
   * connection and resolves with what was sent and what was not. Idempotent.
   */
  close(options?: { timeout?: number }): Promise<CloseReport> {
    if (this.closing !== undefined) return this.closing;
    const timeoutMs = options?.timeout ?? this.options.closeTimeout;
    this.writer.terminate(State.CLOSED);
    this.closing = this.shutdown(timeoutMs);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal resolves on the first connection (createPublisher's waitForConnect). */
  waitForFirstConnect(): Promise<void> {
    return this.firstConnect;
  }

  /** @internal the error createPublisher's waitForConnect rejects with when connectTimeout passes. */
  connectTimeoutError(ms: number): ConnectionError {
    const last = this.lastConnectError === undefined ? 'no attempt has failed yet' : `last attempt: ${this.lastConnectError.message}`;
    return new ConnectionError(`no connection to a server within options.connectTimeout (${ms} ms); ${last}`, {
      cause: this.lastConnectError,
    });
  }

  private async shutdown(timeoutMs: number): Promise<CloseReport> {
    let error: Error | undefined = this.deathError;
    if (error === undefined) {
      this.post({ type: 'close', timeoutMs });
      // The worker bounds its own drain; this guard only covers a worker that stopped answering.
      let guard: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((r) => (guard = setTimeout(() => r('stuck'), timeoutMs + 5000)));
      const exit = await Promise.race([
        this.task.then(
          (e) => e,
          () => undefined,
        ),
        stuck,
      ]);
      clearTimeout(guard);
      if (exit === 'stuck') error = new WorkerDiedError('the worker did not finish closing in time');
      else if (exit?.error !== undefined) error = reviveError(exit.error);
      else if (this.deathError !== undefined) error = this.deathError;
    }
    return this.finish(error);
  }

  private async finish(error: Error | undefined): Promise<CloseReport> {
    if (this.report !== undefined) return this.report;
    Atomics.store(this.control, CONNECTION, Connection.CLOSED);
    exitHooks.delete(this.onProcessExit);
    // Whatever is still pending now will never be confirmed: it becomes the unsent count.
    const st = this.stats();
    this.unsentCount = st.pendingMessages;
    this.writer.onDropped = undefined;
    const report: CloseReport = {
      accepted: st.accepted,
      sent: st.sent,
      unsent: st.pendingMessages,
      resent: st.resent,
      rejected: st.rejected,
      droppedOversize: st.droppedOversize,
      droppedOldest: st.droppedOldest,
      expired: st.expired,
      ...(error === undefined ? {} : { error }),
    };
    this.report = report;
    for (const f of this.flushes.values()) {
      f.reject(error instanceof WorkerDiedError ? error : new PublisherClosedError('closed before the flush completed'));
    }
    this.flushes.clear();
    this.settleFirstConnect?.(error ?? new PublisherClosedError('closed before the first connection'));
    this.port.close();
    await this.pool.destroy().catch(() => {});
    this.hub.push({ type: 'closed', report });
    this.hub.end();
    this.resolveClosed(error);
    return report;
  }

  private post(m: MainMessage): void {
    this.port.postMessage(m);
  }

  private onWorkerMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'connect':
      case 'reconnect':
        this.headersSupported = m.headers;
        this.hub.push({ type: m.type, server: m.server });
        if (m.type === 'connect') this.settleFirstConnect?.();
        break;
      case 'disconnect':
        this.hub.push({ type: 'disconnect', server: m.server });
        break;
      case 'rejected': {
        // By err_code; a 503 no-responders reply has none, so it counts under 503.
        const key = m.errCode !== 0 ? m.errCode : m.code;
        this.serverRejectedBy.set(key, (this.serverRejectedBy.get(key) ?? 0) + m.count);
        this.hub.push(m);
        break;
      }
      case 'drain':
        this.hub.push({ type: 'drain' });
        break;
      case 'error': {
        const error = reviveError(m.error);
        if (error.code === 'CONNECTION_ERROR') this.lastConnectError = error;
        this.hub.push({ type: 'error', error });
        break;
      }
      case 'flushed': {
        const f = this.forgetFlush(m.id);
        if (f === undefined) break;
        if (f.oldest + f.expired + m.expired + m.oversize === 0) f.resolve();
        else f.reject(new MessagesDroppedError({ oldest: f.oldest, expired: f.expired + m.expired, oversize: m.oversize }));
        break;
      }
      case 'expired':
        this.writer.releaseExpired();
        this.writer.reopenIfRoom();
        break;
    }
  }

  private onWorkerExit(exit: WorkerExit): void {
    if (this.closing !== undefined) return;
    // The connection closed for good (maxReconnectAttempts exhausted, auth refused): close too.
    const error = exit.error === undefined ? new ConnectionError('connection closed') : reviveError(exit.error);
    this.hub.push({ type: 'error', error });
    this.settleFirstConnect?.(error);
    this.writer.terminate(State.CLOSED);
    this.closing = this.finish(error);
  }

  private onWorkerDeath(err: unknown): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.deathError = new WorkerDiedError(`the publisher worker thread died: ${cause.message}`, { cause });
    this.writer.terminate(State.WORKER_DIED);
    this.hub.push({ type: 'error', error: this.deathError });
    this.settleFirstConnect?.(this.deathError);
    if (this.closing === undefined) this.closing = this.finish(this.deathError);
  }

  /** @internal test hook: pending frames and bytes by walking the ring's records (-1 bytes: the walk missed the write position). */
  walkRingForTest(): { frames: number; bytes: number } {
    return this.writer.walkPending();
  }

  /** @internal test hook: flushes the worker is holding. */
  workerFlushesForTest(): number {
    return this.views.stats[Stat.FLUSHES_WAITING]!;
  }

  /** @internal test hook: make the worker throw, as a bug in it would. */
  crashWorkerForTest(): void {
    this.post({ type: 'crash' });
  }

  /** @internal test hook: terminate the worker thread from outside. */
  async terminateWorkerForTest(): Promise<void> {
    for (const t of this.pool.threads) await t.terminate();
  }
}

/** One process 'exit' listener for all publishers (one each would trip MaxListenersExceeded). */
const exitHooks = new Set<() => void>();
process.on('exit', () => {
  for (const hook of exitHooks) hook();
});

/** Test-only settings travel under a symbol, so they never look like options. */
export const INTERNAL = Symbol.for('nats-offload.internal');
interface InternalOptions {
  initialPosition?: number;
  testHooks?: WorkerTestHooks;
}
function internalOptions(options: PublisherOptions | undefined): InternalOptions | undefined {
  return (options as Record<symbol, InternalOptions> | undefined)?.[INTERNAL];
}

/** A flush waiting for the worker, with the drops this thread made among the messages before it. */
interface PendingFlush {
  readonly position: number;
  oldest: number;
  expired: number;
  resolve(): void;
  reject(e: Error): void;
}

/** Byte length of a payload (UTF-8 for strings). @throws {InvalidPayloadError} */
function payloadSize(payload: unknown): number {
  if (typeof payload === 'string') return Buffer.byteLength(payload, 'utf8');
  if (payload instanceof Uint8Array) return payload.length;
  const what = payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload;
  throw new InvalidPayloadError(`payload must be a Uint8Array (or Buffer) or a string, got ${what}`);
}

/**
 * Starts the worker thread and returns the publisher. Resolves once the worker runs, without
 * waiting for a server (publishes are buffered), unless `waitForConnect` is set.
 * @throws {InvalidOptionError} @throws {OptionNotCloneableError}
 */
export async function createPublisher(options?: PublisherOptions): Promise<Publisher> {
  const resolved = resolveOptions(options);
  const pub = new Publisher(resolved, internalOptions(options));
  if (resolved.waitForConnect) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(pub.connectTimeoutError(resolved.connectTimeout)), resolved.connectTimeout);
    });
    try {
      await Promise.race([pub.waitForFirstConnect(), timedOut]);
    } catch (e) {
      await pub.close({ timeout: 0 });
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
  return pub;
}
