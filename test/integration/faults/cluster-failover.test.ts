/**
 * Fault 4: a 3-node cluster on loopback; the publisher is on node 0, the counting subscriber on
 * node 2. Node 0 dies mid-stream: the publisher fails over to another node, from its server list
 * or from the URLs the cluster advertised, and nothing it accepted is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Cleanups,
  EventLog,
  SeqStream,
  delivery,
  expectDelivered,
  faultSubscriber,
  flushEventually,
  recordResult,
  sleep,
  startPublisher,
  waitForInterest,
  waitUntil,
} from '../../helpers/faults-harness.js';
import { startCluster } from '../../helpers/nats-server.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

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
      const capacity = 1_000_000;
      const sub = await faultSubscriber({ servers: cluster.urls[2]! }, subject, capacity);
      cleanups.add(() => sub.close());
      await waitForInterest(cluster.urls[0]!, sub, subject);
      await waitForInterest(cluster.urls[1]!, sub, subject);

      const pub = await startPublisher(cleanups, {
        servers: c.list.map((i) => cluster.urls[i]!),
        noRandomize: true,
        waitForConnect: true,
        reconnectTimeWait: 100,
        reconnectJitter: 0,
      });
      const events = new EventLog(pub);
      // The 'connect' event came before this log existed: ask node 0's monitor who is connected.
      const connz = (await (await fetch(`${cluster.monitorUrls[0]!}/connz`)).json()) as { connections?: { name?: string }[] };
      expect(connz.connections?.some((x) => x.name === 'faults')).toBe(true);
      const connectedTo = `127.0.0.1:${cluster.servers[0]!.port}`;
      const stream = new SeqStream(pub, subject);

      let stop = false;
      const producing = stream.run({ until: () => stop, batch: 2_000, paceMs: 10 });
      await waitUntil(() => stream.next >= 40_000, 30_000, 'the first 40 000 messages');
      await cluster.servers[0]!.stop(c.signal);
      await events.waitFor('reconnect', 1, 30_000);
      await sleep(300);
      stop = true;
      await producing;
      await pub.flush({ timeout: 30_000 });
      const stats = pub.stats();
      const reconnect = events.events.find((e) => e.type === 'reconnect') as { server: string };
      // No throw on timeout here: the delivery verdict below says which messages are missing and why.
      await sub.waitFor(stats.accepted, 30_000).catch(() => {});
      await flushEventually(sub.nc);
      await sleep(100);
      const report = await pub.close({ timeout: 5_000 });
      const d = delivery(sub.counter, report);
      recordResult({
        id: c.id,
        fault: `3-node cluster, publisher's node ${c.signal} mid-stream (${c.list.length > 1 ? 'server list' : 'discovered URLs'})`,
        client: 'nats-offload',
        userSees: `disconnect, reconnect to ${reconnect.server === `127.0.0.1:${cluster.servers[1]!.port}` ? 'node 1' : reconnect.server === `127.0.0.1:${cluster.servers[2]!.port}` ? 'node 2' : reconnect.server}; publish never failed`,
        accepted: report.accepted,
        sent: report.sent,
        unsent: report.unsent,
        rejected: report.rejected,
        resent: report.resent,
        duplicates: d.duplicates,
        lostSilently: d.lostSilently,
        notes: `missing=${d.missingCount} out-of-order=${d.outOfOrder}`,
      });
      expect(reconnect.server).not.toBe(connectedTo);
      expect(report.unsent).toBe(0);
      expect(report.error).toBeUndefined();
      expectDelivered(d, report);
    });
  }
});
