/**
 * The counting subscriber, run as a child process (child_process.fork) so that its parsing costs
 * the publisher's process nothing. Reads a uint32 LE sequence number from the first 4 bytes of
 * each payload and reports arrivals, duplicates and gaps.
 *
 *   node dist/bench/subscriber.js <raw|nats> <url> <subject> [progressMs]
 *
 * `raw` parses the wire itself (fast enough to follow the throughput suite; no reconnect);
 * `nats` uses the nats client and reconnects forever every 50 ms (the outage suite).
 */
import { connect } from 'nats';
import { RawNatsConnection } from './lib/raw-nats.js';
import { SeqTracker } from './lib/seq.js';
import type { FromSubscriber, SubscriberMode, ToSubscriber } from './lib/subscriber-protocol.js';

const [modeArg, url, subject, progressArg] = process.argv.slice(2);
if ((modeArg !== 'raw' && modeArg !== 'nats') || url === undefined || subject === undefined) {
  console.error('usage: subscriber.js <raw|nats> <url> <subject> [progressMs]');
  process.exit(2);
}
const mode: SubscriberMode = modeArg;
const progressMs = Number(progressArg ?? 0);

const seqs = new SeqTracker();
/** Date.now() of the first arrival; a clock read per message would cost the raw mode too much. */
let firstAt = 0;

function send(m: FromSubscriber): void {
  process.send?.(m);
}

function arrived(buf: Uint8Array, start: number, end: number): void {
  if (firstAt === 0) firstAt = Date.now();
  if (end - start >= 4) {
    seqs.record((buf[start]! | (buf[start + 1]! << 8) | (buf[start + 2]! << 16) | (buf[start + 3]! << 24)) >>> 0);
  } else seqs.received++;
}

async function main(): Promise<void> {
  let close: () => Promise<void>;
  if (mode === 'raw') {
    const conn = await RawNatsConnection.open(url!, {
      onMsg: arrived,
      onError: (line) => console.error(`subscriber: ${line}`),
    }, 'bench-subscriber');
    conn.write(`SUB ${subject} 1\r\n`);
    await conn.ping();
    close = () => conn.close();
  } else {
    const nc = await connect({
      servers: url!,
      name: 'bench-subscriber',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
      reconnectJitter: 0,
      waitOnFirstConnect: true,
    });
    nc.subscribe(subject!, { callback: (_err, m) => arrived(m.data, 0, m.data.length) });
    await nc.flush();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') send({ type: 'disconnected', at: Date.now() });
        if (s.type === 'reconnect') {
          // The SUB went out again before this event; a PONG after it means the server has it.
          await nc.flush().catch(() => {});
          send({ type: 'resubscribed', at: Date.now() });
        }
      }
    })();
    close = () => nc.close();
  }
  if (progressMs > 0) {
    setInterval(() => {
      send({ type: 'progress', at: Date.now(), received: seqs.received, unique: seqs.unique });
    }, progressMs).unref();
  }
  process.on('message', (m: ToSubscriber) => {
    if (m.type === 'exit') {
      void close().finally(() => process.exit(0));
      return;
    }
    const started = Date.now();
    const poll = (): void => {
      const done = seqs.complete(m.expected);
      if (done || Date.now() - started >= m.waitMs) {
        const at = Date.now();
        send({ type: 'report', report: seqs.report(m.expected, m.split), firstAt, lastAt: at, waitedMs: at - started });
      } else setTimeout(poll, 10);
    };
    poll();
  });
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error('subscriber failed:', err);
  process.exit(1);
});
