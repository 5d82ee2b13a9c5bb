/**
 * What crosses between the main thread and the worker: the task payload and the messages on the
 * MessagePort, each a union keyed on `type`. Errors cross as `{ code, name, message }` because
 * structured cloning drops their class and `code`; the main side rebuilds them by `code`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { JetStreamFrameSpec } from '../jetstream-frame.js';
import type { RingGeometry } from './layout.js';

/** Connection options after validation: plain data only, so they can be structured-cloned. */
export interface WireTlsOptions {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly handshakeFirst?: boolean;
}

export interface ConnectionSettings {
  readonly servers: readonly string[];
  readonly name: string;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  readonly nkeySeed?: string;
  readonly credentials?: string;
  readonly credentialsFile?: string;
  readonly tls?: WireTlsOptions;
  readonly noRandomize: boolean;
  readonly ignoreClusterUpdates: boolean;
  readonly timeout: number;
  readonly pingInterval: number;
  readonly maxPingOut: number;
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWait: number;
  readonly reconnectJitter: number;
  readonly reconnectJitterTLS: number;
  readonly debug: boolean;
}

export interface DrainSettings {
  /** Bytes handed to the socket but not yet answered by a PONG, at most. */
  readonly maxInFlightBytes: number;
  /** Largest single write handed to the connection. */
  readonly maxWriteBytes: number;
  /** The STATE slot is cleared once pending bytes / messages fall to these marks. */
  readonly lowWaterBytes: number;
  /** Number.MAX_SAFE_INTEGER without a message limit. */
  readonly lowWaterMessages: number;
  /** Raise STATE=DISCONNECTED while not connected (reconnectBufSize -1). */
  readonly bufferWhileDisconnected: boolean;
  /** Frames older than this many ms are discarded instead of sent; 0 = no age limit. */
  readonly maxBufferedAgeMs: number;
}

export interface WorkerTask {
  readonly ring: SharedArrayBuffer;
  readonly geometry: RingGeometry;
  readonly connection: ConnectionSettings;
  readonly drain: DrainSettings;
  /** The caller waits for the first connection: configuration errors (certificates) end it. */
  readonly waitForConnect: boolean;
  readonly port: MessagePort;
  readonly testHooks?: WorkerTestHooks;
  /** JetStream mode; absent in core mode. */
  readonly jetstream?: JetStreamWorkerSettings;
  /** The worker thread's nice value (Linux); 0 leaves it as it is. */
  readonly workerNice: number;
}

/** What the worker needs of JetStream mode. */
export interface JetStreamWorkerSettings {
  /**
   * The frames' format, as the main thread writes them: the worker completes each frame's head
   * (jetstream-frame.ts). Acks come back on `<inbox>.<seq>`; the worker subscribes to `<inbox>.*`.
   */
  readonly frame: JetStreamFrameSpec;
  readonly ackTimeoutMs: number;
  readonly maxPendingAcks: number;
  readonly noRespondersRetryMs: number;
}

/** Test-only: force interleavings that timing alone would hit only rarely. */
export interface WorkerTestHooks {
  /** On a reconnect, hold RING_LOCK this long before marking the connection up and passing. */
  readonly holdLockOnReconnectMs?: number;
}

export interface SerializedError {
  readonly code: string;
  readonly name: string;
  readonly message: string;
}

export type WorkerMessage =
  | { readonly type: 'connect'; readonly server: string; readonly maxPayload: number; readonly headers: boolean }
  | { readonly type: 'disconnect'; readonly server: string }
  | { readonly type: 'reconnect'; readonly server: string; readonly maxPayload: number; readonly headers: boolean }
  | { readonly type: 'error'; readonly error: SerializedError }
  /** The worker lifted the full state: pending fell to the low-water marks. */
  | { readonly type: 'drain' }
  /**
   * A server answered a PING sent after everything published before flush `id` that the worker
   * did not drop; `expired` and `oversize` count those it dropped (main counts its own drops).
   */
  | { readonly type: 'flushed'; readonly id: number; readonly expired: number; readonly oversize: number }
  /** Not connected, and the oldest buffered message is older than maxBufferedAge: main releases it. */
  | { readonly type: 'expired' }
  /** JetStream mode: the stream refused messages (coalesced); posted as the event itself. */
  | ({ readonly type: 'rejected' } & StreamRejection);

/** JetStream mode: the stream refused `count` messages on `subject` with this error. */
export interface StreamRejection {
  readonly subject: string;
  /** 503 when no stream answered (after the retry bound), else the error's status code. */
  readonly code: number;
  /** The JetStream err_code (0 for a 503). */
  readonly errCode: number;
  readonly description: string;
  readonly count: number;
}

export type MainMessage =
  | { readonly type: 'flush'; readonly id: number; readonly position: number }
  /** The flush timed out on the main side: forget it. */
  | { readonly type: 'flush-cancel'; readonly id: number }
  | { readonly type: 'close'; readonly timeoutMs: number }
  /** Test hook: make the worker throw from its event loop, as a bug would. */
  | { readonly type: 'crash' };

/** What the worker task resolves with once closed. Counters come from shared memory. */
export interface WorkerExit {
  readonly reason: 'closed' | 'connection-closed';
  readonly error?: SerializedError;
}
