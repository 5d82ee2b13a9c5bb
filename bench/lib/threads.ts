/**
 * Per-thread CPU time on Linux, from /proc/self/task/<tid>/schedstat (nanoseconds on CPU). The
 * kernel brings a running thread's figure up to date only at scheduler ticks and switches, so it
 * suits windows of a second or more, not single batches.
 * Node 20 has no process.threadCpuUsage(), and process.cpuUsage() sums every thread of the process
 * (our worker, V8's GC helpers, libuv's pool), so it cannot tell the main thread's share.
 */
import { readFileSync, readdirSync } from 'node:fs';

export function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n));
  } catch {
    return [];
  }
}

/** Nanoseconds thread `tid` of this process has run, or undefined off Linux / once it has exited. */
export function threadCpuNs(tid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0];
    const v = Number(first);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface CpuSplit {
  /** Wall-clock milliseconds of the window. */
  readonly wallMs: number;
  /** Whole process, every thread (process.cpuUsage). */
  readonly processMs: number;
  /** The main JavaScript thread (tid = pid), from schedstat; undefined off Linux. */
  readonly mainMs: number | undefined;
  /** Threads that appeared when the client was created (the publisher's worker); undefined off Linux. */
  readonly clientThreadsMs: number | undefined;
  /** Event-loop utilization of the main thread over the window (0..1). */
  readonly mainElu: number;
}

/** Starts a measurement window; `clientTids` are the threads to report apart from main. */
export function startCpuWindow(clientTids: readonly number[]): () => CpuSplit {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const main0 = threadCpuNs(process.pid);
  const client0 = clientTids.map((t) => threadCpuNs(t) ?? 0);
  return () => {
    const cpu = process.cpuUsage(cpu0);
    const main1 = threadCpuNs(process.pid);
    const client1 = clientTids.map((t) => threadCpuNs(t) ?? 0);
    let clientNs = 0;
    for (let i = 0; i < clientTids.length; i++) clientNs += client1[i]! - client0[i]!;
    return {
      wallMs: performance.now() - t0,
      processMs: (cpu.user + cpu.system) / 1000,
      mainMs: main0 === undefined || main1 === undefined ? undefined : (main1 - main0) / 1e6,
      clientThreadsMs: main0 === undefined ? undefined : clientNs / 1e6,
      mainElu: performance.eventLoopUtilization(elu0).utilization,
    };
  };
}

/** Runs `create` and returns its result with the thread ids that appeared meanwhile. */
export async function withNewThreads<T>(create: () => Promise<T>): Promise<{ value: T; tids: number[] }> {
  const before = new Set(threadIds());
  const value = await create();
  return { value, tids: threadIds().filter((t) => !before.has(t)) };
}

/** CPU nanoseconds (user + system) another process has used, from /proc/<pid>/stat (10 ms ticks). */
export function processCpuNs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime), counted from the state field (3) here; USER_HZ is 100.
    return (Number(fields[11]) + Number(fields[12])) * 1e7;
  } catch {
    return undefined;
  }
}

/** CPU time per message, by thread group, over one run. */
export interface CpuPerMessage {
  /** Main thread, ns per message (schedstat). */
  readonly mainNs: number | undefined;
  /** The publisher's worker thread(s), ns per message. */
  readonly workerNs: number | undefined;
  /** The nats-server process, ns per message (10 ms resolution). */
  readonly serverNs: number | undefined;
  /** Time the main thread spent runnable but waiting for a CPU, ms: the machine was oversubscribed. */
  readonly mainRunQueueMs: number | undefined;
}

function runQueueNs(tid: number): number | undefined {
  try {
    const v = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function startCpuPerMessage(workerTids: readonly number[], serverPid: number | undefined): (messages: number) => CpuPerMessage {
  const main0 = threadCpuNs(process.pid);
  const rq0 = runQueueNs(process.pid);
  const w0 = workerTids.map((t) => threadCpuNs(t) ?? 0);
  const s0 = processCpuNs(serverPid);
  return (messages) => {
    const main1 = threadCpuNs(process.pid);
    const rq1 = runQueueNs(process.pid);
    const w1 = workerTids.map((t) => threadCpuNs(t) ?? 0);
    const s1 = processCpuNs(serverPid);
    let w = 0;
    for (let i = 0; i < workerTids.length; i++) w += w1[i]! - w0[i]!;
    return {
      mainNs: main0 === undefined || main1 === undefined ? undefined : (main1 - main0) / messages,
      workerNs: workerTids.length === 0 || main0 === undefined ? undefined : w / messages,
      serverNs: s0 === undefined || s1 === undefined ? undefined : (s1 - s0) / messages,
      mainRunQueueMs: rq0 === undefined || rq1 === undefined ? undefined : (rq1 - rq0) / 1e6,
    };
  };
}

