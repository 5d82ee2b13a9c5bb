/**
 * Main-thread publish cost, JetStream-mode frames against core frames, measured on the ring writer
 * alone (no worker thread: on a busy 2-core machine a worker parsing acks competes with the timed
 * thread and swamps the difference). After each batch the ring is released as the worker would.
 * Paired rounds, sides alternating; prints ns per write (median, and range) and the ratio.
 *   npm run build && node dist/scripts/compare-jetstream-cost.js
 */
import { JetStreamFrame, newPublisherId } from '../src/jetstream-frame.js';
import { SubjectCache } from '../src/subjects.js';
import { standaloneWriter } from './standalone-writer.js';

const BUFFER = 8 * 1024 * 1024;
const ROUNDS = Number(process.env['ROUNDS'] ?? 300);
/** Calls per timed batch: short enough that few batches are preempted. */
const BATCH = 1000;

const coreRing = standaloneWriter(BUFFER);
const jsRing = standaloneWriter(BUFFER);
const core = coreRing.writer;
const js = jsRing.writer;
const frame = new JetStreamFrame({ inbox: `_INBOX.${newPublisherId()}`, publisherId: newPublisherId(), msgId: true });
const subjects = new SubjectCache();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`ns per write, median of ${ROUNDS} paired rounds (range); ring writer only, no worker`);
for (const size of [16, 128, 1024]) {
  const payload = new Uint8Array(size).fill(120);
  const batch = BATCH;
  const timeCore = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) if (!core.tryWrite(subjects.prefix('telemetry.cpu'), payload, size)) throw new Error('core: full');
    const ns = Number(process.hrtime.bigint() - t0) / batch;
    coreRing.release();
    return ns;
  };
  const timeJs = (): number => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++)
      if (!js.tryWriteJetStream(subjects.prefix('telemetry.cpu'), payload, size, frame)) throw new Error('js: full');
    const ns = Number(process.hrtime.bigint() - t0) / batch;
    jsRing.release();
    return ns;
  };
  for (let i = 0; i < 100; i++) {
    timeCore();
    timeJs();
  }
  const c: number[] = [];
  const j: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      c.push(timeCore());
      j.push(timeJs());
    } else {
      j.push(timeJs());
      c.push(timeCore());
    }
  }
  const ratios = j.map((v, i) => v / c[i]!);
  console.log(
    `${String(size).padStart(5)} B: core ${median(c).toFixed(1)} ns (${Math.min(...c).toFixed(1)}–${Math.max(...c).toFixed(1)}), ` +
      `JetStream ${median(j).toFixed(1)} ns (${Math.min(...j).toFixed(1)}–${Math.max(...j).toFixed(1)}), ` +
      `ratio ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
}
