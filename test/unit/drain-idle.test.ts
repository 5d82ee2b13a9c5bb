/**
 * How the drain loop goes idle: after its last frames it keeps looking every millisecond for a
 * while (WORKER_IDLE stays 0, so a caller publishing again needs no Atomics.notify, which costs
 * the caller ~15 µs), and only then sleeps on WRITE_POS (WORKER_IDLE 1, no timers). The real
 * RingWriter, RingReader, DrainLoop and PongConfirmation on one ring; a fake socket whose PINGs
 * are answered at once; fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RingWriter } from '../../src/ring-writer.js';
import { CONFIRMED_POS, WORKER_IDLE, allocateRing, geometryFor, viewsOf } from '../../src/shared/layout.js';
import { SubjectCache } from '../../src/subjects.js';
import { Admit, type Confirmation, type ConfirmationHooks } from '../../worker/confirmation.js';
import { DrainLoop } from '../../worker/drain-loop.js';
import type { NatsWire } from '../../worker/nats-wire.js';
import { PongConfirmation } from '../../worker/pong-confirmation.js';
import { RingReader } from '../../worker/ring-reader.js';

const BYTES = 64 * 1024;

/** A rule that, like JetStream acks, never makes the loop wait: confirmations come when they come. */
function neverWaiting(hooks: ConfirmationHooks, out: { hooks?: ConfirmationHooks }): Confirmation {
  out.hooks = hooks;
  return {
    idle: true,
    waiting: false,
    attach: () => {},
    reset: () => {},
    connectionLost: () => {},
    beginPass: () => {},
    admit: () => Admit.SEND,
    skipped: () => {},
    afterPass: () => {},
    addFlush: () => {},
    cancelFlush: () => {},
    tick: () => {},
  };
}

function setup(rule?: (hooks: ConfirmationHooks) => Confirmation) {
  const g = geometryFor(BYTES);
  const views = viewsOf(allocateRing(g), g);
  const writer = new RingWriter(views, {
    bytes: BYTES,
    messages: 0,
    lowWaterBytes: BYTES / 2,
    lowWaterMessages: Number.MAX_SAFE_INTEGER,
    dropOldest: false,
    maxAgeMs: 0,
    refuseWhileDisconnected: false,
  });
  const reader = new RingReader(views);
  const written: Uint8Array[] = [];
  const wire = {
    ready: true,
    connectionIdentity: {},
    headers: true,
    maxPayload: 1024 * 1024,
    write: (frames: Uint8Array) => written.push(frames.slice()),
    ping: () => Promise.resolve(),
    destroy: () => {},
  };
  const loop = new DrainLoop(
    reader,
    {
      maxInFlightBytes: BYTES / 2,
      maxWriteBytes: 16 * 1024,
      lowWaterBytes: BYTES / 2,
      lowWaterMessages: Number.MAX_SAFE_INTEGER,
      bufferWhileDisconnected: true,
      maxBufferedAgeMs: 0,
    },
    { onConfirm: () => {}, onReopen: () => {}, onOversize: () => {}, onFlushed: () => {} },
    1024 * 1024,
    rule ?? ((hooks) => new PongConfirmation(reader, hooks, 2 ** 40)),
  );
  const prefix = new SubjectCache().prefix('idle.test');
  const publish = (): void => {
    expect(writer.tryWrite(prefix, 'x', 1)).toBe(true);
    writer.publish();
  };
  return { control: views.control, writer, loop, wire: wire as unknown as NatsWire, written, publish };
}

describe('the drain loop going idle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('looks for new frames every millisecond for a while before it sleeps on WRITE_POS', async () => {
    const { control, writer, loop, wire, written, publish } = setup();
    loop.attach(wire);
    publish();
    await vi.advanceTimersByTimeAsync(2);
    expect(written).toHaveLength(1);
    expect(control[CONFIRMED_POS]).toBe(writer.position); // the PONG came back
    // Quiet, but still looking: a caller publishing now has nobody to wake.
    await vi.advanceTimersByTimeAsync(3);
    expect(control[WORKER_IDLE]).toBe(0);
    publish();
    await vi.advanceTimersByTimeAsync(2);
    expect(written).toHaveLength(2); // sent by a timer pass, not by a wake-up
    // A longer quiet spell: asleep, with no timer left running.
    await vi.advanceTimersByTimeAsync(20);
    expect(control[WORKER_IDLE]).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    loop.stop();
  });

  it('starts the quiet spell again on each confirmation, which may come long after the last frame', async () => {
    const captured: { hooks?: ConfirmationHooks } = {};
    const { control, loop, wire, written, publish } = setup((hooks) => neverWaiting(hooks, captured));
    loop.attach(wire);
    publish();
    await vi.advanceTimersByTimeAsync(1);
    expect(written).toHaveLength(1);
    // Acks trickling in, each kicking a pass with nothing to send: activity, not idleness.
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(4);
      captured.hooks!.onRelease();
    }
    await vi.advanceTimersByTimeAsync(2);
    expect(control[WORKER_IDLE]).toBe(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(control[WORKER_IDLE]).toBe(1);
    loop.stop();
  });
});
