/**
 * JetStream mode's rule for what confirms a record: the stream's ack for that message, matched by
 * the sequence in its reply subject (`<inbox>.<seq>`; seq = the message's ordinal in the ring).
 * Acks come out of order; space is released up to the first message neither stored nor rejected.
 * Unacked messages go out again after ackTimeout or a reconnect (same bytes, so the same Msg-Id);
 * 503s are retried with backoff for a bounded time; error acks are final and reported, coalesced.
 */
import { JetStreamFrame } from '../src/jetstream-frame.js';
import { Stat } from '../src/shared/layout.js';
import type { JetStreamWorkerSettings, StreamRejection } from '../src/shared/protocol.js';
import { AckWindow, Entry, type AckCounters, type Rejection } from './ack-window.js';
import { Admit, type Confirmation, type ConfirmationHooks } from './confirmation.js';
import { ParsedAck, parseAck } from './jetstream-acks.js';
import type { NatsWire } from './nats-wire.js';
import type { RingReader } from './ring-reader.js';

/** A rejection being coalesced: its count grows until it is posted. */
export type RejectedEvent = Omit<StreamRejection, 'count'> & { count: number };

interface WaitingFlush {
  readonly id: number;
  readonly position: number;
  expired: number;
  oversize: number;
}

/** Refusals are reported at most this often, one event per subject and error. */
const REJECTED_EVENT_EVERY_MS = 100;
const SPACE = 32;

export class AckConfirmation implements Confirmation {
  private readonly window: AckWindow;
  private readonly counters: AckCounters = { stored: 0, duplicates: 0, serverRejected: 0, ackTimeouts: 0, retries: 0 };
  private readonly parsed = new ParsedAck();
  /** Completes each frame's head (its sequence and header block) before it is first handed over. */
  private readonly frame: JetStreamFrame;
  /** Sequence of the record at the ring's sentRec. */
  private cursor = 0;
  /** RELEASED_MSGS as this side last left it: a difference means main dropped from the head. */
  private seenReleased: number;
  private now = 0;
  private readonly flushes: WaitingFlush[] = [];
  private readonly rejections = new Map<string, RejectedEvent>();
  private lastEventsAt = 0;
  private settleQueued = false;
  private subscribed = false;
  /** Last time an ack arrived or the window went from no outstanding acks to some. */
  private heardAt = 0;
  private killed: object | undefined;
  private connection: object | undefined;

  constructor(
    private readonly ring: RingReader,
    private readonly hooks: ConfirmationHooks,
    private readonly settings: JetStreamWorkerSettings,
    /** pingInterval x maxPingOut: outstanding acks with none arriving for this long kill the socket. */
    private readonly livenessDeadlineMs: number,
    private readonly onRejected: (e: RejectedEvent) => void,
  ) {
    this.window = new AckWindow(settings, this.counters, (r) => this.rejected(r));
    this.frame = new JetStreamFrame(settings.frame);
    this.seenReleased = ring.releasedMsgs;
  }

  get idle(): boolean {
    return this.ring.pendingBytes() === 0;
  }

  /**
   * Never: acks kick the loop when they come, but may not come for a while (lost, held, a 503
   * backoff), and new messages must not wait for them; so the loop sleeps until the producer writes.
   */
  get waiting(): boolean {
    return false;
  }

  attach(wire: NatsWire): void {
    if (this.subscribed) return;
    this.subscribed = true;
    // nats.js keeps the subscription across reconnects and sends SUB before anything we write.
    wire.subscribeRaw(`${this.settings.frame.inbox}.*`, (subject, raw, hdrLen) => this.onAck(subject, raw, hdrLen));
  }

  reset(connection: object | undefined): void {
    this.connection = connection;
    this.window.disconnected();
    this.sync();
    this.cursor = this.window.base;
  }

  /** Nothing to settle first: sync() re-bases the window on whatever main released meanwhile. */
  connectionLost(): void {}

  beginPass(): void {
    this.sync();
    if (this.ring.sentPos === this.ring.confirmedPos) this.cursor = this.window.base;
    this.now = Date.now();
  }

  admit(off: number, len: number): number {
    const w = this.window;
    const seq = this.cursor;
    if (w.settled(seq)) {
      this.cursor++;
      return Admit.SKIP;
    }
    if (w.full) return Admit.STOP;
    if (w.outstanding === 0) this.heardAt = this.now;
    w.sent(seq, off, len, this.now);
    this.frame.completeHead(this.ring.bytes, this.ring.dataView, off, seq);
    this.cursor++;
    return Admit.SEND;
  }

  skipped(pos: number, why: 'expired' | 'oversize', resend: boolean): void {
    this.window.settleUnsent(this.cursor - 1, why === 'expired' ? Entry.EXPIRED : Entry.OVERSIZE);
    if (!resend) for (const f of this.flushes) if (((f.position - pos) | 0) > 0) f[why]++;
    this.queueSettle();
  }

  afterPass(): void {}

  addFlush(id: number, position: number): void {
    this.flushes.push({ id, position, expired: 0, oversize: 0 });
    this.answerFlushes();
  }

  cancelFlush(id: number): void {
    const i = this.flushes.findIndex((f) => f.id === id);
    if (i >= 0) this.flushes.splice(i, 1);
  }

