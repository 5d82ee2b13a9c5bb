/**
 * Every error nats-offload throws or reports: one base class with a stable string `code`.
 * Match on `code` (stable across versions and threads), not on the message text.
 */
import type { SerializedError } from './shared/protocol.js';

export class NatsOffloadError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'NatsOffloadError';
  }
}

/** Subject or reply subject is empty, has whitespace, empty tokens, or wildcards. */
export class InvalidSubjectError extends NatsOffloadError {
  constructor(message: string) {
    super('INVALID_SUBJECT', message);
    this.name = 'InvalidSubjectError';
  }
}

/** Payload is neither a Uint8Array nor a string, or headers are malformed. */
export class InvalidPayloadError extends NatsOffloadError {
  constructor(message: string) {
    super('INVALID_PAYLOAD', message);
    this.name = 'InvalidPayloadError';
  }
}

/** Payload (plus headers) is larger than the server's max_payload (1 MiB until INFO says otherwise). */
export class MaxPayloadExceededError extends NatsOffloadError {
  constructor(readonly size: number, readonly maxPayload: number) {
    super('MAX_PAYLOAD_EXCEEDED', `message payload is ${size} bytes, the server's max_payload is ${maxPayload}`);
    this.name = 'MaxPayloadExceededError';
  }
}

/** The frame is larger than the whole buffer, so it could never be accepted. */
export class MessageTooLargeError extends NatsOffloadError {
  constructor(readonly frameBytes: number, readonly bufferBytes: number) {
    super(
      'MESSAGE_TOO_LARGE',
      `message needs ${frameBytes} bytes on the wire, more than the whole buffer (${bufferBytes} bytes); raise reconnectBufSize`,
    );
    this.name = 'MessageTooLargeError';
  }
}

export type BufferLimit = 'bytes' | 'messages' | 'disconnected';

/** The reconnect buffer is at a limit; `limit` says which. Retry later, or await `ready()`. */
export class BufferFullError extends NatsOffloadError {
  constructor(readonly limit: BufferLimit) {
    super(
      'BUFFER_FULL',
      limit === 'bytes'
        ? 'publish buffer is full: the reconnectBufSize byte limit is reached'
        : limit === 'messages'
          ? 'publish buffer is full: the reconnectBufMessages limit is reached'
          : 'not connected and reconnectBufSize is -1: nothing is buffered while disconnected',
    );
    this.name = 'BufferFullError';
  }
}

export class PublisherClosedError extends NatsOffloadError {
  constructor(message = 'publisher is closed') {
    super('CLOSED', message);
    this.name = 'PublisherClosedError';
  }
}

export class WorkerDiedError extends NatsOffloadError {
  constructor(message = 'the publisher worker thread died', options?: { cause?: unknown }) {
    super('WORKER_DIED', message, options);
    this.name = 'WorkerDiedError';
  }
}

/** An option is out of range or of the wrong type. */
export class InvalidOptionError extends NatsOffloadError {
  constructor(message: string) {
    super('INVALID_OPTION', message);
    this.name = 'InvalidOptionError';
  }
}

/** An option cannot cross to the worker thread (a function, a class instance). */
export class OptionNotCloneableError extends NatsOffloadError {
  constructor(message: string) {
    super('OPTION_NOT_CLONEABLE', message);
    this.name = 'OptionNotCloneableError';
  }
}

/** The server answered `-ERR` (permissions, authorization, max payload ...). */
export class ServerError extends NatsOffloadError {
  constructor(message: string) {
    super('SERVER_ERROR', message);
    this.name = 'ServerError';
  }
}

/** Connecting failed (refused, TLS, authentication) or the connection closed for good. */
export class ConnectionError extends NatsOffloadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONNECTION_ERROR', message, options);
    this.name = 'ConnectionError';
  }
}

export class TimeoutError extends NatsOffloadError {
  constructor(message: string) {
    super('TIMEOUT', message);
    this.name = 'TimeoutError';
  }
}

/** Why messages published before a `flush()` were released without reaching a server. */
export interface DroppedCounts {
  /** Dropped to make room (overflow 'drop-oldest'). */
  readonly oldest: number;
  /** Older than maxBufferedAge. */
  readonly expired: number;
  /** Larger than the server's max_payload. */
  readonly oversize: number;
}

/**
 * `flush()` rejects with this when some of the messages published before it were dropped by a
 * policy rather than confirmed; every other one was confirmed by the server.
 */
export class MessagesDroppedError extends NatsOffloadError {
  readonly dropped: DroppedCounts;
  constructor(dropped: DroppedCounts) {
    const total = dropped.oldest + dropped.expired + dropped.oversize;
    super(
      'MESSAGES_DROPPED',
      `${total} message(s) published before the flush were dropped (drop-oldest ${dropped.oldest}, expired ${dropped.expired}, over max_payload ${dropped.oversize}); the rest were confirmed by the server`,
    );
    this.name = 'MessagesDroppedError';
    this.dropped = dropped;
  }
}

/** Rebuild an error that crossed the thread boundary as `{ code, name, message }`. */
export function reviveError(e: SerializedError): NatsOffloadError {
  switch (e.code) {
    case 'SERVER_ERROR':
      return new ServerError(e.message);
    case 'CONNECTION_ERROR':
      return new ConnectionError(e.message);
    case 'WORKER_DIED':
      return new WorkerDiedError(e.message);
    case 'CLOSED':
      return new PublisherClosedError(e.message);
    case 'TIMEOUT':
      return new TimeoutError(e.message);
    default: {
      const err = new NatsOffloadError(e.code, e.message);
      err.name = e.name;
      return err;
    }
  }
}
