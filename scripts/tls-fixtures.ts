/**
 * Throwaway TLS material for tests: a self-signed CA and a server certificate for 127.0.0.1 and
 * localhost, made with the openssl CLI and no network.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable, installWithApt } from './nats-server.js';

export interface TlsFixtures {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** PEM text of the files above. */
  ca: string;
  cert: string;
  key: string;
}

// Our own config, so the result does not depend on the distribution's openssl.cnf defaults.
const OPENSSL_CONFIG = (SUBJECT_ALT_NAME: string): string => `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = ${SUBJECT_ALT_NAME}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function findOpenssl(): string {
  let found = findExecutable('openssl');
  if (found === undefined && installWithApt('openssl')) found = findExecutable('openssl');
  if (found === undefined) {
    throw new Error('openssl was not found on PATH; install it (e.g. `apt-get install openssl`) to make TLS fixtures');
  }
  return found;
}

const serial = (): string => `0x${randomBytes(8).toString('hex')}`;

/**
 * Writes ca.pem, cert.pem and key.pem (plus the CA key and scratch files) into `dir`; the server
 * certificate names `opts.subjectAltName` (default `IP:127.0.0.1, DNS:localhost`).
 * @throws Error when openssl is unavailable or one of its commands fails.
 */
export function makeTlsFixtures(dir: string, opts: { subjectAltName?: string } = {}): TlsFixtures {
  const openssl = findOpenssl();
  mkdirSync(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  writeFileSync(path('openssl.cnf'), OPENSSL_CONFIG(opts.subjectAltName ?? 'IP:127.0.0.1, DNS:localhost'));
  const run = (args: string[]): void => {
    try {
      execFileSync(openssl, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (err) {
      const output = err instanceof Error && 'stderr' in err ? String(err.stderr).trim() : '';
      throw new Error(`openssl ${args[0] ?? ''} failed:\n${output}`, { cause: err });
    }
  };
  // P-256 keys: generated in milliseconds, and accepted by both Go's and Node's TLS stacks.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const cfg = ['-config', path('openssl.cnf')];

  run(['req', '-x509', ...newKey, ...cfg, '-extensions', 'ca', '-subj', '/CN=nats-offload test CA',
    '-days', '3650', '-set_serial', serial(), '-keyout', path('ca-key.pem'), '-out', path('ca.pem')]);
  run(['req', '-new', ...newKey, ...cfg, '-subj', '/CN=localhost',
    '-keyout', path('key.pem'), '-out', path('server.csr')]);
  run(['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca-key.pem'),
    '-set_serial', serial(), '-days', '825', '-extfile', path('openssl.cnf'), '-extensions', 'server',
    '-out', path('cert.pem')]);

  const caFile = path('ca.pem');
  const certFile = path('cert.pem');
  const keyFile = path('key.pem');
  return {
    caFile,
    certFile,
    keyFile,
    ca: readFileSync(caFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}
