/**
 * Issue 8, defect 6: `createPublisher({ waitForConnect: true })` used to wait forever when the
 * server's certificate could not be verified (the worker retried, the error events went to an
 * iterator the caller had no handle to yet). Certificate failures are configuration errors now,
 * and connectTimeout bounds the wait whatever the cause.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTlsFixtures, type TlsFixtures } from '../../scripts/tls-fixtures.js';
import { ConnectionError, createPublisher, type NatsOffloadError } from '../../src/index.js';
import { EventLog, recordResult } from '../helpers/faults-harness.js';
import { cleanupsAfterEach, startPublisher, waitUntil } from '../helpers/lifecycle.js';
import { freePort, startNatsServer, type NatsServerProcess } from '../helpers/nats-server.js';

const cleanups = cleanupsAfterEach();

let trusted: TlsFixtures;
let otherCa: TlsFixtures;
let wrongName: TlsFixtures;
let tlsServer: NatsServerProcess;
let wrongNameServer: NatsServerProcess;

const tlsConfig = (f: TlsFixtures): string => `tls {\n  cert_file: "${f.certFile}"\n  key_file: "${f.keyFile}"\n}\n`;

beforeAll(async () => {
  trusted = makeTlsFixtures(mkdtempSync(join(tmpdir(), 'wfc-tls-a-')));
  otherCa = makeTlsFixtures(mkdtempSync(join(tmpdir(), 'wfc-tls-b-')));
  wrongName = makeTlsFixtures(mkdtempSync(join(tmpdir(), 'wfc-tls-c-')), { subjectAltName: 'DNS:elsewhere.example' });
  tlsServer = await startNatsServer({ config: tlsConfig(trusted) });
  wrongNameServer = await startNatsServer({ config: tlsConfig(wrongName) });
});

afterAll(async () => {
  await tlsServer?.stop();
  await wrongNameServer?.stop();
});

/** What createPublisher rejected with, and after how long (it must reject). */
async function rejection(options: Parameters<typeof createPublisher>[0]): Promise<{ error: NatsOffloadError; ms: number }> {
  const start = Date.now();
  const outcome = await createPublisher(options).then(
    async (pub) => {
      await pub.close({ timeout: 0 });
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(outcome, 'createPublisher resolved').toBeInstanceOf(ConnectionError);
  return { error: outcome as NatsOffloadError, ms: Date.now() - start };
}

describe('waitForConnect', () => {
  it('rejects with CONNECTION_ERROR at once when the server certificate is signed by an untrusted CA', async () => {
    const { error, ms } = await rejection({ servers: tlsServer.url, tls: { caFile: otherCa.caFile }, waitForConnect: true, connectTimeout: 60_000 });
    expect(error.code).toBe('CONNECTION_ERROR');
    expect(error.message).toMatch(/certificate/i);
    expect(ms, 'rejected by the certificate check, not by connectTimeout').toBeLessThan(30_000);
    recordResult({
      id: 'wait-for-connect-untrusted-ca',
      fault: 'createPublisher({ waitForConnect: true }) against a TLS server signed by an untrusted CA',
      client: 'nats-offload',
      userSees: `rejects after ${ms} ms with CONNECTION_ERROR: ${error.message}`,
      accepted: 0,
      lostSilently: 0,
      defect: 6,
    });
  });

  it('rejects with CONNECTION_ERROR at once when the certificate does not name the host', async () => {
    const { error, ms } = await rejection({ servers: wrongNameServer.url, tls: { caFile: wrongName.caFile }, waitForConnect: true, connectTimeout: 60_000 });
    expect(error.code).toBe('CONNECTION_ERROR');
    expect(error.message).toMatch(/ALTNAME|does not match|certificate/i);
    expect(ms, 'rejected by the certificate check, not by connectTimeout').toBeLessThan(30_000);
  });

  it('rejects after connectTimeout when no server answers, naming the last reason', async () => {
    const port = await freePort();
    const { error } = await rejection({ servers: `nats://127.0.0.1:${port}`, waitForConnect: true, connectTimeout: 1_000, reconnectTimeWait: 100 });
    expect(error.message).toMatch(/connectTimeout \(1000 ms\)/);
    expect(error.message).toMatch(/last attempt: .*(ECONNREFUSED|CONNECTION_REFUSED)/);
    recordResult({
      id: 'wait-for-connect-timeout',
      fault: 'createPublisher({ waitForConnect: true, connectTimeout: 1000 }) with no server',
      client: 'nats-offload',
      userSees: `rejects with CONNECTION_ERROR: ${error.message}`,
      accepted: 0,
      lostSilently: 0,
      defect: 6,
    });
  });

  it('without waitForConnect, a certificate failure is reported as an error event and retried', async () => {
    const pub = await startPublisher(cleanups, { servers: tlsServer.url, tls: { caFile: otherCa.caFile }, reconnectTimeWait: 100 });
    const events = new EventLog(pub);
    pub.publish('wfc.buffered', 'kept until a server takes it');
    await waitUntil(() => events.errors().length > 0, 15_000, 'an error event');
    expect(events.errors()[0]?.message).toMatch(/certificate/i);
    expect(events.errors()[0]?.message).toMatch(/retrying/);
    expect(pub.status).toBe('connecting');
    expect(pub.stats().pendingMessages).toBe(1);
  });
});
