/** Messages between the bench and its subscriber child process (bench/subscriber.ts). */
import type { SeqReport } from './seq.js';

export type SubscriberMode = 'raw' | 'nats';

export type ToSubscriber =
  /**
   * Reply with a report once every sequence in [0, expected) arrived, or after `waitMs` at most;
   * missing sequences below `split` are counted apart.
   */
  | { type: 'report'; expected: number; waitMs: number; split: number }
  | { type: 'exit' };

export type FromSubscriber =
  | { type: 'ready' }
  /** Sent every `progressMs` while messages arrive (nats mode) with cumulative counts. */
  | { type: 'progress'; at: number; received: number; unique: number }
  /** After a reconnect, once the server has acknowledged the re-sent SUB (a PONG after it). */
  | { type: 'resubscribed'; at: number }
  | { type: 'disconnected'; at: number }
  | { type: 'report'; report: SeqReport; firstAt: number; lastAt: number; waitedMs: number };
