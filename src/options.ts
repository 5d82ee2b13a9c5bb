/**
 * Publisher options: `PublisherOptions` (all optional, what users pass) → `ResolvedOptions` (all
 * set) through `resolveOptions()`. Every default is here, with the reason it fits telemetry.
 */
import { InvalidOptionError, OptionNotCloneableError } from './errors.js';
import type { ConnectionSettings, DrainSettings, WireTlsOptions } from './shared/protocol.js';

export interface TlsOptions extends WireTlsOptions {}

export interface PublisherOptions {
  /** Server URL or list (`nats://host:port`, `tls://...`). Default `nats://127.0.0.1:4222`. */
  servers?: string | string[];
  /** Connection name shown by the server's monitoring. Default `nats-offload`. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** An nkey seed (`SU...`) used to sign the server's nonce. */
  nkeySeed?: string;
  /** Contents of a `.creds` file (JWT + nkey seed). */
  credentials?: string;
  /** Path of a `.creds` file, read by the worker. */
  credentialsFile?: string;
  /** TLS by file paths or PEM strings. */
  tls?: TlsOptions;
  /** Bytes of frames held while not confirmed by the server; -1 = buffer nothing while disconnected. */
  reconnectBufSize?: number;
  /** Messages held while not confirmed by the server; `Infinity` = no message limit. */
  reconnectBufMessages?: number;
  /** Wait for the first connection before `createPublisher()` resolves. Default false. */
  waitForConnect?: boolean;
  /** With `waitForConnect`: reject after this many ms without a connection. Default 10 000. */
  connectTimeout?: number;
  /** Give up connecting after this many failed attempts per server; -1 = never. Default -1. */
  maxReconnectAttempts?: number;
  reconnectTimeWait?: number;
  reconnectJitter?: number;
  reconnectJitterTLS?: number;
  /** Milliseconds between client PINGs; with `maxPingOut` decides how fast a stalled path is noticed. */
  pingInterval?: number;
  maxPingOut?: number;
  /** Connect (and TLS handshake) timeout in milliseconds. */
  timeout?: number;
  noRandomize?: boolean;
  ignoreClusterUpdates?: boolean;
  /** Bytes handed to the socket but not yet confirmed by a PONG, at most. */
  maxInFlightBytes?: number;
  /** Default time `close()` spends draining before it reports the rest as unsent. */
  closeTimeout?: number;
  /** At the limit while disconnected: refuse the new message (default) or drop the oldest. */
  overflow?: 'reject' | 'drop-oldest';
  /** Buffered messages older than this (ms) are discarded instead of sent; default: no age limit. */
  maxBufferedAge?: number;
  /** Fraction of the limits that pending must fall to before the full flag lifts and `ready()` resolves. */
  lowWaterMark?: number;
  /** At process exit without close(): wait up to this many ms for the buffer to drain; 0 = don't. */
  exitFlushTimeout?: number;
  /**
   * Linux: the worker thread's nice value, 0 (as the caller's thread) to 19. Higher lets the
   * publishing thread win the CPU whenever both want it; see README "Options and defaults".
   */
  workerNice?: number;
  /**
   * JetStream mode: each message is confirmed by its stream's ack (stored) instead of a PONG.
   * `true` for all defaults; absent = core NATS (fire and forget, confirmed by PING/PONG).
   */
  jetstream?: boolean | JetStreamOptions;
  debug?: boolean;
}

export interface JetStreamOptions {
  /** Sent as Nats-Expected-Stream: an ack from another stream is an error (err_code 10060). */
  expectStream?: string;
  /**
   * 'auto' (default): a Nats-Msg-Id per message, `<publisher id>-<sequence>`, the same on every
   * resend, so the stream drops resent copies within its duplicate_window. false: none.
   */
  msgId?: 'auto' | false;
  /** ms without an ack before a message is sent again (same Msg-Id). Default 5000. */
  ackTimeout?: number;
  /** Messages sent and not yet acked, at most (Go's PublishAsyncMaxPending default). Default 4000. */
  maxPendingAcks?: number;
  /** ms for which 503 no-responders replies (no stream, or no leader yet) are retried before the message is rejected. Default 10000. */
  noRespondersRetry?: number;
}

/** JetStream options after validation. */
export interface ResolvedJetStream {
  readonly expectStream: string | undefined;
  readonly msgId: boolean;
  readonly ackTimeoutMs: number;
  readonly maxPendingAcks: number;
  readonly noRespondersRetryMs: number;
}

