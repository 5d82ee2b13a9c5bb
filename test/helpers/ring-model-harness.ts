/**
 * Drives the real RingWriter, RingReader and DrainLoop on one SharedArrayBuffer, single-threaded,
 * against RingModel. The socket is a fake wire that records the bytes handed over per connection
 * and answers PINGs when a step says so: no NATS behaviour beyond "bytes handed over" and "PONG
 * came back / connection died". The drain loop's setImmediate/setTimeout run on vitest's fake
 * timers, so a step is synchronous and deterministic. Every check throws a ModelViolation.
 */
import { vi } from 'vitest';
import { encodeHeaders } from '../../src/headers.js';
import { REJECT_TOO_LARGE, RingWriter } from '../../src/ring-writer.js';
import {
  ACCEPTED_MSGS,
  CONFIRMED_OFF,
  CONFIRMED_POS,
  CONNECTION,
  Connection,
  LOCKED_BY_MAIN,
  LONG_FRAME,
  NOW,
  PAD_FRAME,
  RELEASED_MSGS,
  RING_LOCK,
  SENT_POS,
  STATE,
  Stat,
  State,
  WRITE_POS,
  allocateRing,
  frameLengthAt,
  geometryFor,
  lengthIndex,
  replaceNonTerminalState,
  stampIndex,
  viewsOf,
  type RingViews,
} from '../../src/shared/layout.js';
import type { DrainSettings } from '../../src/shared/protocol.js';
import { SubjectCache, encodeText, type Prefix } from '../../src/subjects.js';
import { DrainLoop } from '../../worker/drain-loop.js';
import { PongConfirmation } from '../../worker/pong-confirmation.js';
import type { NatsWire } from '../../worker/nats-wire.js';
import { RingReader } from '../../worker/ring-reader.js';
import { HEADERS, REPLIES, SUBJECTS, type Command, type ModelConfig, type MsgSpec } from './ring-model-commands.js';
import {
  RingModel,
  TOO_LARGE,
  messageDifference,
  parseFrames,
  type Admission,
  type Frame,
  type Msg,
  type ReleaseCause,
} from './ring-model.js';

export class ModelViolation extends Error {
  override name = 'ModelViolation';
}

export interface HarnessOptions {
  /** Defect 3 as fixed: after the worker's tick while not connected, no expired frame is left at the head. */
  readonly requireExpiryWhileDisconnected?: boolean;
  /** layout.ts: a frame's stamp is that of the youngest frame starting in its 256 bytes, of its own lap. */
  readonly requireStampOfOwnLap?: boolean;
  /**
   * README: a flush rejects with MESSAGES_DROPPED counting the messages published before it that a
   * policy dropped while it waited. Checked as the worker's counts plus main's (onDropped).
   */
  readonly requireExactFlushCounts?: boolean;
}

/** pingInterval x maxPingOut for the drain loop: never reached here (the liveness deadline is not modelled). */
const LIVENESS_MS = 2 ** 40;

interface Conn {
  readonly id: number;
  readonly identity: object;
  alive: boolean;
  /** Frame bytes handed over on it and not released: its in-flight window. */
  inFlight: number;
  /** Next record the drain loop considers on this connection (set at its first write or PING). */
  cursor: number | undefined;
}

interface Ping {
  readonly conn: Conn;
  /** Records before this one are covered by the PING. */
  readonly recIndex: number;
  state: 'out' | 'pong' | 'rejected';
  ok: (() => void) | undefined;
  fail: ((e: unknown) => void) | undefined;
}

interface Flush {
  readonly id: number;
  /** The write position when flush() was called (not wrapped). */
  readonly pos: number;
  /** Model event sequence when it was added: skips after it count against it. */
  readonly since: number;
  state: 'waiting' | 'answered' | 'cancelled';
  /** Messages before it main released unsent while it waited, as Publisher counts them (onDropped). */
  byMain: number;
}

interface Materialized {
  readonly msg: Msg;
  readonly declared: number;
  readonly size: number;
  readonly payload: Uint8Array | string;
  readonly prefix: Prefix | undefined;
  readonly head: Uint8Array | undefined;
}

/** The fake socket: what the drain loop reads of NatsWire. */
class FakeWire {
  ready = false;
  connectionIdentity: object | undefined = undefined;
  readonly headers = true;
  constructor(
    private readonly harness: RingHarness,
    readonly maxPayload: number,
  ) {}
  write(frames: Uint8Array): void {
    this.harness.onWrite(frames);
  }
  ping(): Promise<void> {
    return this.harness.onPing() as unknown as Promise<void>;
  }
  destroy(): void {
    this.harness.fail('the liveness deadline destroyed the socket (not modelled)');
  }
}

/** A synchronous thenable: the step that answers the PING runs the drain loop's callback at once. */
class PingAnswer {
  constructor(private readonly ping: Ping) {}
  // biome-ignore lint/suspicious/noThenProperty: a synchronous thenable stands in for the PONG's promise
  then(ok: () => void, fail: (e: unknown) => void): void {
    this.ping.ok = ok;
    this.ping.fail = fail;
  }
}

const subjects = new SubjectCache();

