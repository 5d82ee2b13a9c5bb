/**
 * The promise of JetStream mode: every accepted message is in the stream exactly once, with its
 * payload intact, and `stored` equals the stream's own count. Truth comes from the stream, read
 * back through the server. Runs 200k messages (1 M in the issue; 200k keeps this shared 2-core
 * machine's test run short; JS_MESSAGES=1000000 runs the full size).
 */
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach, startPublisher } from '../../helpers/lifecycle.js';
import {
  checkStream,
  createStream,
  expectAccounting,
  numberedPayload,
  startJetStreamServer,
  streamState,
} from '../../helpers/jetstream.js';

const cleanups = cleanupsAfterEach();
const N = Number(process.env['JS_MESSAGES'] ?? 200_000);
const SIZE = 64;

describe('JetStream mode: stored exactly once', () => {
  it(`every accepted message of ${N} is in a file stream exactly once, payload intact; stored = the stream's count`, async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'TELEMETRY', subjects: ['telemetry.>'], storage: 'file' });
    const pub = await startPublisher(cleanups, { servers: server.url, jetstream: true, waitForConnect: true }, 5000);
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < N; ) {
      const p = numberedPayload(i, SIZE);
      if (pub.tryPublish(`telemetry.s${i % 4}`, p)) {
        payloads.push(p);
        i++;
      } else await pub.ready();
    }
    await pub.flush({ timeout: 120_000 });
    const s = pub.stats();
    expect(s.accepted).toBe(N);
    expect(s.pendingMessages).toBe(0);
    expect(s.serverRejected).toBe(0);
    const state = await streamState(server.url, 'TELEMETRY');
    expect(state.messages).toBe(N);
    const check = await checkStream(server.url, 'TELEMETRY', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: N, distinctMsgIds: N, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expect(check.seqs[0]).toBe(0);
    expect(check.seqs[N - 1]).toBe(N - 1);
    expectAccounting(pub, state.messages);
  }, 300_000);
});
