/**
 * `npm run demo`: a telemetry emitter on an embedded nats-server, with an outage in the middle.
 * Shows the buffer filling while the server is away, the full flag, and everything delivered after.
 */
import { connect } from 'nats';
import { createPublisher } from '../src/index.js';
import { startNatsServer } from './nats-server.js';

const RATE_PER_MS = 200; // 200 k msg/s offered
const RUN_MS = 4000;
const OUTAGE = { from: 1200, to: 2400 };

async function main(): Promise<void> {
  const server = await startNatsServer();
  console.log(`nats-server on ${server.url}`);
  const sub = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  let received = 0;
  sub.subscribe('telemetry.>', { callback: () => received++ });
  await sub.flush();

  const pub = await createPublisher({
    servers: server.url,
    reconnectBufSize: 4 * 1024 * 1024,
    reconnectTimeWait: 200,
    waitForConnect: true,
  });
  void (async () => {
    for await (const e of pub.events()) if (e.type !== 'closed') console.log(`  event: ${e.type}${'server' in e ? ` ${e.server}` : ''}`);
  })();

  const sample = new Uint8Array(96);
  const start = Date.now();
  let stopped = false;
  let restarted = false;
  let lastPrint = 0;
  while (Date.now() - start < RUN_MS) {
    const t = Date.now() - start;
    if (!stopped && t >= OUTAGE.from) {
      stopped = true;
      console.log(`t=${t} ms: stopping nats-server`);
      void server.stop();
    }
    if (!restarted && t >= OUTAGE.to) {
      restarted = true;
      console.log(`t=${t} ms: starting nats-server again`);
      void server.restart();
    }
    for (let i = 0; i < RATE_PER_MS; i++) {
      sample[0] = i & 0xff;
      pub.tryPublish(`telemetry.host${i % 8}.cpu`, sample); // refusals are counted in stats().rejected
    }
    if (t - lastPrint >= 400) {
      lastPrint = t;
      const s = pub.stats();
      console.log(
        `t=${String(t).padStart(4)} ms  ${s.status.padEnd(12)} accepted ${s.accepted}  sent ${s.sent}  ` +
          `pending ${(s.pendingBytes / 1024).toFixed(0)} KiB  refused ${s.rejected}${s.full ? '  [FULL]' : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await pub.flush();
  const report = await pub.close();
  await sub.flush();
  await new Promise((r) => setTimeout(r, 200));
  console.log('\nclose() report:', report);
  console.log(
    `subscriber received ${received} of ${report.sent} confirmed (accepted ${report.accepted}, refused while full ${report.rejected})`,
  );
  await sub.close();
  await server.stop();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