export class RingHarness {
  readonly views: RingViews;
  readonly control: Int32Array;
  readonly stats: Float64Array;
  readonly writer: RingWriter;
  readonly reader: RingReader;
  readonly loop: DrainLoop;
  readonly model: RingModel;
  readonly maxInFlightBytes: number;
  private readonly wire: FakeWire;
  private attached = false;
  private readonly conns: Conn[] = [];
  private conn: Conn | undefined;
  /** The connection the drain loop last passed on: only its PONGs release (older ones were rewound). */
  private loopConn: Conn | undefined;
  private readonly pings: Ping[] = [];
  private readonly flushes: Flush[] = [];
  /** Flushes the worker answered during the current step: checked once the model has caught up. */
  private readonly answered: { id: number; expired: number; oversize: number }[] = [];
  /** Messages the producer reported releasing unsent (RingWriter.onDropped), not yet checked. */
  private readonly mainDrops: { pos: number; why: 'oldest' | 'expired' }[] = [];
  private drainEvents = 0;
  private oversizeEvents = 0;
  /** Frames skipped as over max_payload at least once. */
  private oversizeFrames = 0;
  private readonly wireCount = { writes: 0, bytes: 0, frames: 0, resent: 0, pings: 0 };
  private readonly steps: string[] = [];
  /** What the run exercised, so a test can show its runs are not vacuous. */
  readonly tally = {
    ...{ crossedWrap: 0, laps: 0, accepted: 0, refusedFull: 0, refusedOther: 0, lifted: 0, resent: 0, reconnects: 0 },
    ...{ dropped: 0, expiredByMain: 0, expired: 0, oversize: 0, interleaved: 0, flushed: 0, stampFromLaterLap: 0 },
  };

  constructor(
    readonly config: ModelConfig,
    readonly options: HarnessOptions = {},
  ) {
    const g = geometryFor(config.bufferBytes);
    this.views = viewsOf(allocateRing(g), g);
    this.control = this.views.control;
    this.stats = this.views.stats;
    const start = config.start | 0;
    this.control[WRITE_POS] = this.control[CONFIRMED_POS] = this.control[SENT_POS] = start;
    const startOff = Math.floor((g.capacity * config.startOffPermille) / 1000) % g.capacity;
    this.control[CONFIRMED_OFF] = startOff;
    const now = config.nowStart | 0;
    this.control[NOW] = now;
    const initialState = config.refuseWhileDisconnected ? State.DISCONNECTED : State.OPEN;
    this.control[STATE] = initialState;
    this.control[CONNECTION] = Connection.CONNECTING;
    const lowWaterBytes = Math.floor(config.bufferBytes * config.lowWaterMark);
    // As resolveOptions() sets them: no message limit, no message low-water mark.
    const lowWaterMessages = config.messages === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(config.messages * config.lowWaterMark);
    const writerLowWaterMessages = lowWaterMessages;
    // As Publisher's constructor sets them up.
    this.writer = new RingWriter(this.views, {
      bytes: config.bufferBytes,
      messages: config.messages,
      lowWaterBytes,
      lowWaterMessages: writerLowWaterMessages,
      dropOldest: config.dropOldest,
      maxAgeMs: config.maxBufferedAgeMs,
      refuseWhileDisconnected: config.refuseWhileDisconnected,
    });
    this.writer.onReopen = () => this.drainEvents++;
    this.writer.onDropped = (pos, why) => {
      this.mainDrops.push({ pos, why });
      // Publisher.countFlushDrop: against every waiting flush published after it.
      for (const f of this.flushes) if (f.state === 'waiting' && ((f.pos - pos) | 0) > 0) f.byMain++;
    };
    this.reader = new RingReader(this.views);
    this.maxInFlightBytes = Math.min(config.maxInFlightBytes, Math.max(1024, Math.floor(config.bufferBytes / 2)));
    const drain: DrainSettings = {
      maxInFlightBytes: this.maxInFlightBytes,
      maxWriteBytes: config.maxWriteBytes,
      lowWaterBytes,
      lowWaterMessages,
      bufferWhileDisconnected: !config.refuseWhileDisconnected,
      maxBufferedAgeMs: config.maxBufferedAgeMs,
    };
    this.loop = new DrainLoop(
      this.reader,
      drain,
      {
        onConfirm: () => {},
        onReopen: () => this.drainEvents++,
        onOversize: () => this.oversizeEvents++,
        onFlushed: (id, expired, oversize) => this.answered.push({ id, expired, oversize }),
      },
      config.maxPayload,
      (hooks) => new PongConfirmation(this.reader, hooks, LIVENESS_MS),
    );
    this.wire = new FakeWire(this, config.maxPayload);
    this.model = new RingModel(
      {
        capacity: g.capacity,
        bytes: config.bufferBytes,
        messages: config.messages,
        lowWaterBytes,
        lowWaterMessages: writerLowWaterMessages,
        dropOldest: config.dropOldest,
        maxAgeMs: config.maxBufferedAgeMs,
      },
      config.start >>> 0,
      startOff,
      initialState,
      now,
    );
    this.model.onRelease = (rec) => {
      for (const id of rec.frame!.handedOn) this.conns[id]!.inFlight -= rec.len;
    };
  }

