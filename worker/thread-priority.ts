/**
 * The worker thread's scheduling priority. On Linux a thread has its own nice value, set with
 * setpriority() on its thread id (`/proc/thread-self` names it); raising it lets the publishing
 * thread win the CPU whenever both are runnable, so the caller's event loop is delayed less.
 * Other platforms set priorities per process only: there it does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets this thread's nice value where the platform allows it; elsewhere nothing changes. */
export function setThreadNice(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc or not permitted: the worker keeps the caller's priority.
  }
}
