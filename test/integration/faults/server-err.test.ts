/**
 * Fault 9: the server answers `-ERR` for some publishes (a permissions violation configured in the
 * test server). Each must surface as an error event and be counted in stats().serverErrors; the
 * connection and the ring carry on, and the permitted stream around them arrives complete.
 */
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { ServerError } from '../../../src/index.js';
import {
  EventLog,
  cleanupsAfterEach,
  delivery,
  expectBalanced,
  expectDelivered,
  recordOffload,
  sleep,
  startPublisher,
  startRig,
  waitUntil,
} from '../../helpers/faults-harness.js';

const cleanups = cleanupsAfterEach();

const CONFIG = `
authorization {
  users = [
    { user: publisher, password: pw, permissions: { publish: { allow: ["faults.ok.>"], deny: ["faults.secret.>"] } } }
    { user: reader, password: pw }
  ]
}
`;

const ALLOWED = 50_000;
const DENY_EVERY = 50;

describe('server -ERR (permissions violation)', () => {
  it('surfaces each -ERR as a counted error event and keeps the ring flowing', async () => {
    const auth = { user: 'reader', pass: 'pw' };
    const { server, sub, subject } = await startRig(cleanups, 'faults.ok.seq', ALLOWED, { server: { config: CONFIG }, subscriber: auth });
    const spy = await connect({ servers: server.url, ...auth });
    cleanups.add(() => spy.close());
    let secretArrived = 0;
    spy.subscribe('faults.secret.>', { callback: () => secretArrived++ });
    await spy.flush();

    const pub = await startPublisher(cleanups, { servers: server.url, user: 'publisher', pass: 'pw', waitForConnect: true });
    const events = new EventLog(pub);
    const payload = new Uint8Array(8);
    const view = new DataView(payload.buffer);
    payload[4] = 0xa5;
    let denied = 0;
    for (let seq = 0; seq < ALLOWED; seq++) {
      view.setUint32(0, seq, true);
      while (!pub.tryPublish(subject, payload)) await sleep(1);
      if (seq % DENY_EVERY === 0) {
        while (!pub.tryPublish('faults.secret.x', 'not for you')) await sleep(1);
        denied++;
      }
      if (seq % 5_000 === 0) await sleep(0);
    }
    await pub.flush({ timeout: 30_000 });
    await sub.waitFor(ALLOWED, 30_000);
    await waitUntil(() => pub.stats().serverErrors >= denied, 30_000, () => `${denied} server errors, have ${pub.stats().serverErrors}`);
    await waitUntil(() => events.errors().length >= denied, 10_000, () => `${denied} error events, have ${events.errors().length}`);
    await spy.flush();
    const stats = pub.stats();
    expectBalanced(stats, pub);
    expect(stats.serverErrors).toBe(denied);
    expect(stats.disconnects).toBe(0);
    expect(stats.status).toBe('connected');
    const errs = events.errors();
    expect(errs).toHaveLength(denied);
    for (const e of errs) {
      expect(e).toBeInstanceOf(ServerError);
      expect(e.message).toMatch(/PERMISSIONS_VIOLATION.*publish.*faults\.secret\.x/);
    }
    expect(secretArrived).toBe(0);

    const report = await pub.close({ timeout: 5_000 });
    // The refused messages were processed (and dropped) by the server: they count as sent.
    expect(report.accepted).toBe(ALLOWED + denied);
    expect(report.sent).toBe(ALLOWED + denied);
    const d = delivery(sub.counter, { ...report, accepted: ALLOWED, sent: ALLOWED });
    recordOffload(report, d, {
      id: 'server-err',
      fault: `server -ERR 'Permissions Violation' on ${denied} of ${ALLOWED + denied} publishes`,
      userSees: `one 'error' event (ServerError, subject named) per -ERR; stats().serverErrors = ${stats.serverErrors}; connection and stream unaffected`,
      notes: 'denied messages are confirmed (the server processed and refused them) and counted in serverErrors',
    });
    expectDelivered(d, { ...report, accepted: ALLOWED, sent: ALLOWED });
  });
});