  /** Runs one command, then checks every property. */
  step(cmd: Command): void {
    this.steps.push(describe(cmd));
    switch (cmd.t) {
      case 'publish':
        this.publish(cmd.msg);
        break;
      case 'burst':
        for (const m of cmd.msgs) this.publish(m);
        break;
      case 'flood':
        for (let i = 0; i < cmd.n && this.publish(cmd.msg); i++);
        break;
      case 'pass':
        this.pass(cmd.all);
        break;
      case 'pong':
        for (let i = 0; i < cmd.n; i++) {
          const p = this.pings.find((x) => x.state === 'out' && x.conn === this.conn && x.conn.alive);
          if (p === undefined) break;
          this.answer(p);
        }
        break;
      case 'disconnect':
        this.disconnect();
        break;
      case 'connect':
        this.connect(cmd.rejectStale);
        break;
      case 'latePong': {
        const p = this.pings.find((x) => x.state === 'out' && !x.conn.alive);
        if (p !== undefined) this.answer(p);
        break;
      }
      case 'flush':
        this.flush();
        break;
      case 'flushCancel': {
        const f = this.flushes.find((x) => x.state === 'waiting');
        if (f !== undefined) {
          f.state = 'cancelled';
          this.loop.confirmation.cancelFlush(f.id);
        }
        break;
      }
      case 'tick':
        this.tick(cmd.ms);
        break;
      case 'close':
        this.writer.terminate(State.CLOSED);
        if (this.model.state < State.CLOSED) this.model.state = State.CLOSED;
        break;
      case 'racyDrop':
        this.racyDrop(cmd.msg);
        break;
      case 'racyFull':
        this.racyFull(cmd.msg);
        break;
    }
    vi.runAllTicks(); // the writer publishes the tail of a burst in a microtask
    this.checkAll();
  }

  /**
   * After the commands: connect if needed and let the worker run and the server answer until
   * nothing is pending. Every accepted message must then be confirmed or counted as dropped or
   * expired, exactly once, every flush answered, and no full state left standing.
   */
  settle(): void {
    this.steps.push('settle');
    if (this.conn === undefined || !this.conn.alive) this.connect(true);
    for (let round = 0; ; round++) {
      if (round > 20_000) this.fail('settle: the ring never drained');
      this.tick(0);
      this.pass(true);
      const out = this.pings.filter((p) => p.state === 'out' && p.conn === this.conn);
      for (const p of out) this.answer(p);
      vi.runAllTicks();
      this.checkAll();
      const flushing = this.flushes.some((f) => f.state === 'waiting');
      if (out.length === 0 && this.model.pendingBytes() === 0 && !flushing) break;
      if (out.length === 0 && this.reader.sentPos >>> 0 === this.control[WRITE_POS]! >>> 0) {
        this.fail(`settle: nothing in flight and nothing left to send, yet ${flushing ? 'a flush waits' : 'frames are pending'}`);
      }
    }
    const m = this.model;
    if (m.head !== m.records.length) this.fail(`settle: ${m.records.length - m.head} records never released`);
    if (m.releasedMessages !== m.accepted) this.fail('settle: released ≠ accepted');
    for (const rec of m.records) {
      if (rec.frame !== undefined && rec.frame.released === undefined) this.fail(`settle: frame #${rec.frame.id} never released`);
    }
    const s = this.control[STATE]!;
    if (s === State.FULL_BYTES || s === State.FULL_MESSAGES) {
      this.fail(`settle: nothing pending, yet STATE is still ${stateName(s)}: the 'drain' event never comes (defect 5)`);
    }
  }

  stop(): void {
    this.loop.stop();
    vi.clearAllTimers();
  }

  get trace(): string {
    return this.steps.slice(-12).join(' → ');
  }

  // ---- steps ----

  private publish(spec: MsgSpec): boolean {
    const m = this.materialize(spec);
    const place = this.place(m);
    const since = this.model.seq;
    const want = this.model.admit(place.pad, place.frame, this.connected, this.config.refuseWhileDisconnected);
    const ok = this.write(m);
    this.apply(m, place, want, ok, since);
    return ok;
  }

  private write(m: Materialized): boolean {
    return m.head !== undefined ? this.writer.tryWriteHead(m.head, m.payload, m.size) : this.writer.tryWrite(m.prefix!, m.payload, m.size);
  }

  private place(m: Materialized): { pad: number; frame: number } {
    if (m.head !== undefined) return this.model.placeTryWriteHead(m.head.length, m.size);
    const aligned = typeof m.payload !== 'string' && m.size >= 64 ? m.payload.byteOffset : undefined;
    return this.model.placeTryWrite(m.prefix!.bytes, m.size, aligned);
  }

  /** Holds the writer's answer against the model's (which has already moved), and checks what it wrote. */
  private apply(m: Materialized, place: { pad: number; frame: number }, want: Admission, ok: boolean, since: number): void {
    const model = this.model;
    if (ok !== want.accept) {
      const why = want.accept ? 'accepted' : `refused (${want.rejection === TOO_LARGE ? 'too large' : stateName(want.rejection)})`;
      this.fail(
        `publish of a ${place.frame}-byte frame (pad ${place.pad}) returned ${ok}; the model says ${why}: pending ${model.pendingBytes()} B / ` +
          `${model.pendingMessages()} msgs, STATE ${stateName(model.state)}, ${this.connected ? 'connected' : 'not connected'}`,
      );
    }
    if (want.accept) {
      const first = model.records.length;
      model.commit(place.pad, place.frame, m.msg, m.declared);
      for (let i = first; i < model.records.length; i++) {
        const rec = model.records[i]!;
        const byte = this.views.lengths[lengthIndex(rec.off)]!;
        const wantByte = rec.frame === undefined ? PAD_FRAME : Math.min(rec.len, LONG_FRAME);
        if (byte !== wantByte) this.fail(`the length byte at offset ${rec.off} is ${byte}, the model says ${wantByte}`);
        if (frameLengthAt(this.views, rec.off) !== rec.len)
          this.fail(`frameLengthAt(${rec.off}) is ${frameLengthAt(this.views, rec.off)}, the model says ${rec.len}`);
        if (rec.frame !== undefined && this.views.stamps[stampIndex(rec.off)] !== model.now)
          this.fail(`frame at ${rec.off} stamped ${this.views.stamps[stampIndex(rec.off)]}, NOW is ${model.now}`);
      }
    } else {
      if (isFull(want.rejection)) this.tally.refusedFull++;
      else this.tally.refusedOther++;
      const rejection = this.writer.rejection === REJECT_TOO_LARGE ? TOO_LARGE : this.writer.rejection;
      if (rejection !== want.rejection) this.fail(`refusal reason ${rejection}, the model says ${want.rejection}`);
    }
    this.checkMainDrops(since);
    this.checkState('publish');
  }

