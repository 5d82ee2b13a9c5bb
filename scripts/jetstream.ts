/**
 * JetStream streams for tests and benchmarks: create one with the settings the tests vary, and read
 * one back through the server (an ordered consumer), so that what a test calls "stored" comes from
 * the stream itself and not from the publisher's own counters.
 */
import { connect, nanos, type NatsConnection, type StreamConfig } from 'nats';

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  /** Default 'file'. */
  readonly storage?: 'file' | 'memory';
  /** Refuse (discard 'new') or evict (discard 'old', the server's default) at the limits. */
  readonly discard?: 'new' | 'old';
  readonly maxMsgs?: number;
  readonly maxBytes?: number;
  /** Deduplication window for Nats-Msg-Id in ms (server default 2 min). */
  readonly duplicateWindowMs?: number;
  /** Replicas (R3 needs a 3-node JetStream cluster). */
  readonly replicas?: number;
}

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  /** The Nats-Msg-Id header, or undefined. */
  readonly msgId: string | undefined;
  readonly data: Uint8Array;
  /** Any header's values, by name (none: empty). */
  readonly header: (name: string) => string[];
}

async function withConnection<T>(server: string | string[] | NatsConnection, fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  if (typeof server !== 'string' && !Array.isArray(server)) return fn(server);
  const nc = await connect({ servers: server, name: 'jetstream-helper' });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/**
 * Creates (or updates) a stream; retries while a fresh cluster has no JetStream meta leader yet.
 * @throws the server's error after ~15 s of retries
 */
export async function createStream(server: string | string[] | NatsConnection, spec: StreamSpec): Promise<void> {
  const config: Partial<StreamConfig> = {
    name: spec.name,
    subjects: [...spec.subjects],
    storage: (spec.storage ?? 'file') as StreamConfig['storage'],
    discard: (spec.discard ?? 'old') as StreamConfig['discard'],
    num_replicas: spec.replicas ?? 1,
    ...(spec.maxMsgs === undefined ? {} : { max_msgs: spec.maxMsgs }),
    ...(spec.maxBytes === undefined ? {} : { max_bytes: spec.maxBytes }),
    ...(spec.duplicateWindowMs === undefined ? {} : { duplicate_window: nanos(spec.duplicateWindowMs) }),
  };
  await withConnection(server, async (nc) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add(config);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  });
}

export async function deleteStream(server: string | string[] | NatsConnection, name: string): Promise<void> {
  await withConnection(server, async (nc) => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(name);
  });
}

/**
 * Runs a JetStream API call again while it fails, until `ms` pass: right after a node of a cluster
 * died, requests time out or find no responders until the stream has a leader again.
 */
async function retrying<T>(fn: () => Promise<T>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The stream's own message count and sequence range. */
export async function streamState(
  server: string | string[] | NatsConnection,
  name: string,
): Promise<{ messages: number; firstSeq: number; lastSeq: number; leader: string | undefined }> {
  return withConnection(server, async (nc) => {
    const info = await retrying(async () => (await nc.jetstreamManager()).streams.info(name));
    return {
      messages: info.state.messages,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      leader: info.cluster?.leader,
    };
  });
}

/**
 * Reads every message the stream holds, in stream order, through an ordered consumer. If nothing
 * arrives for `stallMs` (seen on a busy machine after a clustered stream changed leader), it
 * closes that consumer and starts a new one from the next sequence, until `timeoutMs`.
 * @returns the stream's message count when the read started (all of them were passed to `onMessage`)
 * @throws when fewer arrive within `timeoutMs`
 */
export async function readStream(
  server: string | string[] | NatsConnection,
  name: string,
  onMessage: (m: StoredMessage) => void,
  timeoutMs = 120_000,
  stallMs = 5_000,
): Promise<number> {
  return withConnection(server, async (nc) => {
    // READSTREAM_DEBUG=1: where a read spends its time (consumer starts, stalls).
    const dbg = (m: string): void => {
      if (process.env['READSTREAM_DEBUG'] === '1') process.stderr.write(`[readStream ${new Date().toISOString()}] ${m}\n`);
    };
    dbg('info');
    const info = (await retrying(async () => (await nc.jetstreamManager()).streams.info(name))).state;
    const total = info.messages;
    dbg(`total ${total}`);
    if (total === 0) return 0;
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    let nextSeq = info.first_seq;
    while (seen < total && Date.now() < deadline) {
      const consumer = await retrying(
        () => nc.jetstream().consumers.get(name, { opt_start_seq: nextSeq }),
        Math.max(0, deadline - Date.now()),
      );
      dbg(`consumer from ${nextSeq}`);
      // consume() can wait forever for a consumer it keeps resetting (a busy cluster after a leader change).
      const started = consumer.consume({ max_messages: 2000 });
      const messages = await Promise.race([
        started,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.min(stallMs * 2, Math.max(0, deadline - Date.now())))),
      ]);
      if (messages === undefined) {
        dbg('consume() did not start');
        void started.then((m) => m.close()).catch(() => {});
        continue;
      }
      dbg('consuming');
      const it = messages[Symbol.asyncIterator]();
      try {
        while (seen < total) {
          let timer: NodeJS.Timeout | undefined;
          const wait = Math.min(stallMs, Math.max(0, deadline - Date.now()));
          const stalled = new Promise<'stalled'>((r) => (timer = setTimeout(() => r('stalled'), wait)));
          const next = await Promise.race([it.next(), stalled]);
          clearTimeout(timer);
          if (next === 'stalled' || next.done === true) {
            dbg(`${next === 'stalled' ? 'stalled' : 'done'} at ${seen}`);
            break;
          }
          const m = next.value;
          const headers = m.headers;
          onMessage({
            seq: m.seq,
            subject: m.subject,
            msgId: headers?.get('Nats-Msg-Id') || undefined,
            data: m.data,
            header: (name) => headers?.values(name) ?? [],
          });
          nextSeq = m.seq + 1;
          seen++;
        }
      } finally {
        // close() can wait on a consumer that is being reset; the next one starts regardless.
        await Promise.race([messages.close(), new Promise((r) => setTimeout(r, 2000))]);
      }
    }
    if (seen < total) throw new Error(`readStream ${name}: read ${seen} of ${total} messages within ${timeoutMs} ms`);
    return total;
  });
}
