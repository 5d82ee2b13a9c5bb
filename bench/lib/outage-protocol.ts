/** Shapes shared by the outage suite and its child process (bench/outage-run.ts). */

export type OutageClient = 'nats-offload' | 'nats';

export interface OutageRunConfig {
  readonly client: OutageClient;
  /** nats-offload's reconnectBufSize (ignored for nats). */
  readonly bufferBytes: number;
  readonly ratePerSecond: number;
  readonly payload: number;
  /** nats-offload: payload bytes published as fast as possible before the paced phase, in buffers. */
  readonly ringLaps: number;
  readonly beforeMs: number;
  readonly outageMs: number;
  readonly afterMs: number;
  readonly sampleMs: number;
  /** Both clients wait this long between reconnect attempts (nats-offload's default). */
  readonly reconnectTimeWait: number;
}

export interface OutageSample {
  /** ms since publishing started */
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly arrayBuffers: number;
  /** nats-offload only: buffered (unconfirmed) frame bytes and messages. */
  readonly pendingBytes: number;
  readonly pendingMessages: number;
  readonly accepted: number;
  readonly refused: number;
  /** Unique sequence numbers the subscriber had at its last progress report. */
  readonly arrived: number;
  readonly connected: boolean;
}

export interface OutageRunResult {
  readonly config: OutageRunConfig;
  /** Growth of process.memoryUsage().arrayBuffers across createPublisher(): the shared memory it allocated. */
  readonly sharedBytes: number;
  /** RSS before either client was created (after a GC). */
  readonly baselineRss: number;
  /** RSS once the client is connected, before any publish (nats-offload: the worker thread, the ring untouched). */
  readonly rssAfterCreate: number;
  /** Highest RSS sampled from then on (the worker thread and the ring included). */
  readonly maxRss: number;
  readonly rssGrowth: number;
  readonly offered: number;
  readonly accepted: number;
  readonly refused: number;
  readonly acceptedDuringOutage: number;
  readonly refusedDuringOutage: number;
  /** Confirmed by the server (nats-offload stats().sent); NaN for nats, which cannot tell. */
  readonly confirmed: number;
  readonly resent: number;
  /** ms since publishing started */
  readonly stopAt: number;
  readonly restartedAt: number;
  readonly publisherReconnectAt: number;
  readonly subscriberResubscribedAt: number;
  /** From the server being ready again until everything accepted before then was confirmed (nats-offload). */
  readonly drainMs: number;
  readonly arrivedUnique: number;
  readonly duplicates: number;
  readonly missing: number;
  readonly missingRanges: [number, number][];
  /** nats-offload: paced messages the server had confirmed when it was stopped. */
  readonly confirmedAtStop: number;
  /** Of the missing, those confirmed before the stop: the server had them and lost them when it stopped. */
  readonly missingConfirmedBeforeStop: number;
  /** Whether the final flush resolved (nats-offload: pub.flush; nats: nc.flush). */
  readonly flushed: boolean;
  readonly samples: OutageSample[];
  readonly notes: string[];
}

export type FromOutageRun = { type: 'progress'; message: string } | { type: 'result'; result: OutageRunResult };

export function label(cfg: Pick<OutageRunConfig, 'client' | 'bufferBytes'>): string {
  return cfg.client === 'nats' ? 'nats' : `nats-offload ${Math.round(cfg.bufferBytes / 1024 / 1024)} MiB`;
}
