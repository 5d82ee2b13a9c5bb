/**
 * What test/unit/ring-model.test.ts generates and RingHarness runs: the ring's configuration and
 * the commands, as plain data so fast-check prints and shrinks them. Payload bytes come from a
 * seed and sizes may be a share of the byte limit, so counterexamples stay short.
 */
export interface ModelConfig {
  /** reconnectBufSize: the byte limit (the ring is this rounded up to a power of two, ≥ 64 KiB). */
  readonly bufferBytes: number;
  readonly messages: number;
  readonly lowWaterMark: number;
  /** As given; the drain loop gets min(this, max(1024, bufferBytes / 2)), as options.ts does. */
  readonly maxInFlightBytes: number;
  readonly maxWriteBytes: number;
  readonly maxBufferedAgeMs: number;
  /** The server's max_payload as the drain loop knows it. */
  readonly maxPayload: number;
  readonly dropOldest: boolean;
  /** reconnectBufSize -1: STATE reads DISCONNECTED while not connected. */
  readonly refuseWhileDisconnected: boolean;
  /** Initial ring position (uint32): near 2^32 to cross the wrap. */
  readonly start: number;
  /** Initial offset in the frame bytes, in thousandths of the ring (CONFIRMED_OFF): the ring's end comes early. */
  readonly startOffPermille: number;
  /** Initial coarse clock (Int32): near 2^31 to cross its wrap. */
  readonly nowStart: number;
}

/** Payload bytes: absolute, a share of the byte limit, or such that the frame ends `tail` bytes past the ring's end (0 = exact fit). */
export type SizeSpec = { readonly abs: number } | { readonly permille: number } | { readonly tail: number };
export type PayloadSpec =
  | { readonly kind: 'bytes'; readonly size: SizeSpec; readonly seed: number; readonly offset: number }
  | { readonly kind: 'text'; readonly unit: string; readonly size: SizeSpec };
export interface MsgSpec {
  readonly subject: number;
  /** Index into REPLIES, or -1. */
  readonly reply: number;
  /** Index into HEADERS, or -1. */
  readonly headers: number;
  readonly payload: PayloadSpec;
}

export type Command =
  | { readonly t: 'publish'; readonly msg: MsgSpec }
  /** Several publishes in one synchronous block (WRITE_POS is stored every 16 and at the end). */
  | { readonly t: 'burst'; readonly msgs: readonly MsgSpec[] }
  /** Up to `n` copies of one message in one block, until one is refused: tiny frames run the ring out of record slots. */
  | { readonly t: 'flood'; readonly n: number; readonly msg: MsgSpec }
  /** Wake the worker: one scheduled pass, or passes until it waits for a PONG or the producer. */
  | { readonly t: 'pass'; readonly all: boolean }
  /** The server answers the `n` oldest PINGs on the live connection, in order. */
  | { readonly t: 'pong'; readonly n: number }
  | { readonly t: 'disconnect' }
  /** A new socket; `rejectStale`: the dial rejects the dead sockets' PINGs (nats.js resetOutbound). */
  | { readonly t: 'connect'; readonly rejectStale: boolean }
  /** A dead socket's oldest PING is answered after all. */
  | { readonly t: 'latePong' }
  /** flush(): the worker answers once a PONG follows everything published before it. */
  | { readonly t: 'flush' }
  /** A flush({ timeout }) that timed out: the worker forgets the oldest waiting flush. */
  | { readonly t: 'flushCancel' }
  /** The worker's clock tick: NOW advances `ms`, new records are stamped. */
  | { readonly t: 'tick'; readonly ms: number }
  | { readonly t: 'close' }
  /** Drop-oldest publish while disconnected; the worker reconnects and passes inside its lock wait (defect 2). */
  | { readonly t: 'racyDrop'; readonly msg: MsgSpec }
  /** Publish that hits a limit; the PONGs arrive between its decision and its raising FULL (defect 5). */
  | { readonly t: 'racyFull'; readonly msg: MsgSpec };

export const SUBJECTS = ['a', 'b.c', 'abcd.efgh', 'é.ü', 'telemetry.host-01.cpu.load'] as const;
export const REPLIES = ['r', '_INBOX.é.reply'] as const;
export const HEADERS: readonly Record<string, string | string[]>[] = [{ K: 'v' }, { 'Nats-Msg-Id': 'é-1', X: ['1', '2'] }];
