/**
 * `pub.writable(subject)`: a Writable stream over a publisher. Each chunk is one message; a full
 * buffer holds the stream's callback until `ready()`, so `pipeline()` gets real back-pressure.
 */
import { Writable } from 'node:stream';
import type { Payload, Publisher } from './publisher.js';

export interface WritableOptions {
  /** Chunks are values: strings and bytes as they are, anything else as JSON. Default false (bytes). */
  objectMode?: boolean;
  /** The stream's own buffer in chunks (object mode) or bytes; the ring is the real buffer. */
  highWaterMark?: number;
  /** `final` waits for `flush()` so the stream finishes only once the server has everything (or the policy dropped it). Default true. */
  flushOnFinish?: boolean;
}

export function publisherWritable(pub: Publisher, subject: string, options: WritableOptions = {}): Writable {
  const objectMode = options.objectMode ?? false;
  const toPayload = (chunk: unknown): Payload =>
    typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);

  /** Publishes chunks[from..] in order; waits for ready() whenever the buffer is full. */
  const publishAll = (chunks: readonly unknown[], done: (err?: Error | null) => void): void => {
    let i = 0;
    let refusedAfterReady = false;
    const loop = (): void => {
      while (i < chunks.length) {
        try {
          if (pub.tryPublish(subject, toPayload(chunks[i]))) {
            i++;
            refusedAfterReady = false;
            continue;
          }
        } catch (err) {
          done(err as Error);
          return;
        }
        // A chunk too big for the room at the low-water mark is refused again right after ready():
        // then wait a millisecond between tries rather than spin on resolved promises.
        const wait = refusedAfterReady ? new Promise<void>((r) => setTimeout(r, 1)).then(() => pub.ready()) : pub.ready();
        refusedAfterReady = true;
        wait.then(loop, done);
        return;
      }
      done();
    };
    loop();
  };

  return new Writable({
    objectMode,
    decodeStrings: false,
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    write(chunk: unknown, _encoding, callback) {
      publishAll([chunk], callback);
    },
    writev(chunks, callback) {
      publishAll(
        chunks.map((c) => c.chunk),
        callback,
      );
    },
    final(callback) {
      if (options.flushOnFinish === false) return callback();
      // Drops by the publisher's own policy (drop-oldest, maxBufferedAge) are counted in stats(),
      // not stream errors; anything else (closed, worker died) fails the stream.
      pub.flush().then(
        () => callback(),
        (err: { code?: string }) => callback(err.code === 'MESSAGES_DROPPED' ? null : (err as Error)),
      );
    },
  });
}
