/**
 * `workerNice` (Linux): the worker thread, and only it, runs at that nice value; read back from
 * /proc/self/task/<tid>/stat (field 19), the kernel's own account of each thread.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, createPublisher } from '../../src/index.js';
import { cleanupsAfterEach, startCountingSubscriber, startPublisher, startServer } from '../helpers/lifecycle.js';
import { seqPayload } from '../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

/** Nice value of every thread of this process, by thread id. */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start at field 3; nice is field 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      nices.set(Number(tid), Number(fields[16]));
    } catch {} // a thread that ended meanwhile
  }
  return nices;
}

describe.runIf(process.platform === 'linux')('workerNice', () => {
  it('sets the worker thread alone to that nice value; publishing works as before', async () => {
    const before = threadNices();
    const server = await startServer(cleanups);
    const sub = await startCountingSubscriber(cleanups, server.url, 'nice.x', 1000);
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, workerNice: 10 });
    const added = [...threadNices()].filter(([tid]) => !before.has(tid));
    expect(added.filter(([, nice]) => nice === 10).length).toBe(1);
    expect([...threadNices()].filter(([, nice]) => nice !== 0 && nice !== 10)).toEqual([]);
    for (let i = 0; i < 1000; i++) pub.publish('nice.x', seqPayload(i));
    await pub.flush();
    await sub.waitFor(1000);
  });

  it('by default leaves every thread as it was', async () => {
    const server = await startServer(cleanups);
    await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
    expect([...threadNices()].filter(([, nice]) => nice !== 0)).toEqual([]);
  });
});

describe('workerNice validation', () => {
  it.each([-1, 20, 1.5, '5'])('%j → InvalidOptionError', async (workerNice) => {
    await expect(createPublisher({ servers: 'nats://127.0.0.1:1', workerNice: workerNice as number })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
  });
});
