/**
 * Fault 4: a 3-node cluster on loopback; the publisher is on node 0, the counting subscriber on
 * node 2. Node 0 dies mid-stream: the publisher fails over to another node, from its server list
 * or from the URLs the cluster advertised, and nothing it accepted is lost.
 */
import { describe, expect, it } from 'vitest';
import {
  cleanupsAfterEach,
  closeAndCount,
  expectNothingLost,
  recordOffload,
  sleep,
  startSeqPublisher,
  startSubscriber,
  waitForInterest,
} from '../../helpers/faults-harness.js';
import { startCluster } from '../../helpers/nats-server.js';

const cleanups = cleanupsAfterEach();

const cases = [
  { name: 'SIGTERM, next node from the server list', id: 'cluster-failover-list', signal: 'SIGTERM', list: [0, 1] },
  { name: 'SIGKILL, next node from the discovered URLs', id: 'cluster-failover-discovered', signal: 'SIGKILL', list: [0] },
] as const;

describe('3-node cluster loses the publisher node', () => {
  for (const c of cases) {
    it(`${c.name}: nothing accepted is lost`, async () => {
      const cluster = await startCluster(3);
      cleanups.add(() => cluster.stop());
      const subject = `faults.cluster.${c.signal.toLowerCase()}`;
      const sub = await startSubscriber(cleanups, { servers: cluster.urls[2]! }, subject, 1_000_000);
      await waitForInterest(cluster.urls[0]!, sub, subject);
      await waitForInterest(cluster.urls[1]!, sub, subject);

      const { pub, events, stream } = await startSeqPublisher(cleanups, subject, {
        servers: c.list.map((i) => cluster.urls[i]!),
        noRandomize: true,
        waitForConnect: true,
        reconnectTimeWait: 100,
        reconnectJitter: 0,
      });
      // The 'connect' event came before this log existed: ask node 0's monitor who is connected.
      const connz = (await (await fetch(`${cluster.monitorUrls[0]!}/connz`)).json()) as { connections?: { name?: string }[] };
      expect(connz.connections?.some((x) => x.name === 'faults')).toBe(true);
      const connectedTo = `127.0.0.1:${cluster.servers[0]!.port}`;

      const producer = stream.produce({ batch: 2_000, paceMs: 10 });
      await stream.waitForAccepted(40_000);
      await cluster.servers[0]!.stop(c.signal);
      await events.waitFor('reconnect', 1, 30_000);
      await sleep(300);
      await producer.stop();
      await pub.flush({ timeout: 30_000 });
      const stats = pub.stats();
      const reconnect = events.events.find((e) => e.type === 'reconnect') as { server: string };
      // No throw on timeout here: the delivery verdict below says which messages are missing and why.
      const { report, d } = await closeAndCount(pub, sub, stats.accepted, { bestEffort: true, settleMs: 100 });
      recordOffload(report, d, {
        id: c.id,
        fault: `3-node cluster, publisher's node ${c.signal} mid-stream (${c.list.length > 1 ? 'server list' : 'discovered URLs'})`,
        userSees: `disconnect, reconnect to ${reconnect.server === `127.0.0.1:${cluster.servers[1]!.port}` ? 'node 1' : reconnect.server === `127.0.0.1:${cluster.servers[2]!.port}` ? 'node 2' : reconnect.server}; publish never failed`,
        notes: `missing=${d.missingCount} out-of-order=${d.outOfOrder}`,
      });
      expect(reconnect.server).not.toBe(connectedTo);
      expectNothingLost(d, report);
    });
  }
});
