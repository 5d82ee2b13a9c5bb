/**
 * What confirms a handed-over record, and when to give up on it: the one seam between the drain
 * loop (which hands frames over and resends after a reconnect) and the two rules, PING/PONG for
 * core NATS (pong-confirmation.ts) and per-message acks for JetStream (ack-confirmation.ts).
 */
import type { NatsWire } from './nats-wire.js';

/** What a pass handed over or skipped, since the last PING. */
export interface PassCounts {
  messages: number;
  bytes: number;
  oversize: number;
  expired: number;
}

export interface ConfirmationHooks {
  /** Space was released, or room to send more opened (reopen a full state, wake close, hand over more). */
  onRelease(): void;
  onFlushed(id: number, expired: number, oversize: number): void;
}

/** admit()'s answers for the next message record. */
export const Admit = {
  SEND: 0,
  /** Already confirmed (acked before a reconnect): step over it without sending. */
  SKIP: 1,
  /** No room for more unconfirmed messages now; the rule kicks the loop when there is. */
  STOP: 2,
} as const;

export interface Confirmation {
  /** Nothing handed over is waiting for confirmation, and nothing is pending. */
  readonly idle: boolean;
  /** Confirmations are outstanding: one will release space and kick the loop. */
  readonly waiting: boolean;
  /** The loop has a live connection (called on every attach; a rule may subscribe here). */
  attach(wire: NatsWire): void;
  /** A new socket: whatever was in flight on the old one is resent. */
  reset(connection: object | undefined): void;
  /**
   * The socket died; called before CONNECTION says so, after which the main thread may release
   * messages from the head (drop-oldest, expiry) that this rule still counts as in flight.
   */
  connectionLost(): void;
  /** Start of a pass, with RING_LOCK held. */
  beginPass(): void;
  /** The message record at `pos` (`len` bytes) is next: send it, step over it, or stop the pass. */
  admit(pos: number, len: number): number;
  /** The record just admitted at `pos` was skipped instead of sent; `resend`: seen on an earlier pass. */
  skipped(pos: number, why: 'expired' | 'oversize', resend: boolean): void;
  /** After a pass: what it handed over. */
  afterPass(wire: NatsWire, counts: PassCounts): void;
  addFlush(id: number, position: number): void;
  cancelFlush(id: number): void;
  /** The worker's clock tick (liveness deadlines, timeouts, retries). */
  tick(wire: NatsWire | undefined, now: number): void;
}
