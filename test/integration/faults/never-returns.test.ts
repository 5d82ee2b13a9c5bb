/**
 * Fault 5: the server never comes back. `close()` with a timeout must resolve (no hang), report
 * exactly how many accepted messages were not confirmed, raise no unhandled rejection, and let the
 * process exit on its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConnectionError, PublisherClosedError } from '../../../src/index.js';
import {
  SeqStream,
  cleanupsAfterEach,
  closedWithin,
  delivery,
  expectBalanced,
  expectDelivered,
  recordOffload,
  startPublisher,
  startRig,
  startSeqPublisher,
  startServer,
} from '../../helpers/faults-harness.js';
import { freePort } from '../../helpers/nats-server.js';

const cleanups = cleanupsAfterEach();

const CLOSE_TIMEOUT_MS = 1_000;
/** Far above the close timeout plus the worker's own 2 s socket-close bound: only a hang exceeds it. */
const HANG_MS = 20_000;

describe('server never comes back', () => {
  it('close() resolves and reports exactly the unsent messages after the server died', async () => {
    const { server, sub, subject } = await startRig(cleanups, 'faults.gone', 100_000, { subscriber: { maxReconnectAttempts: 0 } });
    const { pub, events, stream } = await startSeqPublisher(cleanups, subject, { servers: server.url, waitForConnect: true, reconnectTimeWait: 100 });
    await stream.run({ count: 20_000 });
    await pub.flush({ timeout: 30_000 });
    await sub.waitFor(20_000);
    await server.stop('SIGKILL');
    await events.waitFor('disconnect');
    await stream.run({ count: 30_000 });
    const before = pub.stats();
    expectBalanced(before, pub);
    expect(before.pendingMessages).toBe(10_000);

    const t0 = Date.now();
    const report = await pub.close({ timeout: CLOSE_TIMEOUT_MS });
    const closeMs = Date.now() - t0;
    expect(closeMs).toBeLessThan(HANG_MS);
    expect(report.accepted).toBe(30_000);
    expect(report.sent).toBe(before.sent);
    expect(report.unsent).toBe(before.pendingMessages);
    // After close, stats() keeps its own unsent count: the identity must still hold on it.
    expectBalanced(pub.stats());
    expect(() => pub.publish(subject, 'late')).toThrow(PublisherClosedError);
    await events.ended();
    expect(events.events.at(-1)?.type).toBe('closed');
    const d = delivery(sub.counter, report);
    recordOffload(report, d, {
      id: 'never-returns',
      fault: 'server SIGKILLed and never restarted; close({ timeout: 1000 })',
      userSees: `close() resolved in ${closeMs} ms with { unsent: ${report.unsent} }; 'closed' event; publish() then throws CLOSED`,
      notes: 'the unsent messages are exactly those accepted after the last PONG',
    });
    expectDelivered(d, report);
  });

  it('close() resolves with everything unsent when no server ever answered', async () => {
    const port = await freePort();
    const pub = await startPublisher(cleanups, { servers: `nats://127.0.0.1:${port}`, reconnectTimeWait: 100 });
    const stream = new SeqStream(pub, 'faults.never');
    await stream.run({ count: 5_000 });
    expect(pub.status).toBe('connecting');
    const report = await pub.close({ timeout: 200 });
    expect(report).toMatchObject({ accepted: 5_000, sent: 0, unsent: 5_000, rejected: 0 });
    expectBalanced(report);
    expect(await pub.closed()).toBeUndefined();
  });

  it('gives up after maxReconnectAttempts once connected: closes itself and reports the pending messages unsent', async () => {
    const server = await startServer(cleanups);
    const { pub, events, stream } = await startSeqPublisher(cleanups, 'faults.giveup', {
      servers: server.url,
      waitForConnect: true,
      maxReconnectAttempts: 2,
      reconnectTimeWait: 100,
      reconnectJitter: 0,
    });
    await stream.run({ count: 1_000 });
    await pub.flush({ timeout: 30_000 });
    await server.stop('SIGKILL');
    await events.waitFor('disconnect');
    await stream.run({ count: 1_500 });
    const closedWith = await pub.closed();
    expect(closedWith).toBeInstanceOf(ConnectionError);
    expect(events.errors()[0]).toBeInstanceOf(ConnectionError);
    expect(pub.status).toBe('closed');
    expect(() => pub.publish('faults.giveup', 'late')).toThrow(PublisherClosedError);
    const report = await pub.close();
    expect(report).toMatchObject({ accepted: 1_500, sent: 1_000, unsent: 500 });
    expect(report.error).toBe(closedWith);
    expectBalanced(report);
  });

  it('gives up after maxReconnectAttempts when no server ever answered: closed() resolves to a ConnectionError', async () => {
    const port = await freePort();
    const pub = await startPublisher(cleanups, { servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: 2, reconnectTimeWait: 100, reconnectJitter: 0 });
    pub.publish('faults.never', 'buffered');
    const outcome = await closedWithin(pub, 10_000);
    // Two attempts 100 ms apart take well under a second; ten seconds means it never gives up.
    expect(outcome, `status '${pub.status}' 10 s after start with maxReconnectAttempts 2`).toBeInstanceOf(ConnectionError);
    const report = await pub.close();
    expect(report).toMatchObject({ accepted: 1, sent: 0, unsent: 1 });
  });

  it('lets the process exit on its own, with no unhandled rejection', async () => {
    const port = await freePort();
    const entry = fileURLToPath(new URL('../../../dist/src/index.js', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'faults-exit-'));
    const script = join(dir, 'never-returns.mjs');
    writeFileSync(
      script,
      `import { createPublisher } from ${JSON.stringify(entry)};
process.on('unhandledRejection', (e) => { console.log('UNHANDLED ' + (e && e.message)); process.exitCode = 3; });
process.on('uncaughtException', (e) => { console.log('UNCAUGHT ' + (e && e.message)); process.exitCode = 4; });
const pub = await createPublisher({ servers: 'nats://127.0.0.1:${port}', reconnectTimeWait: 50 });
for (let i = 0; i < 1000; i++) pub.publish('faults.exit', 'x' + i);
const report = await pub.close({ timeout: 300 });
console.log('REPORT ' + JSON.stringify({ accepted: report.accepted, sent: report.sent, unsent: report.unsent }));
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.add(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | string>((resolve) => {
      const t = setTimeout(() => resolve('still running'), HANG_MS);
      child.once('exit', (c, sig) => {
        clearTimeout(t);
        resolve(c ?? String(sig));
      });
    });
    expect(out).toContain('REPORT {"accepted":1000,"sent":0,"unsent":1000}');
    expect(out).not.toMatch(/UNHANDLED|UNCAUGHT/);
    expect(code, out).toBe(0);
  });
});