  /** RingWriter.onDropped: once per message the producer released unsent, with its position and cause. */
  private checkMainDrops(since: number): void {
    const want = this.model.records.filter(
      (r) =>
        r.frame?.releasedAt !== undefined &&
        r.frame.releasedAt > since &&
        (r.frame.released === 'dropped' || r.frame.released === 'expiredByMain'),
    );
    const got = this.mainDrops.splice(0);
    const describeDrops = (l: { pos: number; why: string }[]): string => l.map((d) => `${d.why}@${d.pos >>> 0}`).join(',');
    const expected = want.map((r) => ({ pos: r.pos >>> 0, why: r.frame!.released === 'dropped' ? 'oldest' : 'expired' }));
    if (describeDrops(got) !== describeDrops(expected))
      this.fail(`onDropped reported [${describeDrops(got)}], the model released [${describeDrops(expected)}]`);
  }

  /**
   * STATE against the model. Tolerated: a full state lifted at once by whoever raised it, if
   * pending is at the low-water marks (the producer re-checks after raising: defect 5).
   */
  private checkState(where: string): void {
    const got = this.control[STATE]!;
    const model = this.model;
    if (got === model.state) return;
    if (isFull(model.state) && got === State.OPEN && model.belowLowWater()) {
      model.state = State.OPEN;
      model.drains++;
      return;
    }
    this.fail(`${where}: STATE is ${stateName(got)}, the model says ${stateName(model.state)}`);
  }

  private pass(all: boolean): void {
    if (this.conn?.alive === true && this.attached) this.loopConn = this.conn;
    this.loop.kick(); // the producer's wake-up (Atomics.notify) or a confirmation
    if (all) vi.runAllTimers();
    else vi.advanceTimersToNextTimer();
    const c = this.conn;
    if (c?.alive === true && this.attached) {
      // What it passed over without a write or PING yet was judged at this step's NOW.
      const model = this.model;
      const from = Math.max(c.cursor ?? model.head, model.head);
      const to = model.recordAt(this.reader.sentPos, model.head);
      if (to === undefined || to < from) {
        this.fail(`after a pass the loop is at ${this.reader.sentPos >>> 0}, not a record boundary at or after the last frame handed over`);
      }
      for (let i = from; i < to; i++) this.skip(c, i);
      c.cursor = to;
    }
    if (all && this.conn?.alive === true && this.attached) {
      // Progress: it hands over everything it may (or waits for PONGs with the window full).
      const sent = this.reader.sentPos >>> 0;
      const written = this.control[WRITE_POS]! >>> 0;
      const inFlight = (sent - (this.control[CONFIRMED_POS]! >>> 0)) >>> 0;
      if (sent !== written && inFlight < this.maxInFlightBytes) {
        this.fail(`pass stopped at ${sent} before ${written} with only ${inFlight} of ${this.maxInFlightBytes} bytes in flight`);
      }
    }
  }

  /** worker/index.ts tick(): NOW, the liveness deadline, and while not connected the 'expired' nudge to main. */
  private tick(ms: number): void {
    const model = this.model;
    model.now = (model.now + ms) | 0;
    Atomics.store(this.control, NOW, model.now);
    this.loop.tick(Date.now());
    const c = this.control;
    const maxAge = this.config.maxBufferedAgeMs;
    if (maxAge > 0 && Atomics.load(c, CONNECTION) !== Connection.CONNECTED) {
      const head = Atomics.load(c, CONFIRMED_POS);
      if (head !== Atomics.load(c, WRITE_POS) && ((model.now - this.reader.headStamp()) | 0) > maxAge) {
        // Publisher 'expired' message: releaseExpired(), then reopenIfRoom().
        const since = model.seq;
        this.writer.releaseExpired();
        this.writer.reopenIfRoom();
        model.releaseExpired();
        if (isFull(model.state) && (this.config.dropOldest || model.writerMayLift())) {
          model.state = State.OPEN;
          model.drains++;
        }
        this.checkMainDrops(since);
      }
    }
    if (this.options.requireExpiryWhileDisconnected === true && this.conn?.alive !== true) {
      const oldest = model.oldestFrame()?.frame;
      if (oldest !== undefined && model.expired(oldest)) {
        this.fail(
          `tick while not connected left expired frame #${oldest.id} pending (defect 3: maxBufferedAge frees no space during an outage)`,
        );
      }
    }
  }

  private disconnect(): void {
    const c = this.conn;
    if (c === undefined || !c.alive) return;
    c.alive = false;
    this.wire.ready = false;
    // worker/index.ts watchStatus 'disconnect'
    this.loop.confirmation.connectionLost();
    Atomics.store(this.control, CONNECTION, Connection.RECONNECTING);
    if (this.config.refuseWhileDisconnected) {
      replaceNonTerminalState(this.control, State.DISCONNECTED);
      if (this.model.state < State.CLOSED) this.model.state = State.DISCONNECTED;
    }
  }

