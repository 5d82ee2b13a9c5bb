/**
 * The one adapter into the `nats` package's internals. Its public API has no raw write, and
 * `nc.publish()` per message would cap throughput at the main-thread client's rate, so runs of
 * ready-made frames go to the protocol writer (`protocol.sendCommand`) and PINGs through
 * `protocol.flush()`. Checked against nats@2.29.3 (pinned); `checkInternals()` fails loudly
 * (and test/integration/nats-internals.test.ts with it) if a future version moves these.
 */
import type { NatsConnection, ServerInfo } from 'nats';

interface ProtocolInternals {
  connected: boolean;
  infoReceived: boolean;
  transport: object | undefined;
  info: ServerInfo | undefined;
  sendCommand(cmd: Uint8Array): void;
  flushPending(): void;
  flush(): Promise<void>;
  isClosed(): boolean;
}

export const NATS_VERSION_CHECKED = '2.29.3';

/** Names of the internals this adapter needs that `nc` lacks; empty when all is well. */
export function checkInternals(nc: NatsConnection): string[] {
  const p = (nc as unknown as { protocol?: Record<string, unknown> }).protocol;
  if (p === undefined || p === null) return ['nc.protocol'];
  const missing: string[] = [];
  for (const fn of ['sendCommand', 'flushPending', 'flush', 'isClosed']) if (typeof p[fn] !== 'function') missing.push(`protocol.${fn}()`);
  for (const flag of ['connected', 'infoReceived']) if (typeof p[flag] !== 'boolean') missing.push(`protocol.${flag}`);
  if (typeof p.transport !== 'object') missing.push('protocol.transport');
  return missing;
}

/** The parts of a received message nats.js keeps undecoded (MsgImpl's `_msg` and `_rdata`). */
interface MsgInternals {
  _msg: { subject: Uint8Array; hdr: number };
  _rdata: Uint8Array | undefined;
}

export class NatsWire {
  private readonly protocol: ProtocolInternals;
  private readonly nc: NatsConnection;

  /** @throws {Error} when the `nats` package no longer has the internals this relies on */
  constructor(nc: NatsConnection) {
    const missing = checkInternals(nc);
    if (missing.length > 0) {
      throw new Error(`nats-offload needs nats@${NATS_VERSION_CHECKED} internals that this nats package lacks: ${missing.join(', ')}`);
    }
    this.protocol = (nc as unknown as { protocol: ProtocolInternals }).protocol;
    this.nc = nc;
  }

  /**
   * Subscribes with a callback that gets the raw subject bytes, the message as received (headers,
   * then body) and the header length (-1: none): no string decoding or header parsing per message.
   */
  subscribeRaw(subject: string, onMessage: (subject: Uint8Array, raw: Uint8Array, hdrLen: number) => void): void {
    const empty = new Uint8Array(0);
    this.nc.subscribe(subject, {
      callback: (_err, m) => {
        const i = m as unknown as MsgInternals;
        onMessage(i._msg.subject, i._rdata ?? empty, i._msg.hdr);
      },
    });
  }

  /**
   * True only while bytes handed over go to a live, handshaken socket. While false the protocol
   * writer would keep them in a buffer it empties on the next dial attempt, so we must not write.
   */
  get ready(): boolean {
    const p = this.protocol;
    return p.connected && p.infoReceived && !p.isClosed();
  }

  /** Changes on every new socket: a different value means bytes since the last PONG may be lost. */
  get connectionIdentity(): object | undefined {
    return this.protocol.transport;
  }

  get maxPayload(): number | undefined {
    return this.protocol.info?.max_payload;
  }

  get headers(): boolean {
    return this.protocol.info?.headers ?? false;
  }

  /**
   * Hands whole frames to the protocol writer and has it write them now. Left queued, a second
   * run would make it concatenate both (a copy of every byte); alone in its queue, the view into
   * the ring goes to the socket as it is.
   */
  write(frames: Uint8Array): void {
    this.protocol.sendCommand(frames);
    this.protocol.flushPending();
  }

  /**
   * Destroys the socket now, without waiting for its write queue (which never drains when the
   * peer stops reading); nats.js then sees it close and reconnects as after any drop.
   */
  destroy(): void {
    const transport = this.protocol.transport as { socket?: { destroy(): void } } | undefined;
    transport?.socket?.destroy();
  }

  /** Sends a PING after everything written so far; resolves on its PONG, rejects on disconnect. */
  ping(): Promise<void> {
    return this.protocol.flush();
  }
}
