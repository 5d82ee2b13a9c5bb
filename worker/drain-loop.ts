/**
 * Moves frames from the ring to the connection while it is connected: contiguous runs of whole
 * frames in large writes, one PING after each pass, and space released only when its PONG returns.
 * After a reconnect it resends from the last confirmed position (at-least-once; resends counted).
 */
import { State, STATE, Stat, WORKER_IDLE, WRITE_POS } from '../src/shared/layout.js';
import type { DrainSettings } from '../src/shared/protocol.js';
import { Admit, type Confirmation, type ConfirmationHooks } from './confirmation.js';
import type { NatsWire } from './nats-wire.js';
import type { RingReader } from './ring-reader.js';

/** A pass hands over at most this much before yielding, so PONGs and timers get a turn. */
const MAX_PASS_BYTES = 1024 * 1024;
/** Sleeping on an empty ring is sliced, with a re-check after each slice. */
const IDLE_SLICE_MS = 1000;
/** How long to let a busy producer fill the ring before the next pass (see lingerThenPass). */
const LINGER_MS = 1;
/**
 * Passes that find nothing to send, LINGER_MS apart, before the worker sleeps on WRITE_POS. A
 * sleeping worker costs the publishing thread ~15 µs to wake (Atomics.notify on an async waiter
 * posts a task to this thread's loop and a syscall wakes it: as much as 200 small publishes), so
 * a caller that publishes again within ~IDLE_POLLS ms (after a flush, say) finds the worker awake
 * and pays nothing. Each look costs this thread a timer wake-up (~25 µs of CPU on the project's
 * VM), so the window is short: longer ones saved the caller less than they cost here.
 */
const IDLE_POLLS = 5;

export interface DrainHooks {
  /** Called after each release of confirmed space (close waits on it). */
  onConfirm(): void;
  /** The worker lifted the full state. */
  onReopen(): void;
  /** A frame was dropped because the server's max_payload is smaller than its payload. */
  onOversize(size: number, maxPayload: number): void;
  /** A server answered a PING after flush `id`'s position; counts of records skipped before it. */
  onFlushed(id: number, expired: number, oversize: number): void;
}

export class DrainLoop {
  private wire: NatsWire | undefined;
  private connection: object | undefined;
  /** What confirms handed-over records and answers flushes (PONGs in core mode, acks in JetStream mode). */
  readonly confirmation: Confirmation;
  private scheduled: 'no' | 'soon' | 'now' = 'no';
  private linger: NodeJS.Timeout | undefined;
  private sleeping = false;
  /** Passes in a row that found nothing to send (see IDLE_POLLS). */
  private idlePolls = 0;
  private stopped = false;
  /** Frames before this position were reported over max_payload already (one event per frame). */
  private oversizeReportedTo: number;
  maxPayload: number;

  constructor(
    private readonly ring: RingReader,
    private readonly settings: DrainSettings,
    private readonly hooks: DrainHooks,
    maxPayload: number,
    /** Builds the confirmation rule, given the hooks it calls back into this loop with. */
    confirmationRule: (hooks: ConfirmationHooks) => Confirmation,
  ) {
    this.maxPayload = maxPayload;
    this.oversizeReportedTo = ring.confirmedPos;
    this.confirmation = confirmationRule({
      onRelease: () => {
        // Activity: the quiet spell (IDLE_POLLS) starts again. JetStream acks come in many
        // chunks after the last frame went out, each kicking a pass that finds nothing to send.
        this.idlePolls = 0;
        this.reopenIfRoom();
        this.hooks.onConfirm();
        this.kick();
      },
      onFlushed: (id, expired, oversize) => this.hooks.onFlushed(id, expired, oversize),
    });
  }

