/**
 * Before any test: build the worker (piscina loads it as JavaScript from dist/) and make sure a
 * real nats-server is available (installing Debian's package when root), once for all test files.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findNatsServer } from '../scripts/nats-server.js';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  const bin = findNatsServer();
  process.env.NATS_SERVER_BIN = bin;
}