  private connect(rejectStale: boolean): void {
    if (this.conn?.alive === true) return;
    if (rejectStale) {
      for (const p of this.pings) {
        if (p.state === 'out' && !p.conn.alive) {
          p.state = 'rejected';
          p.fail?.(new Error('disconnected'));
        }
      }
    }
    const c: Conn = { id: this.conns.length, identity: {}, alive: true, inFlight: 0, cursor: undefined };
    this.conns.push(c);
    this.conn = c;
    this.wire.connectionIdentity = c.identity;
    this.wire.ready = true;
    // worker/index.ts connected()
    Atomics.store(this.control, CONNECTION, Connection.CONNECTED);
    Atomics.compareExchange(this.control, STATE, State.DISCONNECTED, State.OPEN);
    if (this.model.state === State.DISCONNECTED) this.model.state = State.OPEN;
    if (this.attached) this.loop.kick();
    else {
      this.attached = true;
      this.loop.attach(this.wire as unknown as NatsWire);
    }
  }

  /** Publisher.flush(): the position published first, then the worker holds the flush and kicks. */
  private flush(): void {
    const id = this.flushes.length + 1;
    const position = this.writer.position;
    if (position !== this.model.writePos >>> 0)
      this.fail(`writer.position ${position}, the model's write position ${this.model.writePos >>> 0}`);
    this.flushes.push({ id, pos: this.model.writePos, since: this.model.seq, state: 'waiting', byMain: 0 });
    this.loop.confirmation.addFlush(id, position);
    this.loop.kick();
  }

  /** Resolves one PING: the drain loop releases through it if it is on the connection it serves. */
  private answer(p: Ping): void {
    p.state = 'pong';
    const model = this.model;
    // PongConfirmation.connectionLost(): a PONG that comes back after the disconnect releases
    // nothing (main may have released from the head meanwhile); its frames are resent instead.
    const releases = p.conn === this.loopConn && p.conn.alive;
    const stateBefore = model.state;
    p.ok?.();
    if (releases) {
      if (p.recIndex > model.head) model.release(p.recIndex, (f) => this.causeOnPong(f, p));
      // The worker checks the low-water marks after each confirmation (README "The full flag").
      if (isFull(stateBefore) && stateBefore === model.state) {
        const got = this.control[STATE]!;
        const pending = `${model.pendingBytes()} B, ${model.pendingMessages()} msgs`;
        if (got === State.OPEN) {
          if (!model.belowLowWater())
            this.fail(`PONG: the worker lifted ${stateName(stateBefore)} above the low-water marks (pending ${pending})`);
          model.state = State.OPEN;
          model.drains++;
        } else if (model.belowLowWater()) {
          this.fail(`PONG: pending fell to the low-water marks (${pending}) but ${stateName(got)} stays: no 'drain'`);
        }
      }
    }
    this.checkFlushes();
  }

  /**
   * Flushes the worker answered: only once every message published before it was confirmed by a
   * PONG or dropped, reporting (README) the ones a policy dropped while it waited: here the
   * worker's skips (expired, over max_payload) of those messages after the flush was added.
   */
  private checkFlushes(): void {
    const model = this.model;
    for (const a of this.answered.splice(0)) {
      const f = this.flushes[a.id - 1];
      if (f === undefined || f.state !== 'waiting') this.fail(`flush ${a.id} answered though it is ${f?.state ?? 'unknown'}`);
      f.state = 'answered';
      this.tally.flushed++;
      if (model.headPos < f.pos) {
        const first = model.oldestFrame()?.frame;
        this.fail(`flush ${f.id} answered while frame #${first?.id} published before it is neither confirmed nor dropped (defect 4)`);
      }
      if (this.options.requireExactFlushCounts !== true) continue;
      // Dropped while it waited: pending when it was added, then released unsent (by main, or by
      // the worker's PONG after a skip).
      let dropped = 0;
      for (const r of model.records) {
        if (r.pos >= f.pos) break;
        const fr = r.frame;
        if (fr === undefined) continue;
        const unsent =
          fr.released === 'dropped' || fr.released === 'expiredByMain' || fr.released === 'expired' || fr.released === 'oversize';
        if (unsent && fr.releasedAt! > f.since) dropped++;
      }
      const reported = a.expired + a.oversize + f.byMain;
      if (reported !== dropped) {
        this.fail(
          `flush ${f.id} reports ${reported} dropped (worker: ${a.expired} expired, ${a.oversize} oversize; main: ${f.byMain}); ` +
            `${dropped} of the messages before it were dropped while it waited (defect 4)`,
        );
      }
    }
  }

  private causeOnPong(f: Frame, p: Ping): ReleaseCause {
    if (f.handedOn.has(p.conn.id)) return 'confirmed';
    const skipped = f.skippedOn.get(p.conn.id);
    if (skipped !== undefined) return skipped;
    return this.fail(`PONG on connection ${p.conn.id} released frame #${f.id}, which was never handed over on it`);
  }

  /** Defect 2: the worker reconnects and resends between main reading CONNECTION and dropping. */
  private racyDrop(spec: MsgSpec): void {
    if (this.conn?.alive === true || !this.config.dropOldest || this.config.refuseWhileDisconnected || this.model.state !== State.OPEN) {
      this.publish(spec);
      return;
    }
    const m = this.materialize(spec);
    const place = this.place(m);
    const { result: ok, interleaved } = interleave(
      (ta, index, expected, replacement) => ta === this.control && index === RING_LOCK && expected === 0 && replacement === LOCKED_BY_MAIN,
      () => {
        this.connect(true);
        this.pass(true);
      },
      () => this.write(m),
    );
    this.tally.interleaved += interleaved ? 1 : 0;
    // Linearised as: the worker's reconnect and resend, then the publish (it cannot go first: its drop came after them).
    const since = this.model.seq;
    const want = this.model.admit(place.pad, place.frame, this.connected, this.config.refuseWhileDisconnected);
    this.apply(m, place, want, ok, since);
    if (!interleaved) {
      this.connect(true);
      this.pass(true);
    }
  }

