/**
 * Does a busy second CPU slow the publishing thread? The ring writer alone (no worker thread, no
 * socket: the same loop as compare-jetstream-cost.ts), timed in batches of 1,000 core publishes
 * while a spinning process on the other CPU is stopped or running (SIGSTOP / SIGCONT), the two
 * alternating round by round. This process is pinned to CPU 0 and the spinner to CPU 1 (taskset),
 * so the OS does not simply put both on one CPU. Asked because a publish with a live worker costs
 * about twice the naive floor's, which runs while the second CPU idles: on this project's 2-vCPU
 * machine the answer is no (ratio 1.00x at 16 B, 128 B and 1 KiB), so that difference is not the
 * second CPU being busy but what the worker does to the memory the writer uses.
 *   npm run build && node dist/scripts/compare-second-cpu.js
 */
import { execFileSync, spawn } from 'node:child_process';
import { SubjectCache } from '../src/subjects.js';
import { standaloneWriter } from './standalone-writer.js';

const BUFFER = 8 * 1024 * 1024;
const ROUNDS = Number(process.env['ROUNDS'] ?? 200);
const BATCH = 1000;

execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
const spinner = spawn('taskset', ['-c', '1', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });

const { writer, release } = standaloneWriter(BUFFER);
const subjects = new SubjectCache();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function batch(payload: Uint8Array): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) if (!writer.tryWrite(subjects.prefix('telemetry.cpu'), payload, payload.length)) throw new Error('full');
  const ns = Number(process.hrtime.bigint() - t0) / BATCH;
  release();
  return ns;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
await sleep(300);
const pid = spinner.pid!; // taskset execs node in its own process
// Ctrl-C must not leave the spinner behind, running or stopped.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    spinner.kill('SIGKILL');
    process.exit(130);
  });
}
const busy = (on: boolean): void => void process.kill(pid, on ? 'SIGCONT' : 'SIGSTOP');
try {
  console.log(`ns per publish (ring writer alone, batches of ${BATCH}), median of ${ROUNDS} rounds; other CPU idle vs busy`);
  for (const size of [16, 128, 1024]) {
    const payload = new Uint8Array(size).fill(120);
    for (let i = 0; i < 100; i++) batch(payload);
    const idle: number[] = [];
    const loaded: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      busy(false);
      await sleep(2);
      idle.push(batch(payload));
      busy(true);
      await sleep(2);
      loaded.push(batch(payload));
    }
    const ratios = loaded.map((l, i) => l / idle[i]!);
    console.log(
      `${String(size).padStart(5)} B: idle ${median(idle).toFixed(1)} ns, busy ${median(loaded).toFixed(1)} ns, ratio ${median(ratios).toFixed(2)}x ` +
        `(middle half ${[...ratios].sort((a, b) => a - b)[Math.floor(ROUNDS / 4)]!.toFixed(2)}–${[...ratios].sort((a, b) => a - b)[Math.floor((3 * ROUNDS) / 4)]!.toFixed(2)})`,
    );
  }
} finally {
  busy(true);
  spinner.kill('SIGKILL');
}
