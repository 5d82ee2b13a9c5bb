/**
 * JetStream test helpers: a `-js` server with a temp store (deleted after the test), numbered
 * payloads, and the stream read back as the independent truth for "stored exactly once".
 */
import { expect } from 'vitest';
import type { Publisher } from '../../src/index.js';
import { createStream, readStream, streamState, type StreamSpec } from '../../scripts/jetstream.js';
import { startNatsServer, type NatsServerProcess } from './nats-server.js';
import type { Cleanups } from './lifecycle.js';

export { createStream, readStream, streamState, type StreamSpec };

/** A nats-server with JetStream and a temp store_dir, disposed (store deleted) by `cleanups`. */
export async function startJetStreamServer(cleanups: Cleanups, opts: { port?: number } = {}): Promise<NatsServerProcess> {
  const server = await startNatsServer({ jetstream: true, ...opts });
  cleanups.add(() => server.dispose());
  return server;
}

/** Payload of message `i`: `i` as 8 bytes (LE), then bytes derived from it, `size` >= 8 in all. */
export function numberedPayload(i: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  const dv = new DataView(p.buffer);
  dv.setFloat64(0, i, true);
  for (let k = 8; k < size; k++) p[k] = (i * 31 + k) & 0xff;
  return p;
}

export interface StreamCheck {
  /** The stream's own message count. */
  readonly count: number;
  /** Distinct Msg-Ids read back. */
  readonly distinctMsgIds: number;
  /** Msg-Ids seen more than once. */
  readonly repeatedMsgIds: number;
  /** Messages whose payload is not the one their Msg-Id's sequence was published with. */
  readonly corrupt: number;
  /** Messages with a Msg-Id of another publisher, or none. */
  readonly foreign: number;
  /** The publisher sequences found, sorted. */
  readonly seqs: number[];
}

/**
 * Reads the stream back: every message's Msg-Id must be `<publisherId>-<seq>` and its payload
 * `payloadOf(seq)` (undefined: not checked).
 */
export async function checkStream(
  server: string | string[],
  stream: string,
  publisherId: string,
  payloadOf: (seq: number) => Uint8Array | undefined,
  timeoutMs = 60_000,
): Promise<StreamCheck> {
  const seen = new Map<number, number>();
  let corrupt = 0;
  let foreign = 0;
  const prefix = `${publisherId}-`;
  const count = await readStream(
    server,
    stream,
    (m) => {
      if (m.msgId === undefined || !m.msgId.startsWith(prefix)) {
        foreign++;
        return;
      }
      const seq = Number(m.msgId.slice(prefix.length));
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
      const want = payloadOf(seq);
      if (want !== undefined && Buffer.compare(Buffer.from(want), Buffer.from(m.data)) !== 0) corrupt++;
    },
    timeoutMs,
  );
  let repeated = 0;
  for (const n of seen.values()) if (n > 1) repeated++;
  return { count, distinctMsgIds: seen.size, repeatedMsgIds: repeated, corrupt, foreign, seqs: [...seen.keys()].sort((a, b) => a - b) };
}

/** The accounting identity of JetStream mode, with `stored` checked against the stream's count. */
export function expectAccounting(pub: Publisher, streamCount: number): void {
  const s = pub.stats();
  expect(s.stored).toBe(streamCount);
  expect(s.accepted).toBe(s.stored + s.serverRejected + s.pendingMessages + s.unsent + s.droppedOversize + s.droppedOldest + s.expired);
}