  /** Defect 5: the worker's last confirmation lands between the writer's limit check and its raising FULL. */
  private racyFull(spec: MsgSpec): void {
    const m = this.materialize(spec);
    const place = this.place(m);
    const since = this.model.seq;
    const want = this.model.admit(place.pad, place.frame, this.connected, this.config.refuseWhileDisconnected);
    const raised = !want.accept && want.raised !== undefined;
    if (raised) this.model.state = State.OPEN; // raised only at the compare-and-swap the PONGs come before
    const pongAll = (): void => {
      for (const p of this.pings.filter((x) => x.state === 'out' && x.conn === this.conn && x.conn.alive)) this.answer(p);
    };
    const { result: ok, interleaved } = interleave(
      (ta, index, expected, replacement) => ta === this.control && index === STATE && expected === State.OPEN && isFull(replacement),
      pongAll,
      () => this.write(m),
    );
    this.tally.interleaved += interleaved ? 1 : 0;
    if (raised) this.model.state = want.raised;
    if (interleaved && !raised) this.fail('racyFull: the writer raised FULL where the model accepts');
    this.apply(m, place, want, ok, since);
    if (!interleaved) pongAll();
  }

  // ---- the fake socket ----

  onWrite(frames: Uint8Array): void {
    const c = this.conn;
    if (c === undefined || !c.alive || !this.wire.ready) return this.fail('bytes handed to a socket that is not connected');
    const ring = this.views.bytes;
    if (
      frames.buffer !== ring.buffer ||
      frames.byteOffset < ring.byteOffset ||
      frames.byteOffset + frames.length > ring.byteOffset + ring.length
    ) {
      this.fail('a write that is not a view of the ring');
    }
    const parsed = (() => {
      try {
        return parseFrames(frames.slice());
      } catch (e) {
        return this.fail(`connection ${c.id}: ${(e as Error).message}`);
      }
    })();
    if (parsed.length === 0) this.fail('an empty write');
    if (parsed.length > 1 && frames.length > this.config.maxWriteBytes) {
      this.fail(`a write of ${frames.length} bytes, over maxWriteBytes, with ${parsed.length} frames`);
    }
    this.wireCount.writes++;
    this.wireCount.bytes += frames.length;
    const model = this.model;
    const offset = frames.byteOffset - ring.byteOffset;
    let i = Math.max(c.cursor ?? model.head, model.head);
    // The frames skipped since the last write must be padding, expired, or over max_payload.
    while (i < model.records.length && model.records[i]!.off !== offset) this.skip(c, i++);
    let at = 0;
    for (const f of parsed) {
      const rec = model.records[i];
      if (rec?.frame === undefined)
        return this.fail(`connection ${c.id}: handed over bytes at ring offset ${offset + at} that are no pending frame`);
      const frame = rec.frame;
      if (f.end - at !== rec.len)
        this.fail(`connection ${c.id}: frame #${frame.id} is ${f.end - at} bytes on the wire, ${rec.len} in the ring`);
      const diff = messageDifference(f, frame.msg);
      if (diff !== undefined) this.fail(`connection ${c.id}: frame #${frame.id}: ${diff}`);
      const why = model.skipCause(frame, this.config.maxPayload, rec.len);
      if (why !== undefined) this.fail(`connection ${c.id}: frame #${frame.id} handed over though ${why}`);
      if (c.inFlight >= this.maxInFlightBytes) {
        this.fail(
          `connection ${c.id}: frame #${frame.id} handed over with ${c.inFlight} bytes already in flight (window ${this.maxInFlightBytes})`,
        );
      }
      c.inFlight += rec.len;
      if (frame.handedOn.has(c.id)) this.fail(`connection ${c.id}: frame #${frame.id} handed over twice on one connection`);
      // A resend: passed over before, on a socket that died. Not only handed over: a frame skipped
      // as expired can be sent later, when a younger frame in its 256-byte block renews the stamp.
      if (frame.handedOn.size > 0 || frame.skippedOn.size > 0) this.wireCount.resent++;
      frame.handedOn.add(c.id);
      this.wireCount.frames++;
      if (rec.pos >= 2 ** 32) this.tally.crossedWrap = 1;
      at = f.end;
      i++;
    }
    c.cursor = i;
  }

  onPing(): PingAnswer {
    const c = this.conn;
    if (c === undefined || !c.alive || !this.wire.ready) return this.fail('PING on a socket that is not connected');
    const model = this.model;
    const from = Math.max(c.cursor ?? model.head, model.head);
    const to = model.recordAt(this.reader.sentPos, model.head);
    if (to === undefined || to < from) {
      return this.fail(
        `PING after position ${this.reader.sentPos >>> 0}, which is not a record boundary at or after the last frame handed over`,
      );
    }
    for (let i = from; i < to; i++) this.skip(c, i);
    c.cursor = to;
    this.wireCount.pings++;
    const p: Ping = { conn: c, recIndex: to, state: 'out', ok: undefined, fail: undefined };
    this.pings.push(p);
    return new PingAnswer(p);
  }

