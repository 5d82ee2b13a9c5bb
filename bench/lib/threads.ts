/**
 * CPU time per thread on Linux, from /proc. Node 20 has no process.threadCpuUsage(), and
 * process.cpuUsage() sums every thread of the process (our worker, V8's GC and compiler helpers,
 * libuv's pool), so it cannot tell the main thread's share. Sources:
 *   /proc/self/task/<tid>/schedstat  field 1: ns on CPU; field 2: ns runnable but waiting for a core
 *   /proc/<pid>/task/<tid>/schedstat the same for each thread of another process (nats-server)
 * The kernel brings a running thread's figure up to date at scheduler ticks and switches, so a
 * window should span many milliseconds (or end after the thread has slept, as after a flush).
 * Off Linux every figure is NaN.
 */
import { readFileSync, readdirSync } from 'node:fs';

export function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task')
      .map(Number)
      .filter((n) => Number.isInteger(n));
  } catch {
    return [];
  }
}

/** Runs `create` and returns its result with the threads of this process that appeared meanwhile. */
export async function withNewThreads<T>(create: () => Promise<T>): Promise<{ value: T; tids: number[] }> {
  const before = new Set(threadIds());
  const value = await create();
  return { value, tids: threadIds().filter((t) => !before.has(t)) };
}

/** [ns on CPU, ns waiting for a core] of one thread of this process (`self`) or of another. */
function schedstat(tid: number | string, pid: number | 'self' = 'self'): [number, number] {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    return [Number(run), Number(wait)];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/**
 * Another process's CPU in ns: the sum of its threads' schedstat. A thread that exits between two
 * readings takes its time with it; nats-server's Go threads live as long as it does.
 */
function processCpuNs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((ns, tid) => ns + schedstat(tid, pid)[0], 0);
  } catch {
    return Number.NaN;
  }
}

/** Cumulative CPU nanoseconds at one instant; subtract two with `cpuSince`. */
export interface CpuTimes {
  readonly wallNs: number;
  /** The main JavaScript thread (tid = pid). */
  readonly mainNs: number;
  /** The threads given as the client's (nats-offload's worker); 0 when none were given. */
  readonly workerNs: number;
  /** Every thread of this process (process.cpuUsage). */
  readonly processNs: number;
  /** nats-server, when its pid is known. */
  readonly serverNs: number;
  /** Time the main thread was runnable but waiting for a core. */
  readonly mainWaitNs: number;
}

export function cpuTimes(workerTids: readonly number[] = [], serverPid?: number): CpuTimes {
  const [mainNs, mainWaitNs] = schedstat(process.pid);
  let workerNs = 0;
  for (const t of workerTids) workerNs += schedstat(t)[0];
  const u = process.cpuUsage();
  return {
    wallNs: performance.now() * 1e6,
    mainNs,
    workerNs,
    processNs: (u.user + u.system) * 1000,
    serverNs: processCpuNs(serverPid),
    mainWaitNs,
  };
}

export function cpuSince(start: CpuTimes, end: CpuTimes = cpuTimes()): CpuTimes {
  return {
    wallNs: end.wallNs - start.wallNs,
    mainNs: end.mainNs - start.mainNs,
    workerNs: end.workerNs - start.workerNs,
    processNs: end.processNs - start.processNs,
    serverNs: end.serverNs - start.serverNs,
    mainWaitNs: end.mainWaitNs - start.mainWaitNs,
  };
}

export const NO_CPU: CpuTimes = { wallNs: 0, mainNs: 0, workerNs: 0, processNs: 0, serverNs: 0, mainWaitNs: 0 };
