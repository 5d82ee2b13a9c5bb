import { startNatsServer } from '../../scripts/nats-server.js';
import type { NatsServerProcess, StartOptions } from '../../scripts/nats-server.js';

export { findNatsServer, freePort, startCluster, startNatsServer } from '../../scripts/nats-server.js';
export type { NatsCluster, NatsServerProcess, StartOptions } from '../../scripts/nats-server.js';

/** Runs `fn` against a fresh server and stops the server however `fn` ends. */
export async function withServer<T>(fn: (server: NatsServerProcess) => Promise<T>, opts: StartOptions = {}): Promise<T> {
  const server = await startNatsServer(opts);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
