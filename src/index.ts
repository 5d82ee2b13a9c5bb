export { createPublisher, Publisher, type Payload, type PublishOptions } from './publisher.js';
export { DEFAULTS, type PublisherOptions, type TlsOptions } from './options.js';
export type { PublisherEvent } from './events.js';
export type { PublisherStats, PublisherStatus, CloseReport } from './stats.js';
export type { HeadersInit } from './headers.js';
export type { WritableOptions } from './writable.js';
export type { Destination, DestinationOptions } from './destination.js';
export { Subject } from './subjects.js';
export {
  NatsOffloadError,
  BufferFullError,
  ConnectionError,
  InvalidOptionError,
  InvalidPayloadError,
  InvalidSubjectError,
  MaxPayloadExceededError,
  MessageTooLargeError,
  MessagesDroppedError,
  OptionNotCloneableError,
  PublisherClosedError,
  ServerError,
  TimeoutError,
  WorkerDiedError,
  type BufferLimit,
  type DroppedCounts,
} from './errors.js';
