/**
 * Core mode's rule for what confirms a record: a PONG to a PING sent after it on the same socket
 * (the server has processed everything before the PING). One PING per round trip, or per
 * PING_EVERY_BYTES when the producer is fast; space is released in order as PONGs return.
 * Also answers flushes (a PONG after the flush's position) and owns the liveness deadline: a PING
 * unanswered for pingInterval x maxPingOut kills the socket, whatever the nats package is waiting for.
 */
import { Stat } from '../src/shared/layout.js';
import { Admit, type Confirmation, type ConfirmationHooks, type PassCounts } from './confirmation.js';
import type { NatsWire } from './nats-wire.js';
import type { RingReader } from './ring-reader.js';

interface InFlight extends PassCounts {
  /** Ring position (and its offset) right after the last frame handed over before this PING. */
  readonly pos: number;
  readonly off: number;
  readonly connection: object | undefined;
  readonly sentAt: number;
  /** Positions of the frames among this PING's that were skipped, not sent (for flushes, at release). */
  readonly skips: Skips;
  /** Its PONG came back; released in order. */
  done: boolean;
}

/** Positions of skipped frames, by why; allocated only when a pass skips something. */
interface Skips {
  readonly expired: number[];
  readonly oversize: number[];
}
const NO_SKIPS: Skips = { expired: [], oversize: [] };

interface WaitingFlush {
  readonly id: number;
  readonly position: number;
  /** Messages before `position` released unsent by this side while it waited (expired, over max_payload). */
  expired: number;
  oversize: number;
  /** The PING whose PONG answers it, once one was sent after `position`. */
  ping: InFlight | undefined;
}

/** While a PING is out, the next is sent only once this much more has been handed over. */
const PING_EVERY_BYTES = 1024 * 1024;

export class PongConfirmation implements Confirmation {
  private readonly inFlight: InFlight[] = [];
  private unpinged: PassCounts = noneYet();
  private unpingedSkips: Skips = NO_SKIPS;
  private connection: object | undefined;
  /**
   * False from the disconnect until the next socket: a PONG applied then would count frames that
   * main may have released from the head meanwhile (drop-oldest, expiry). They are resent instead.
   */
  private live = true;
  private readonly flushes: WaitingFlush[] = [];
  /** The socket this side destroyed for an overdue PONG (destroyed once). */
  private killed: object | undefined;

  constructor(
    private readonly ring: RingReader,
    private readonly hooks: ConfirmationHooks,
    /** pingInterval x maxPingOut: how long a PING may go unanswered before the socket is killed. */
    private readonly deadlineMs: number,
  ) {}

  /** Nothing handed over is waiting for a PONG, and nothing is pending. */
  get idle(): boolean {
    return this.inFlight.length === 0 && this.ring.pendingBytes() === 0;
  }

  /** PINGs are out: a PONG will release space and kick the loop. */
  get waiting(): boolean {
    return this.inFlight.length > 0;
  }

  /** A new socket: whatever was in flight on the old one is resent, and flushes wait for new PINGs. */
  reset(connection: object | undefined): void {
    this.connection = connection;
    this.live = true;
    this.inFlight.length = 0;
    this.unpinged = noneYet();
    this.unpingedSkips = NO_SKIPS;
    for (const f of this.flushes) f.ping = undefined;
  }

  /**
   * The socket died (before the main thread is told, which lets it release from the head): PONGs
   * that came back but wait for the lock are applied now, and none after. Main holds the lock only
   * for an instant while the connection is up, so the spin ends at once.
   */
  connectionLost(): void {
    if (!this.live) return; // lost already (the next socket's first pass calls reset())
    for (let i = 0; i < 100_000 && this.inFlight[0]?.done === true && !this.tryRelease(); i++);
    this.live = false;
  }

  /**
   * A message at `pos` was skipped instead of sent. The flushes waiting when the PONG of this pass
   * releases it count it then (if a reconnect comes first, it is seen again, or main releases it).
   */
  skipped(pos: number, why: 'expired' | 'oversize', _resend: boolean): void {
    if (this.unpingedSkips === NO_SKIPS) this.unpingedSkips = { expired: [], oversize: [] };
    this.unpingedSkips[why].push(pos);
  }

  attach(): void {}

  beginPass(): void {}

  /** Every record is sent; the in-flight byte budget is the loop's. */
  admit(): number {
    return Admit.SEND;
  }

  /** After a pass: adds what it handed over, and sends a PING when one is due or a flush needs one. */
  afterPass(wire: NatsWire, counts: PassCounts): void {
    const u = this.unpinged;
    u.messages += counts.messages;
    u.bytes += counts.bytes;
    u.oversize += counts.oversize;
    u.expired += counts.expired;
    const handedOver = u.messages + u.oversize + u.expired > 0;
    if ((handedOver && (this.inFlight.length === 0 || u.bytes >= PING_EVERY_BYTES)) || this.flushWantsPing()) this.ping(wire);
  }