  /** Record `i` was passed over on connection `c`: it must be padding or a frame that may not be sent. */
  private skip(c: Conn, i: number): void {
    const rec = this.model.records[i]!;
    const f = rec.frame;
    if (f === undefined) return;
    const why = this.model.skipCause(f, this.config.maxPayload, rec.len);
    if (why === undefined) this.fail(`connection ${c.id}: frame #${f.id} skipped though neither expired nor over max_payload`);
    if (f.skippedOn.has(c.id)) return;
    if (why === 'oversize' && ![...f.skippedOn.values()].includes('oversize')) this.oversizeFrames++;
    f.skippedOn.set(c.id, why);
    f.firstSkip ??= ++this.model.seq;
  }

  // ---- checks ----

  private checkAll(): void {
    const c = this.control;
    const model = this.model;
    const u32 = (n: number): number => n >>> 0;
    const eq = (what: string, got: number, want: number): void => {
      if (got !== want) this.fail(`${what} is ${got}, the model says ${want}`);
    };
    eq('WRITE_POS', u32(c[WRITE_POS]!), u32(model.writePos));
    eq('ACCEPTED_MSGS', c[ACCEPTED_MSGS]!, model.accepted | 0);
    eq('accepted', this.writer.acceptedMessages, model.accepted);
    eq('CONFIRMED_POS', u32(c[CONFIRMED_POS]!), u32(model.headPos));
    eq('CONFIRMED_OFF', c[CONFIRMED_OFF]!, model.headOff);
    eq('RELEASED_MSGS', c[RELEASED_MSGS]!, model.releasedMessages | 0);
    eq('droppedOldest', this.writer.droppedOldest, model.released.dropped);
    eq('writer expired', this.writer.expired, model.released.expiredByMain);
    eq('stats CONFIRMED_MSGS', this.stats[Stat.CONFIRMED_MSGS]!, model.released.confirmed);
    eq('stats EXPIRED', this.stats[Stat.EXPIRED]!, model.released.expired);
    eq('stats DROPPED_OVERSIZE', this.stats[Stat.DROPPED_OVERSIZE]!, model.released.oversize);
    eq('stats SENT_MSGS', this.stats[Stat.SENT_MSGS]!, this.wireCount.frames);
    eq('stats SENT_BYTES', this.stats[Stat.SENT_BYTES]!, this.wireCount.bytes);
    eq('stats WRITES', this.stats[Stat.WRITES]!, this.wireCount.writes);
    eq('stats PINGS', this.stats[Stat.PINGS]!, this.wireCount.pings);
    eq('stats RESENT_MSGS', this.stats[Stat.RESENT_MSGS]!, this.wireCount.resent);
    eq('stats FLUSHES_WAITING', this.stats[Stat.FLUSHES_WAITING] ?? 0, this.flushes.filter((f) => f.state === 'waiting').length);
    eq('writer pendingBytes()', this.writer.pendingBytes(), model.pendingBytes());
    eq('writer pendingMessages()', this.writer.pendingMessages(), model.pendingMessages());
    const walk = this.writer.walkPending();
    eq('walkPending() frames', walk.frames, model.pendingMessages());
    eq('walkPending() bytes', walk.bytes, model.pendingBytes());
    eq("'drain' events", this.drainEvents, model.drains);
    eq('MAX_PAYLOAD_EXCEEDED events (one per frame)', this.oversizeEvents, this.oversizeFrames);
    const oldest = model.oldestFrame();
    if (oldest !== undefined) {
      const ring = model.ringStamp(oldest.off);
      eq('oldestAgeMs()', this.writer.oldestAgeMs(), Math.max(0, (model.now - ring.stamp) | 0));
      if (ring.stampFromLaterLap(oldest.frame!)) {
        this.tally.stampFromLaterLap = 1;
        if (this.options.requireStampOfOwnLap === true) {
          this.fail(
            `frame #${oldest.frame!.id} at offset ${oldest.off} carries the stamp of a frame a later lap wrote into its 256-byte block`,
          );
        }
      }
    } else eq('oldestAgeMs()', this.writer.oldestAgeMs(), 0);
    const sent = u32(c[SENT_POS]!);
    const confirmed = u32(c[CONFIRMED_POS]!);
    if (this.conn?.alive === true && this.loopConn === this.conn && u32(sent - confirmed) > u32(c[WRITE_POS]! - confirmed)) {
      this.fail(`SENT_POS ${sent} outside [CONFIRMED_POS ${confirmed}, WRITE_POS ${u32(c[WRITE_POS]!)}]`);
    }
    // The limits, on the model that the ring was just found equal to.
    const limits = model.limits;
    if (model.pendingFrameBytes() > limits.bytes) this.fail(`${model.pendingFrameBytes()} frame bytes pending, limit ${limits.bytes}`);
    // Frames must not overlap in memory: from the oldest pending frame (a leading pad covers free space) to the write position.
    const span = oldest === undefined ? 0 : model.writePos - oldest.pos;
    if (span > limits.capacity) this.fail(`pending frames span ${span} bytes of a ${limits.capacity}-byte ring`);
    if (limits.messages !== 0 && model.pendingMessages() > limits.messages) {
      this.fail(`${model.pendingMessages()} messages pending, limit ${limits.messages}`);
    }
    this.checkState('after the step');
    const t = this.tally;
    t.laps = (model.writePos - model.start) / limits.capacity;
    t.accepted = model.accepted;
    t.lifted = model.drains;
    t.resent = this.wireCount.resent;
    t.reconnects = Math.max(0, this.conns.length - 1);
    t.dropped = model.released.dropped;
    t.expiredByMain = model.released.expiredByMain;
    t.expired = model.released.expired;
    t.oversize = model.released.oversize;
  }

  private get connected(): boolean {
    return Atomics.load(this.control, CONNECTION) === Connection.CONNECTED;
  }

