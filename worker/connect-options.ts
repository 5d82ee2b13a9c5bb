/** Turns the cloneable connection settings into `nats` ConnectionOptions, authenticators included. */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import type { ConnectionSettings } from '../src/shared/protocol.js';

export function natsOptions(s: ConnectionSettings): ConnectionOptions {
  const enc = new TextEncoder();
  const o: ConnectionOptions = {
    servers: [...s.servers],
    name: s.name,
    noRandomize: s.noRandomize,
    ignoreClusterUpdates: s.ignoreClusterUpdates,
    timeout: s.timeout,
    pingInterval: s.pingInterval,
    maxPingOut: s.maxPingOut,
    maxReconnectAttempts: s.maxReconnectAttempts,
    reconnectTimeWait: s.reconnectTimeWait,
    reconnectJitter: s.reconnectJitter,
    reconnectJitterTLS: s.reconnectJitterTLS,
    reconnect: true,
    debug: s.debug,
    noEcho: true,
  };
  if (s.user !== undefined) o.user = s.user;
  if (s.pass !== undefined) o.pass = s.pass;
  if (s.token !== undefined) o.token = s.token;
  if (s.nkeySeed !== undefined) o.authenticator = nkeyAuthenticator(enc.encode(s.nkeySeed));
  if (s.credentials !== undefined) o.authenticator = credsAuthenticator(enc.encode(s.credentials));
  if (s.credentialsFile !== undefined) o.authenticator = credsAuthenticator(readFileSync(s.credentialsFile));
  if (s.tls !== undefined) o.tls = { ...s.tls };
  return o;
}