  attach(wire: NatsWire): void {
    this.wire = wire;
    this.confirmation.attach(wire);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.linger !== undefined) clearTimeout(this.linger);
  }

  /** Everything written so far is confirmed. */
  get idle(): boolean {
    return this.confirmation.idle;
  }

  /** The worker's clock tick: the confirmation rule's deadlines. */
  tick(now: number): void {
    if (this.wire?.ready === true) this.confirmation.tick(this.wire, now);
  }

  /** Test hook: a pass while the caller already holds RING_LOCK. */
  passHoldingLock(): void {
    if (this.wire !== undefined && this.wire.ready && !this.stopped) this.passLocked(this.wire);
  }

  /** Schedules a pass after pending I/O (coalesced; cuts a linger short). */
  kick(): void {
    if (this.scheduled === 'now' || this.stopped) return;
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    this.scheduled = 'now';
    setImmediate(() => {
      this.scheduled = 'no';
      this.pass();
    });
  }

  /**
   * Schedules a pass in LINGER_MS: after a pass that caught up with a busy producer, waiting a
   * moment makes the next write and PING carry a millisecond of messages instead of a handful.
   */
  private lingerThenPass(): void {
    if (this.scheduled !== 'no' || this.stopped) return;
    this.scheduled = 'soon';
    this.linger = setTimeout(() => {
      this.linger = undefined;
      this.scheduled = 'no';
      this.pass();
    }, LINGER_MS);
  }

  private pass(): void {
    const wire = this.wire;
    if (wire === undefined || this.stopped || !wire.ready) return; // the reconnect event kicks us again
    const ring = this.ring;
    if (!ring.tryLock()) {
      this.kick(); // the main thread is dropping old frames this instant; try again after I/O
      return;
    }
    try {
      this.passLocked(wire);
    } finally {
      ring.unlock();
    }
  }

  private passLocked(wire: NatsWire): void {
    const ring = this.ring;
    if (wire.connectionIdentity !== this.connection) {
      // A new socket: whatever was not confirmed on the old one may have died in its buffers.
      this.connection = wire.connectionIdentity;
      this.confirmation.reset(this.connection);
      ring.rewind();
    }
    const stats = ring.stats;
    const confirmation = this.confirmation;
    confirmation.beginPass();
    const end = ring.written();
    if (((end - ring.sentPos) | 0) < 0) {
      this.lingerThenPass(); // released past the published end: its publication is on its way
      return;
    }
    let budget = this.settings.maxInFlightBytes - ring.inFlightBytes();
    let passBytes = 0;
    let messages = 0;
    let oversize = 0;
    let expired = 0;
    const maxAge = this.settings.maxBufferedAgeMs;
    const now = ring.now();
    // Released frames are never seen again: keep the mark within 2^31 of the positions it is compared with.
    if (((ring.confirmedPos - this.oversizeReportedTo) | 0) > 0) this.oversizeReportedTo = ring.confirmedPos;
    let runStart = ring.sentOff;
    let runBytes = 0;
    let runMessages = 0;
    /** The rule stopped the pass (no room for more unconfirmed messages): it kicks when there is. */
    let held = false;
    const flushRun = (): void => {
      if (runBytes === 0) return;
      wire.write(ring.view(runStart, runBytes));
      stats[Stat.WRITES]!++;
      stats[Stat.SENT_MSGS]! += runMessages;
      stats[Stat.SENT_BYTES]! += runBytes;
      runBytes = 0;
      runMessages = 0;
    };
    while (ring.sentPos !== end && budget > 0 && passBytes < MAX_PASS_BYTES) {
      const len = ring.frameAtSent();
      // Records that are not sent: padding (the unused tail; the next frame starts at offset 0),
      // stale telemetry (older than maxBufferedAge), and frames over the server's max_payload
      // (it would drop the connection, and we would resend them forever). The last two are
      // released with this pass's PONG and counted.
      // The oversize event is raised once per frame (oversizeReportedTo), not again when resent.
      let skip = 0;
      const admitted = len < 0 ? Admit.SEND : confirmation.admit(ring.sentOff, len);
      if (admitted === Admit.STOP) {
        held = true;
        break;
      }
      if (len < 0) skip = -len;
      else if (admitted === Admit.SKIP) skip = len;
      else if (maxAge > 0 && ((now - ring.stamp(ring.sentOff)) | 0) > maxAge) {
        skip = len;
        expired++;
        confirmation.skipped(ring.sentPos, 'expired', ring.isResend());
      } else if (len > this.maxPayload) {
        const size = this.payloadSize(ring.sentOff, len);
        if (size > this.maxPayload) {
          if (((ring.sentPos - this.oversizeReportedTo) | 0) >= 0) {
            this.hooks.onOversize(size, this.maxPayload);
            this.oversizeReportedTo = (ring.sentPos + len) >>> 0;
          }
          confirmation.skipped(ring.sentPos, 'oversize', ring.isResend());
          skip = len;
          oversize++;
        }
      }
      if (skip !== 0) {
        flushRun();
        ring.advanceSent(skip);
        runStart = ring.sentOff;
        continue;
      }
      if (runBytes > 0 && (runBytes + len > this.settings.maxWriteBytes || ring.sentOff === 0)) {
        flushRun();
        runStart = ring.sentOff;
      }
      if (ring.isResend()) stats[Stat.RESENT_MSGS]!++;
      ring.advanceSent(len);
      runBytes += len;
      runMessages++;
      messages++;
      passBytes += len;
      budget -= len;
    }
    flushRun();
    if (messages > 0 || oversize > 0 || expired > 0) ring.publishSent();
    this.confirmation.afterPass(wire, { messages, bytes: passBytes, oversize, expired });
    if (passBytes > 0) this.idlePolls = 0;
    if (ring.sentPos !== ring.written()) {
      // More to send: go on after I/O, unless the in-flight budget or the rule waits for confirmations (which kick).
      if (!held && this.settings.maxInFlightBytes - ring.inFlightBytes() > 0) this.kick();
    } else if (passBytes > 0) {
      this.lingerThenPass();
    } else if (!this.confirmation.waiting) {
      if (this.idlePolls++ < IDLE_POLLS) this.lingerThenPass();
      else this.sleep();
    }
  }

  /** Waits for the producer on WRITE_POS without blocking the event loop. */
  private sleep(): void {
    if (this.sleeping || this.stopped) return;
    const c = this.ring.control;
    const seen = Atomics.load(c, WRITE_POS);
    Atomics.store(c, WORKER_IDLE, 1);
    // Re-check after raising the flag: a frame committed before it would otherwise not wake us.
    if (Atomics.load(c, WRITE_POS) !== seen) {
      Atomics.store(c, WORKER_IDLE, 0);
      this.kick();
      return;
    }
    this.sleeping = true;
    const waited = Atomics.waitAsync(c, WRITE_POS, seen, IDLE_SLICE_MS);
    const wake = (): void => {
      this.sleeping = false;
      Atomics.store(c, WORKER_IDLE, 0);
      this.kick();
    };
    if (waited.async) waited.value.then(wake);
    else wake();
  }

  /** Lifts a full state once pending falls to the low-water marks (hysteresis; see README). */
  private reopenIfRoom(): void {
    const c = this.ring.control;
    const s = Atomics.load(c, STATE);
    if (s !== State.FULL_BYTES && s !== State.FULL_MESSAGES) return;
    if (this.ring.pendingBytes() > this.settings.lowWaterBytes) return;
    if (this.ring.pendingMessages() > this.settings.lowWaterMessages) return;
    if (Atomics.compareExchange(c, STATE, s, State.OPEN) === s) this.hooks.onReopen();
  }

  /** The payload size a frame declares: the last number on its control line. */
  private payloadSize(off: number, len: number): number {
    const frame = this.ring.view(off, len);
    const cr = frame.indexOf(13);
    let n = 0;
    let scale = 1;
    for (let i = cr - 1; i >= 0; i--) {
      const ch = frame[i]!;
      if (ch < 48 || ch > 57) break;
      n += (ch - 48) * scale;
      scale *= 10;
    }
    return n;
  }
}