  tick(wire: NatsWire | undefined, now: number): void {
    const w = this.window;
    if (wire !== undefined && wire.ready && now >= w.nextDeadline && this.ring.tryLock()) {
      try {
        w.due(now, (seq, pos, len) => {
          wire.write(this.ring.view(pos, len));
          w.sent(seq, pos, len, now);
        });
      } finally {
        this.ring.unlock();
      }
      this.publishCounters();
    }
    if (this.rejections.size > 0 && now - this.lastEventsAt >= REJECTED_EVENT_EVERY_MS) this.emitRejections(now);
    // Liveness: acks outstanding and none heard for the deadline; nats.js's own check waits for a
    // write queue that never drains when the peer stops reading (see PongConfirmation).
    if (wire !== undefined && w.outstanding > 0 && now - this.heardAt > this.livenessDeadlineMs && this.killed !== this.connection) {
      this.killed = this.connection;
      wire.destroy();
    }
  }

  private onAck(subject: Uint8Array, raw: Uint8Array, hdrLen: number): void {
    const now = Date.now();
    this.heardAt = now;
    parseAck(subject, raw, hdrLen, this.parsed);
    this.window.ack(this.parsed, now);
    this.queueSettle();
  }

  /** Once per burst of acks (they arrive many per socket read): release, count, answer, kick. */
  private queueSettle(): void {
    if (this.settleQueued) return;
    this.settleQueued = true;
    setImmediate(this.settle);
  }

  private readonly settle = (): void => {
    this.settleQueued = false;
    const ring = this.ring;
    if (!ring.tryLock()) {
      this.queueSettle(); // main is dropping from the head this instant
      return;
    }
    try {
      this.sync();
      this.release(this.window.settledHead());
    } finally {
      ring.unlock();
    }
    this.publishCounters();
    this.answerFlushes();
    this.hooks.onRelease();
  };

  /** Releases the first `n` messages of the window from the ring (with RING_LOCK held), counting each by outcome. */
  private release(n: number): void {
    if (n === 0) return;
    const ring = this.ring;
    const w = this.window;
    const stats = ring.stats;
    let pos = ring.confirmedPos;
    let off = ring.confirmedOff;
    let seq = w.base;
    let bytes = 0;
    for (let left = n; left > 0; ) {
      const len = ring.frameAt(off);
      const size = len < 0 ? -len : len;
      pos = (pos + size) >>> 0;
      off = off + size === ring.capacity ? 0 : off + size;
      if (len < 0) continue; // padding: the unused tail of the ring
      switch (w.stateOf(seq)) {
        case Entry.STORED:
          stats[Stat.STORED]!++;
          stats[Stat.CONFIRMED_MSGS]!++;
          bytes += len;
          break;
        case Entry.REJECTED:
          stats[Stat.SERVER_REJECTED]!++;
          break;
        case Entry.EXPIRED:
          stats[Stat.EXPIRED]!++;
          break;
        default:
          stats[Stat.DROPPED_OVERSIZE]!++;
      }
      seq++;
      left--;
    }
    stats[Stat.CONFIRMED_BYTES]! += bytes;
    ring.confirm(pos, off, n);
    w.release(n);
    this.seenReleased = ring.releasedMsgs;
  }

  /** Follows drops main made from the head while not connected (RING_LOCK held or just re-read). */
  private sync(): void {
    const dropped = (this.ring.releasedMsgs - this.seenReleased) | 0;
    if (dropped > 0) this.window.dropBefore(this.window.base + dropped);
    this.seenReleased = this.ring.releasedMsgs;
  }

  private publishCounters(): void {
    const s = this.ring.stats;
    const c = this.counters;
    s[Stat.DUPLICATES] = c.duplicates;
    s[Stat.ACK_TIMEOUTS] = c.ackTimeouts;
    s[Stat.RETRIES] = c.retries;
  }

  /** Answers flushes whose messages are all released (stored, rejected or dropped); events go first. */
  private answerFlushes(): void {
    if (this.flushes.length === 0) return;
    const released = this.ring.confirmedPos;
    let emitted = false;
    for (let i = 0; i < this.flushes.length; ) {
      const f = this.flushes[i]!;
      if (((released - f.position) | 0) >= 0) {
        if (!emitted && this.rejections.size > 0) this.emitRejections(Date.now());
        emitted = true;
        this.flushes.splice(i, 1);
        this.hooks.onFlushed(f.id, f.expired, f.oversize);
      } else i++;
    }
  }

  private rejected(r: Rejection): void {
    const subject = this.subjectOf(r.off, r.len);
    const key = `${subject} ${r.errCode} ${r.code}`;
    const e = this.rejections.get(key);
    if (e !== undefined) e.count++;
    else this.rejections.set(key, { subject, code: r.code, errCode: r.errCode, description: r.description, count: 1 });
  }

  private emitRejections(now: number): void {
    this.lastEventsAt = now;
    for (const e of this.rejections.values()) this.onRejected(e);
    this.rejections.clear();
  }

  /** The subject of the frame at offset `off`: `HPUB <subject> ...`. */
  private subjectOf(off: number, len: number): string {
    const frame = this.ring.view(off, len);
    let end = 5;
    while (end < frame.length && frame[end] !== SPACE) end++;
    return Buffer.from(frame.buffer, frame.byteOffset + 5, end - 5).toString('utf8');
  }
}
