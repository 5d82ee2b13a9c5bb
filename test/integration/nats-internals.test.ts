/**
 * nats-offload writes frames through internals of the pinned `nats` package (worker/nats-wire.ts).
 * This fails loudly if an upgrade moves them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { NATS_VERSION_CHECKED, NatsWire, checkInternals } from '../../worker/nats-wire.js';
import { withServer } from '../helpers/nats-server.js';

describe('the nats package internals we rely on', () => {
  it('is the exact version the adapter was checked against, pinned in package.json', () => {
    const require = createRequire(import.meta.url);
    const installed = JSON.parse(readFileSync(require.resolve('nats/package.json'), 'utf8')) as { version: string };
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(installed.version).toBe(NATS_VERSION_CHECKED);
    expect(pkg.dependencies.nats).toBe(NATS_VERSION_CHECKED);
  });

  it('has protocol.sendCommand, flush, connected, infoReceived and transport on a live connection', async () => {
    await withServer(async (server) => {
      const nc = await connect({ servers: server.url });
      try {
        expect(checkInternals(nc)).toEqual([]);
        const wire = new NatsWire(nc);
        expect(wire.ready).toBe(true);
        expect(wire.maxPayload).toBe(1024 * 1024);
        const got: string[] = [];
        nc.subscribe('raw', { callback: (_e, m) => got.push(m.string()) });
        await nc.flush();
        wire.write(new TextEncoder().encode('PUB raw 2\r\nhi\r\nPUB raw 3\r\nyou\r\n'));
        await wire.ping();
        await nc.flush();
        expect(got).toEqual(['hi', 'you']);
      } finally {
        await nc.close();
      }
    });
  });

  it('reports what is missing instead of writing blindly', () => {
    expect(checkInternals({} as never)).toEqual(['nc.protocol']);
    expect(() => new NatsWire({ protocol: { connected: true } } as never)).toThrow(/internals.*sendCommand/);
  });
});
