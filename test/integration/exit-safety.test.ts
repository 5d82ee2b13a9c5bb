/**
 * A process that exits without close() does not lose its buffer silently: the exit waits (bounded)
 * for the worker to drain, and reports on stderr what could not be sent.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, startCountingSubscriber, startServer } from '../helpers/lifecycle.js';
import { freePort } from '../helpers/nats-server.js';

const fixture = fileURLToPath(new URL('../fixtures/exit-without-close.mjs', import.meta.url));
const distIndex = new URL('../../dist/src/index.js', import.meta.url).href;

function runChild(server: string, count: number, exitFlushTimeout: number) {
  return new Promise<{ code: number | null; stderr: string; stdout: string; ms: number }>((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [fixture, distIndex, server, String(count), String(exitFlushTimeout)]);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr, stdout, ms: Date.now() - started }));
  });
}

const cleanups = cleanupsAfterEach();

describe('exit without close()', () => {
  it('with a server: everything published before process.exit() arrives', async () => {
    const server = await startServer(cleanups);
    const N = 50_000;
    const sub = await startCountingSubscriber(cleanups, server.url, 'exit.seq', N);
    const r = await runChild(server.url, N, 5000);
    expect(r.stdout).toContain('published');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    await sub.waitFor(N, 10_000);
    expect(sub.counter.report(N)).toMatchObject({ missing: [], duplicates: 0, outOfOrder: 0 });
  });

  it('without a server: exits once the bound has passed and reports the unsent count on stderr', async () => {
    const port = await freePort();
    const r = await runChild(`nats://127.0.0.1:${port}`, 1234, 300);
    expect(r.stdout).toContain('published');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/nats-offload: process exiting with 1234 message\(s\) .* not confirmed/);
    expect(r.stderr).toMatch(/after waiting 300 ms/);
  });
});
