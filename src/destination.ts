/**
 * `pub.destination(subject)`: a synchronous log destination (pino's `DestinationStream`). pino
 * writes every line synchronously and ignores back-pressure, so a Writable would queue without
 * bound during an outage; this publishes each line or counts it as refused, and keeps nothing.
 */
import { InvalidOptionError, InvalidPayloadError, NatsOffloadError } from './errors.js';
import type { Publisher } from './publisher.js';
import type { Subject } from './subjects.js';

export interface DestinationOptions {
  /** How long `flushSync()` blocks waiting for the server to confirm what was accepted, in ms. Default 2000. */
  flushTimeout?: number;
}

/** Errors that mean "this line can never be published" rather than a bug in the caller. */
const UNPUBLISHABLE = new Set(['MAX_PAYLOAD_EXCEEDED', 'MESSAGE_TOO_LARGE', 'CLOSED', 'WORKER_DIED']);

const DEFAULT_FLUSH_TIMEOUT = 2000;

export class Destination {
  /** How `pino(destination)` (one argument) tells a destination from an options object. */
  readonly writable = true;
  private readonly subject: Subject;
  private readonly flushTimeout: number;
  private acceptedLines = 0;
  private refusedLines = 0;
  private failedLines = 0;
  private lastFailure: NatsOffloadError | undefined;

  /**
   * @internal use `pub.destination(subject, options)`.
   * @throws {InvalidSubjectError} @throws {InvalidOptionError}
   */
  constructor(
    private readonly pub: Publisher,
    subject: string,
    options: DestinationOptions = {},
  ) {
    this.subject = pub.subject(subject);
    const timeout = options.flushTimeout ?? DEFAULT_FLUSH_TIMEOUT;
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new InvalidOptionError(
        `destination flushTimeout must be a non-negative integer (ms), got \`${String(timeout)}\` (${typeof timeout})`,
      );
    }
    this.flushTimeout = timeout;
  }

  /** Lines handed to the publisher. */
  get accepted(): number {
    return this.acceptedLines;
  }

  /** Lines refused because the buffer was at its limit (or disconnected with reconnectBufSize -1): counted, not kept. */
  get refused(): number {
    return this.refusedLines;
  }

  /** Lines that can never be published: over the server's max_payload or the whole buffer, or written after close. */
  get failed(): number {
    return this.failedLines;
  }

  /** Why the last failed line failed. */
  get lastError(): NatsOffloadError | undefined {
    return this.lastFailure;
  }

  /**
   * Publishes each newline-terminated line of `chunk` as one message (without its newline).
   * Never throws for a full buffer, a closed publisher or an oversized line: a log call must not.
   * @returns true when every line was accepted
   * @throws {InvalidPayloadError} when `chunk` is not a string
   */
  write(chunk: string): boolean {
    if (typeof chunk !== 'string') {
      throw new InvalidPayloadError(`destination.write() takes a string, got ${chunk === null ? 'null' : typeof chunk}`);
    }
    let all = true;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', start);
      const end = newline === -1 ? chunk.length : newline;
      // pino writes one line per call: the common case publishes without slicing when there is no newline.
      if (end > start && !this.publishLine(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end))) all = false;
      if (newline === -1) return all;
      start = newline + 1;
    }
  }

  private publishLine(line: string): boolean {
    try {
      if (this.pub.tryPublish(this.subject, line)) {
        this.acceptedLines++;
        return true;
      }
      this.refusedLines++;
    } catch (err) {
      if (!(err instanceof NatsOffloadError) || !UNPUBLISHABLE.has(err.code)) throw err;
      this.failedLines++;
      this.lastFailure = err;
    }
    return false;
  }

  /**
   * Blocks until everything the publisher accepted is confirmed by the server, or `flushTimeout`
   * passes (pino calls this after `fatal()`). At process exit the publisher's own exit hook drains.
   * @returns true if nothing is left pending
   */
  flushSync(): boolean {
    return this.pub.flushSync(this.flushTimeout);
  }

  /** pino's `logger.flush(cb)`: calls back once the server confirmed everything accepted so far. */
  flush(callback?: (err?: Error) => void): void {
    this.pub.flush().then(
      () => callback?.(),
      (err: Error) => callback?.(err),
    );
  }
}