  /** Messages built from specs (a flood repeats one): all but tail-fitted sizes depend on the spec alone. */
  private readonly built = new WeakMap<MsgSpec, Materialized>();

  private materialize(spec: MsgSpec): Materialized {
    if ('tail' in spec.payload.size) return this.build(spec);
    let m = this.built.get(spec);
    if (m === undefined) this.built.set(spec, (m = this.build(spec)));
    return m;
  }

  private build(spec: MsgSpec): Materialized {
    const subject = SUBJECTS[spec.subject % SUBJECTS.length]!;
    const reply = spec.reply < 0 ? undefined : REPLIES[spec.reply % REPLIES.length]!;
    const headers = spec.headers < 0 ? undefined : encodeText(encodeHeaders(HEADERS[spec.headers % HEADERS.length]!));
    const p = spec.payload;
    const target =
      'abs' in p.size
        ? p.size.abs
        : 'permille' in p.size
          ? Math.floor((this.model.limits.bytes * p.size.permille) / 1000)
          : this.sizeEndingAt(p.size.tail, subject, reply, headers);
    let payload: Uint8Array | string;
    let bytes: Uint8Array;
    if (p.kind === 'bytes') {
      const backing = new Uint8Array(target + p.offset + 8);
      payload = backing.subarray(p.offset, p.offset + target);
      fill(payload, p.seed);
      bytes = payload.slice();
    } else {
      payload = p.unit.repeat(Math.floor(target / Math.max(1, Buffer.byteLength(p.unit))));
      bytes = new Uint8Array(Buffer.from(payload, 'utf8'));
    }
    const size = bytes.length;
    const msg: Msg = { subject, reply, headers, payload: bytes };
    if (reply === undefined && headers === undefined) {
      return { msg, declared: size, size, payload, prefix: subjects.prefix(subject), head: undefined };
    }
    // As Publisher.tryPublishWith builds it.
    const r = reply === undefined ? '' : `${reply} `;
    const head =
      headers === undefined
        ? encodeText(`PUB ${subject} ${r}${size}\r\n`)
        : concat(encodeText(`HPUB ${subject} ${r}${headers.length} ${headers.length + size}\r\n`), headers);
    return { msg, declared: size + (headers?.length ?? 0), size, payload, prefix: undefined, head };
  }

  /** The payload size that makes this message's frame (without alignment spaces) end `past` bytes after the ring's end. */
  private sizeEndingAt(past: number, subject: string, reply: string | undefined, headers: Uint8Array | undefined): number {
    const tail = this.model.limits.capacity - this.model.writeOff;
    const plain = reply === undefined && headers === undefined;
    // Frame = fixed bytes + the digits of the size on the control line (HPUB: header + payload) + payload.
    const fixed = plain
      ? subjects.prefix(subject).bytes + 4
      : Buffer.byteLength(`${headers === undefined ? 'PUB' : 'HPUB'} ${subject} ${reply === undefined ? '' : `${reply} `}`) +
        (headers === undefined ? 0 : String(headers.length).length + 1 + headers.length) +
        4;
    for (let digits = 1; digits <= 7; digits++) {
      const size = tail + past - fixed - digits;
      if (size >= 0 && String(size + (headers?.length ?? 0)).length === digits) return size;
    }
    return 0;
  }

  fail(message: string): never {
    throw new ModelViolation(`${message}\n  last steps: ${this.trace}`);
  }
}

type CasMatcher = (ta: Int32Array, index: number, expected: number, replacement: number) => boolean;

/**
 * Runs `main`; the first time it calls Atomics.compareExchange with arguments `when` matches,
 * `worker` runs just before that call takes effect: a chosen interleaving of the two threads.
 */
function interleave<T>(when: CasMatcher, worker: () => void, main: () => T): { result: T; interleaved: boolean } {
  const atomics = Atomics as unknown as { compareExchange: (ta: Int32Array, i: number, e: number, r: number) => number };
  const original = atomics.compareExchange;
  let interleaved = false;
  atomics.compareExchange = (ta, i, e, r) => {
    if (!interleaved && when(ta, i, e, r)) {
      interleaved = true;
      atomics.compareExchange = original;
      worker();
    }
    return original.call(Atomics, ta, i, e, r);
  };
  try {
    return { result: main(), interleaved };
  } finally {
    atomics.compareExchange = original;
  }
}

function isFull(s: number): boolean {
  return s === State.FULL_BYTES || s === State.FULL_MESSAGES;
}

function stateName(s: number): string {
  return Object.entries(State).find(([, v]) => v === s)?.[0] ?? String(s);
}

/** mulberry32 bytes: reproducible payload content from a seed. */
function fill(b: Uint8Array, seed: number): void {
  let s = seed | 0;
  for (let i = 0; i < b.length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    b[i] = (t ^ (t >>> 14)) & 0xff;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function describe(cmd: Command): string {
  switch (cmd.t) {
    case 'publish':
    case 'racyDrop':
    case 'racyFull':
      return `${cmd.t}(${JSON.stringify(cmd.msg.payload.size)})`;
    case 'burst':
      return `burst(${cmd.msgs.length})`;
    case 'flood':
      return `flood(${cmd.n}×${JSON.stringify(cmd.msg.payload.size)})`;
    case 'pass':
      return cmd.all ? 'pass*' : 'pass';
    case 'pong':
      return `pong(${cmd.n})`;
    case 'connect':
      return cmd.rejectStale ? 'connect' : 'connect(stale pings live on)';
    case 'tick':
      return `tick(${cmd.ms})`;
    default:
      return cmd.t;
  }
}