export interface ResolvedOptions {
  readonly connection: ConnectionSettings;
  readonly drain: DrainSettings;
  /** -1 or the byte limit. */
  readonly reconnectBufSize: number;
  /** Message limit; 0 = none. */
  readonly reconnectBufMessages: number;
  /** The byte budget for pending frames: the limit, or the default ring size when -1. */
  readonly bufferBytes: number;
  readonly waitForConnect: boolean;
  readonly connectTimeout: number;
  readonly closeTimeout: number;
  readonly overflow: 'reject' | 'drop-oldest';
  readonly lowWaterMark: number;
  readonly exitFlushTimeout: number;
  readonly workerNice: number;
  /** undefined: core mode. */
  readonly jetstream: ResolvedJetStream | undefined;
}

const MiB = 1024 * 1024;

/** The defaults, and why each fits a telemetry publisher. */
export const DEFAULTS = Object.freeze({
  servers: 'nats://127.0.0.1:4222',
  name: 'nats-offload',
  /** 8 MiB like Go, C and Java: a few seconds of a busy emitter, a bounded memory cost. */
  reconnectBufSize: 8 * MiB,
  /** No message limit unless asked, as in Go; bytes bound memory already. */
  reconnectBufMessages: Infinity,
  waitForConnect: false,
  /** 10 s bounds waitForConnect: two dial rounds of `timeout` plus reconnectTimeWait, never forever. */
  connectTimeout: 10_000,
  /** Reconnect forever: the buffer is bounded, so retrying costs no memory (nats.js gives up after 10). */
  maxReconnectAttempts: -1,
  /** 1 s between attempts on one server, plus jitter, so a restarted server is found quickly. */
  reconnectTimeWait: 1000,
  reconnectJitter: 100,
  reconnectJitterTLS: 1000,
  /** 2 s × 2 outstanding PINGs: a silently stalled path is dropped in ≤ 6 s (nats.js: 2 min × 2). */
  pingInterval: 2000,
  maxPingOut: 2,
  /** 5 s to connect, so a black-holed server in the list is skipped fast (nats.js: 20 s). */
  timeout: 5000,
  noRandomize: false,
  ignoreClusterUpdates: false,
  /** 4 MiB in flight keeps the socket busy on fast links yet bounds Node's write queue. */
  maxInFlightBytes: 4 * MiB,
  /** 256 KiB writes: large enough to amortise syscalls, small enough to interleave PINGs. */
  maxWriteBytes: 256 * 1024,
  closeTimeout: 5000,
  /** Refuse at the limit, as the NATS docs describe; 'drop-oldest' keeps the newest telemetry. */
  overflow: 'reject' as 'reject' | 'drop-oldest',
  /** No age limit unless asked: what is stale depends on the data. */
  maxBufferedAge: 0,
  /** Half: the flag does not flap at the limit, and there is room for a burst when it lifts. */
  lowWaterMark: 0.5,
  /** 2 s at exit: enough to drain 8 MiB on a live link, short enough not to hold up a dying process. */
  exitFlushTimeout: 2000,
  /** As the caller's thread: lowering it trades saturated throughput for event-loop latency (README). */
  workerNice: 0,
  debug: false,
  jetstream: Object.freeze({
    /** Go's ack wait for async publishes is 5 s too: long enough for a loaded server's disk, short enough to heal a lost ack. */
    ackTimeout: 5000,
    /** Go's PublishAsyncMaxPending: enough acks in flight to keep a stream busy on a LAN. */
    maxPendingAcks: 4000,
    /** Covers an R3 stream's leader election (a few seconds) without hiding a missing stream for long. */
    noRespondersRetry: 10_000,
  }),
});

const KNOWN = new Set<string>([
  'servers',
  'name',
  'user',
  'pass',
  'token',
  'nkeySeed',
  'credentials',
  'credentialsFile',
  'tls',
  'reconnectBufSize',
  'reconnectBufMessages',
  'waitForConnect',
  'connectTimeout',
  'maxReconnectAttempts',
  'reconnectTimeWait',
  'reconnectJitter',
  'reconnectJitterTLS',
  'pingInterval',
  'maxPingOut',
  'timeout',
  'noRandomize',
  'ignoreClusterUpdates',
  'maxInFlightBytes',
  'closeTimeout',
  'debug',
  'overflow',
  'maxBufferedAge',
  'lowWaterMark',
  'exitFlushTimeout',
  'workerNice',
  'jetstream',
]);

const NOT_CLONEABLE_HINT: Record<string, string> = {
  authenticator:
    'the worker thread cannot receive functions; pass credentials (`credentials` text or `credentialsFile` path), `nkeySeed`, `user`/`pass` or `token` instead',
  reconnectDelayHandler: 'use reconnectTimeWait, reconnectJitter and reconnectJitterTLS instead',
};

function describe(v: unknown): string {
  if (typeof v === 'string') return `\`${JSON.stringify(v)}\` (string)`;
  if (typeof v === 'function') return 'a function';
  if (v === null) return '`null`';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  return `\`${String(v)}\` (${typeof v})`;
}

