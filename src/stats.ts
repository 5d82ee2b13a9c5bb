/** The shapes of `stats()` and of the report `close()` resolves with. */

export type PublisherStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface PublisherStats {
  /** Messages `publish()` accepted into the buffer. */
  readonly accepted: number;
  readonly acceptedBytes: number;
  /** Messages refused because the buffer was full or disconnected (-1); by limit below. */
  readonly rejected: number;
  readonly rejectedBytes: number;
  readonly rejectedByLimit: { readonly bytes: number; readonly messages: number; readonly disconnected: number };
  /** Messages the server confirmed (a PONG came back after them). */
  readonly sent: number;
  readonly sentBytes: number;
  /** Messages handed to the socket, resends included; some may not be confirmed yet. */
  readonly written: number;
  /** Messages handed to the socket a second time after a reconnect (possible duplicates). */
  readonly resent: number;
  /** Accepted, not yet confirmed nor given up. */
  readonly pendingMessages: number;
  /** Wire bytes of the pending messages (frames, as Go counts its reconnect buffer). */
  readonly pendingBytes: number;
  /** Frames dropped by the worker because the server's max_payload turned out smaller. */
  readonly droppedOversize: number;
  /** Messages reported unsent by `close()` (0 before close). */
  readonly unsent: number;
  /** Oldest buffered messages discarded to make room (overflow 'drop-oldest'). */
  readonly droppedOldest: number;
  /** Buffered messages discarded unsent for being older than maxBufferedAge. */
  readonly expired: number;
  /** Age (ms) of the oldest pending message, at the coarse clock's resolution (~10 ms); 0 when none. */
  readonly oldestPendingAgeMs: number;
  /** Highest pendingBytes observed (sampled every ~10 ms by the worker, and at every refusal or drop). */
  readonly peakPendingBytes: number;
  readonly reconnects: number;
  readonly disconnects: number;
  /** Socket writes and PINGs the worker made: how well it batches (messages per write). */
  readonly writes: number;
  readonly pings: number;
  readonly serverErrors: number;
  /** Milliseconds of the current outage, 0 while connected. */
  readonly outageMs: number;
  /** Milliseconds spent disconnected in total (finished outages plus the current one). */
  readonly disconnectedMs: number;
  readonly status: PublisherStatus;
  readonly full: boolean;
  /** JetStream mode (0 in core mode): messages a stream acked, counted once each as they are released; equal to `sent`. */
  readonly stored: number;
  /** JetStream mode: acks that said duplicate (the stream had the Msg-Id already: an earlier copy was stored). */
  readonly duplicates: number;
  /** JetStream mode: messages the stream refused (error acks; 503 no responders after the retry bound), released. */
  readonly serverRejected: number;
  /** serverRejected by JetStream err_code (10077 maximum messages exceeded, 10060 wrong expected stream, ...); 503 for no responders. As reported by `rejected` events. */
  readonly serverRejectedByCode: Readonly<Record<number, number>>;
  /** JetStream mode: messages sent again because no ack came within ackTimeout. */
  readonly ackTimeouts: number;
  /** JetStream mode: sends again of one message (after ackTimeout or a 503), not counting resends after a reconnect (`resent`). */
  readonly retries: number;
}

export interface CloseReport {
  readonly accepted: number;
  /** Confirmed by the server. */
  readonly sent: number;
  /** Accepted but never confirmed: lost unless they were in the socket when it closed. */
  readonly unsent: number;
  readonly resent: number;
  readonly rejected: number;
  readonly droppedOversize: number;
  readonly droppedOldest: number;
  readonly expired: number;
  /** Why the worker stopped: a normal close, or the error that ended it. */
  readonly error?: Error;
}
