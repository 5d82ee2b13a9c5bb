/**
 * A 3-node JetStream cluster with an R3 stream; the stream leader's node is SIGKILLed mid-run.
 * Nothing accepted is lost, nothing is in the stream twice, and publishing resumes against the
 * new leader (503s and lost acks are retried with the same Msg-Id).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../../helpers/nats-server.js';
import { cleanupsAfterEach, startPublisher } from '../../helpers/lifecycle.js';
import { checkStream, createStream, expectAccounting, numberedPayload, streamState } from '../../helpers/jetstream.js';

const cleanups = cleanupsAfterEach();

describe('JetStream mode: R3 stream, leader killed', () => {
  it('SIGKILL of the stream leader mid-run: every accepted message stored once, publishing resumes', async () => {
    let stage = 'start cluster';
    cleanups.add(() => {
      if (stage !== 'done') console.error(`cluster-leader-kill: stopped at stage "${stage}"`);
    });
    const cluster = await startCluster(3, { jetstream: true });
    cleanups.add(() => cluster.stop());
    stage = 'create stream';
    await createStream(cluster.urls, { name: 'R3', subjects: ['telemetry.>'], storage: 'file', replicas: 3 });
    const pub = await startPublisher(
      cleanups,
      {
        servers: cluster.urls,
        waitForConnect: true,
        reconnectTimeWait: 100,
        reconnectJitter: 0,
        jetstream: { ackTimeout: 1000, noRespondersRetry: 20_000 },
      },
      5000,
    );
    const payloads: Uint8Array[] = [];
    const publishFor = async (ms: number, perMs: number): Promise<void> => {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        for (let i = 0; i < perMs; i++) {
          const p = numberedPayload(payloads.length, 48);
          if (!pub.tryPublish('telemetry.x', p)) break;
          payloads.push(p);
        }
        await sleep(1);
      }
    };
    stage = 'publish before the kill';
    await publishFor(800, 3);
    const before = await streamState(cluster.urls, 'R3');
    const leaderIndex = cluster.servers.findIndex((_, i) => before.leader === `offload-${i}`);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    await cluster.servers[leaderIndex]!.stop('SIGKILL');
    const killedAt = payloads.length;
    await publishFor(2500, 3);
    const survivors = cluster.urls.filter((_, i) => i !== leaderIndex);
    stage = 'flush';
    await pub.flush({ timeout: 60_000 });
    const s = pub.stats();
    expect(s.accepted).toBeGreaterThan(killedAt); // publishing went on after the kill
    expect(s.serverRejected).toBe(0);
    stage = 'stream state';
    const after = await streamState(survivors, 'R3');
    expect(after.leader).not.toBe(before.leader);
    stage = 'read back';
    const check = await checkStream(survivors, 'R3', pub.publisherId!, (seq) => payloads[seq]);
    expect(check).toMatchObject({ count: s.accepted, distinctMsgIds: s.accepted, repeatedMsgIds: 0, corrupt: 0, foreign: 0 });
    expectAccounting(pub, check.count);
    stage = 'done';
  }, 120_000);
});