function fail(name: string, expectation: string, got: unknown): never {
  throw new InvalidOptionError(`options.${name} must be ${expectation}, got ${describe(got)}`);
}

function int(name: string, v: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(name, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

function bool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(name, 'a boolean', v);
  return v;
}

function str(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) fail(name, 'a non-empty string', v);
  return v;
}

function servers(v: unknown): string[] {
  if (v === undefined) return [DEFAULTS.servers];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) fail('servers', 'a URL string or a non-empty array of them', v);
  return list.map((s: unknown, i) => {
    if (typeof s !== 'string' || s.trim() === '') fail(`servers[${i}]`, 'a non-empty string', s);
    return s.trim();
  });
}

function tls(v: unknown): WireTlsOptions | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('tls', 'an object', v);
  const allowed = ['caFile', 'certFile', 'keyFile', 'ca', 'cert', 'key', 'handshakeFirst'];
  const out: Record<string, string | boolean> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!allowed.includes(k)) fail(`tls.${k}`, `one of ${allowed.join(', ')} (PEM text or file paths)`, val);
    if (k === 'handshakeFirst') out[k] = bool('tls.handshakeFirst', val, false);
    else if (typeof val === 'string') out[k] = val;
    else if (val !== undefined) {
      if (typeof val === 'function') throw new OptionNotCloneableError(`options.tls.${k} is a function; pass PEM text or a file path`);
      fail(`tls.${k}`, 'a string (PEM text or a file path)', val);
    }
  }
  return out as WireTlsOptions;
}

/**
 * @throws {InvalidOptionError} an option is unknown, out of range or of the wrong type
 * @throws {OptionNotCloneableError} an option cannot be sent to the worker (a function)
 */
export function resolveOptions(input: PublisherOptions | undefined): ResolvedOptions {
  const o: Record<string, unknown> = (input ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) fail('', 'an object', o);
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'function') {
      throw new OptionNotCloneableError(
        `options.${k} is a function, which cannot cross to the worker thread: ${NOT_CLONEABLE_HINT[k] ?? 'pass plain data'}`,
      );
    }
    if (!KNOWN.has(k)) {
      throw new InvalidOptionError(`options.${k} is not an option of nats-offload (known: ${[...KNOWN].join(', ')})`);
    }
  }

  let reconnectBufSize = DEFAULTS.reconnectBufSize;
  if (o.reconnectBufSize !== undefined) {
    const v = o.reconnectBufSize;
    if (v !== -1 && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1024 * MiB)) {
      fail('reconnectBufSize', '-1 (no buffering while disconnected) or an integer from 1 to 1073741824 bytes', v);
    }
    reconnectBufSize = v as number;
  }
  let reconnectBufMessages = 0;
  if (o.reconnectBufMessages !== undefined && o.reconnectBufMessages !== Infinity) {
    reconnectBufMessages = int('reconnectBufMessages', o.reconnectBufMessages, 0, 1, 2 ** 30);
  }
  const bufferBytes = reconnectBufSize === -1 ? DEFAULTS.reconnectBufSize : reconnectBufSize;
  const maxInFlightBytes = int('maxInFlightBytes', o.maxInFlightBytes, DEFAULTS.maxInFlightBytes, 1024, 1024 * MiB);

  const connection: ConnectionSettings = {
    servers: servers(o.servers),
    name: str('name', o.name) ?? DEFAULTS.name,
    ...optional('user', str('user', o.user)),
    ...optional('pass', typeof o.pass === 'string' ? o.pass : str('pass', o.pass)),
    ...optional('token', str('token', o.token)),
    ...optional('nkeySeed', str('nkeySeed', o.nkeySeed)),
    ...optional('credentials', str('credentials', o.credentials)),
    ...optional('credentialsFile', str('credentialsFile', o.credentialsFile)),
    ...optional('tls', tls(o.tls)),
    noRandomize: bool('noRandomize', o.noRandomize, DEFAULTS.noRandomize),
    ignoreClusterUpdates: bool('ignoreClusterUpdates', o.ignoreClusterUpdates, DEFAULTS.ignoreClusterUpdates),
    timeout: int('timeout', o.timeout, DEFAULTS.timeout, 1, 600_000),
    pingInterval: int('pingInterval', o.pingInterval, DEFAULTS.pingInterval, 10, 3_600_000),
    maxPingOut: int('maxPingOut', o.maxPingOut, DEFAULTS.maxPingOut, 1, 1000),
    maxReconnectAttempts: int('maxReconnectAttempts', o.maxReconnectAttempts, DEFAULTS.maxReconnectAttempts, -1),
    reconnectTimeWait: int('reconnectTimeWait', o.reconnectTimeWait, DEFAULTS.reconnectTimeWait, 0, 3_600_000),
    reconnectJitter: int('reconnectJitter', o.reconnectJitter, DEFAULTS.reconnectJitter, 0, 3_600_000),
    reconnectJitterTLS: int('reconnectJitterTLS', o.reconnectJitterTLS, DEFAULTS.reconnectJitterTLS, 0, 3_600_000),
    debug: bool('debug', o.debug, DEFAULTS.debug),
  };
  if (connection.user !== undefined && connection.pass === undefined) fail('pass', 'set when options.user is set', undefined);
  if (connection.credentials !== undefined && connection.credentialsFile !== undefined) {
    fail('credentials', 'unset when options.credentialsFile is set (choose one)', '<credentials text>');
  }

  const overflow = o.overflow ?? DEFAULTS.overflow;
  if (overflow !== 'reject' && overflow !== 'drop-oldest') fail('overflow', "'reject' or 'drop-oldest'", overflow);
  let lowWaterMark: number = DEFAULTS.lowWaterMark;
  if (o.lowWaterMark !== undefined) {
    const v = o.lowWaterMark;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) fail('lowWaterMark', 'a fraction from 0 (inclusive) to 1 (exclusive)', v);
    lowWaterMark = v;
  }
  let maxBufferedAge: number = DEFAULTS.maxBufferedAge;
  if (o.maxBufferedAge !== undefined && o.maxBufferedAge !== Infinity) {
    maxBufferedAge = int('maxBufferedAge', o.maxBufferedAge, 0, 1, 2 ** 30);
  }
  const drain: DrainSettings = {
    maxInFlightBytes: Math.min(maxInFlightBytes, Math.max(1024, Math.floor(bufferBytes / 2))),
    maxWriteBytes: DEFAULTS.maxWriteBytes,
    lowWaterBytes: Math.floor(bufferBytes * lowWaterMark),
    // No message limit: no message low-water mark either (0 would be a mark of its own).
    lowWaterMessages: reconnectBufMessages === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(reconnectBufMessages * lowWaterMark),
    bufferWhileDisconnected: reconnectBufSize !== -1,
    maxBufferedAgeMs: maxBufferedAge,
  };
  return {
    connection,
    drain,
    reconnectBufSize,
    reconnectBufMessages,
    bufferBytes,
    waitForConnect: bool('waitForConnect', o.waitForConnect, DEFAULTS.waitForConnect),
    connectTimeout: int('connectTimeout', o.connectTimeout, DEFAULTS.connectTimeout, 1, 3_600_000),
    closeTimeout: int('closeTimeout', o.closeTimeout, DEFAULTS.closeTimeout, 0, 3_600_000),
    overflow: overflow as 'reject' | 'drop-oldest',
    lowWaterMark,
    exitFlushTimeout: int('exitFlushTimeout', o.exitFlushTimeout, DEFAULTS.exitFlushTimeout, 0, 600_000),
    workerNice: int('workerNice', o.workerNice, DEFAULTS.workerNice, 0, 19),
    jetstream: jetstream(o.jetstream),
  };
}

