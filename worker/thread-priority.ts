/**
 * The worker thread's scheduling priority. On Linux a thread has its own nice value, set with
 * setpriority() on its thread id (`/proc/thread-self` names it); raising it lets the publishing
 * thread win the CPU whenever both are runnable, so the caller's event loop is delayed less.
 * Other platforms set priorities per process only: there it does nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets this thread's nice value; false where that is not possible (then nothing changed). */
export function setThreadNice(nice: number): boolean {
  if (nice === 0 || process.platform !== 'linux') return false;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
