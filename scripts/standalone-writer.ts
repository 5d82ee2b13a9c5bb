/**
 * A RingWriter on its own ring with no worker thread, for the scripts that time the main
 * thread's writes alone (compare-jetstream-cost, compare-second-cpu): connected, no limits in
 * the way, and a release() that frees everything written, as the worker does once confirmed.
 */
import { RingWriter } from '../src/ring-writer.js';
import {
  CONFIRMED_OFF,
  CONFIRMED_POS,
  CONNECTION,
  Connection,
  RELEASED_MSGS,
  allocateRing,
  geometryFor,
  viewsOf,
} from '../src/shared/layout.js';

export interface StandaloneWriter {
  readonly writer: RingWriter;
  /** Frees everything written so far. */
  release(): void;
}

export function standaloneWriter(bufferBytes: number): StandaloneWriter {
  const g = geometryFor(bufferBytes);
  const views = viewsOf(allocateRing(g), g);
  const control = views.control;
  control[CONNECTION] = Connection.CONNECTED;
  const writer = new RingWriter(views, {
    bytes: bufferBytes,
    messages: 0,
    lowWaterBytes: bufferBytes / 2,
    lowWaterMessages: Number.MAX_SAFE_INTEGER,
    dropOldest: false,
    maxAgeMs: 0,
    refuseWhileDisconnected: false,
  });
  return {
    writer,
    release: () => {
      control[RELEASED_MSGS] = writer.acceptedMessages | 0;
      control[CONFIRMED_OFF] = (writer as unknown as { writeOff: number }).writeOff;
      Atomics.store(control, CONFIRMED_POS, writer.position | 0);
    },
  };
}