const JETSTREAM_KEYS = ['expectStream', 'msgId', 'ackTimeout', 'maxPendingAcks', 'noRespondersRetry'];

function jetstream(v: unknown): ResolvedJetStream | undefined {
  if (v === undefined || v === false) return undefined;
  const o: Record<string, unknown> = v === true ? {} : (v as Record<string, unknown>);
  if (v !== true && (v === null || typeof v !== 'object' || Array.isArray(v))) fail('jetstream', 'true, false or an object', v);
  for (const [k, val] of Object.entries(o)) {
    if (!JETSTREAM_KEYS.includes(k)) fail(`jetstream.${k}`, `one of ${JETSTREAM_KEYS.join(', ')}`, val);
  }
  const expectStream = o.expectStream;
  // Printable characters only (as nats-server's stream names): the name is written into every frame's header.
  if (expectStream !== undefined && (typeof expectStream !== 'string' || !/^[^\s.*>/\\\u0000-\u001f\u007f]+$/.test(expectStream))) {
    fail('jetstream.expectStream', 'a stream name (no whitespace, control characters, `.`, `*`, `>` or slashes)', expectStream);
  }
  const msgId = o.msgId ?? 'auto';
  if (msgId !== 'auto' && msgId !== false) fail('jetstream.msgId', "'auto' or false", msgId);
  const d = DEFAULTS.jetstream;
  return {
    expectStream: expectStream as string | undefined,
    msgId: msgId === 'auto',
    ackTimeoutMs: int('jetstream.ackTimeout', o.ackTimeout, d.ackTimeout, 10, 3_600_000),
    maxPendingAcks: int('jetstream.maxPendingAcks', o.maxPendingAcks, d.maxPendingAcks, 1, 1_000_000),
    noRespondersRetryMs: int('jetstream.noRespondersRetry', o.noRespondersRetry, d.noRespondersRetry, 0, 3_600_000),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