  addFlush(id: number, position: number): void {
    const f: WaitingFlush = { id, position, expired: 0, oversize: 0, ping: undefined };
    this.flushes.push(f);
    this.ring.stats[Stat.FLUSHES_WAITING] = this.flushes.length;
    for (const e of this.inFlight) {
      if (!e.done && e.connection === this.connection && ((e.pos - position) | 0) >= 0) {
        f.ping = e;
        return;
      }
    }
  }

  cancelFlush(id: number): void {
    const i = this.flushes.findIndex((f) => f.id === id);
    if (i >= 0) this.flushes.splice(i, 1);
    this.ring.stats[Stat.FLUSHES_WAITING] = this.flushes.length;
  }

  /** True if a flush has nothing left to hand over before it and no PING after it yet. */
  private flushWantsPing(): boolean {
    const sent = this.ring.sentPos;
    for (const f of this.flushes) if (f.ping === undefined && ((sent - f.position) | 0) >= 0) return true;
    return false;
  }

  private ping(wire: NatsWire): void {
    const ring = this.ring;
    const u = this.unpinged;
    // Fields listed, not spread: `{ ...u, pos, … }` gave every PING a new hidden class, allocated in
    // old space (~2 MiB/s of the worker's heap at 100k msg/s, freed only by a full GC).
    const entry: InFlight = {
      messages: u.messages,
      bytes: u.bytes,
      oversize: u.oversize,
      expired: u.expired,
      pos: ring.sentPos,
      off: ring.sentOff,
      connection: this.connection,
      sentAt: Date.now(),
      skips: this.unpingedSkips,
      done: false,
    };
    this.unpinged = noneYet();
    this.unpingedSkips = NO_SKIPS;
    this.inFlight.push(entry);
    for (const f of this.flushes) if (f.ping === undefined && ((entry.pos - f.position) | 0) >= 0) f.ping = entry;
    ring.stats[Stat.PINGS]!++;
    wire.ping().then(
      () => {
        entry.done = true;
        this.releaseConfirmed();
      },
      () => {}, // disconnected: the next connection rewinds to the last confirmed position
    );
  }

  /** Answers the flushes whose PING has its PONG (after releasing, so the space is free by then). */
  private answerFlushes(): void {
    for (let i = 0; i < this.flushes.length; ) {
      const f = this.flushes[i]!;
      if (f.ping !== undefined && f.ping.done && f.ping.connection === this.connection) {
        this.flushes.splice(i, 1);
        this.hooks.onFlushed(f.id, f.expired, f.oversize);
      } else i++;
    }
    this.ring.stats[Stat.FLUSHES_WAITING] = this.flushes.length;
  }

  /** Releases confirmed passes, oldest first, under RING_LOCK (retried while main holds it). */
  private releaseConfirmed(): void {
    if (this.live && !this.tryRelease()) setImmediate(() => this.releaseConfirmed());
  }

  /** Releases confirmed passes, oldest first; false if the lock was busy. */
  private tryRelease(): boolean {
    const ring = this.ring;
    if (!ring.tryLock()) return false;
    let released = false;
    try {
      const stats = ring.stats;
      for (let head = this.inFlight[0]; head !== undefined && head.done; head = this.inFlight[0]) {
        this.inFlight.shift();
        if (head.connection !== this.connection) continue; // a stale socket's PONG: rewound already
        stats[Stat.CONFIRMED_MSGS]! += head.messages;
        stats[Stat.CONFIRMED_BYTES]! += head.bytes;
        stats[Stat.DROPPED_OVERSIZE]! += head.oversize;
        stats[Stat.EXPIRED]! += head.expired;
        if (ring.ahead(head.pos)) ring.confirm(head.pos, head.off, head.messages + head.oversize + head.expired);
        if (head.skips !== NO_SKIPS) this.countSkips(head.skips);
        released = true;
      }
    } finally {
      ring.unlock();
    }
    this.answerFlushes();
    if (released) this.hooks.onRelease();
    return true;
  }

  /** Counts released skips against the waiting flushes published after them. */
  private countSkips(skips: Skips): void {
    for (const f of this.flushes) {
      for (const pos of skips.expired) if (((f.position - pos) | 0) > 0) f.expired++;
      for (const pos of skips.oversize) if (((f.position - pos) | 0) > 0) f.oversize++;
    }
  }

  /**
   * The liveness deadline, checked on the worker's clock tick. nats.js's own stale-connection
   * check waits for its socket's write queue before closing it, which never drains when the peer
   * stops reading; so the socket is destroyed here and nats.js reconnects as after any drop.
   */
  tick(wire: NatsWire | undefined, now: number): void {
    const oldest = this.inFlight.find((e) => !e.done && e.connection === this.connection);
    if (wire === undefined || oldest === undefined || now - oldest.sentAt <= this.deadlineMs) return;
    if (this.killed === this.connection) return;
    this.killed = this.connection;
    wire.destroy();
  }
}

function noneYet(): PassCounts {
  return { messages: 0, bytes: 0, oversize: 0, expired: 0 };
}
