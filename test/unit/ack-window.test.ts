/**
 * The JetStream confirmation rule on its own: out-of-order acks release only a settled head,
 * 503s are retried with backoff for a bounded time, error acks are final, ack timeouts send again.
 */
import { describe, expect, it } from 'vitest';
import { AckWindow, Entry, type AckCounters, type Rejection } from '../../worker/ack-window.js';
import { AckKind, ParsedAck, type AckKindValue } from '../../worker/jetstream-acks.js';

function setup(maxPendingAcks = 8, noRespondersRetryMs = 1000) {
  const counters: AckCounters = { stored: 0, duplicates: 0, serverRejected: 0, ackTimeouts: 0, retries: 0 };
  const rejected: Rejection[] = [];
  const w = new AckWindow({ ackTimeoutMs: 100, maxPendingAcks, noRespondersRetryMs }, counters, (r) => rejected.push(r));
  const ack = (seq: number, kind: AckKindValue, now = 0, errCode = 0): void => {
    const a = new ParsedAck();
    a.seq = seq;
    a.kind = kind;
    a.errCode = errCode;
    a.code = kind === AckKind.ERROR ? 400 : 0;
    a.description = kind === AckKind.ERROR ? 'bad' : '';
    w.ack(a, now);
  };
  return { w, counters, rejected, ack };
}

describe('AckWindow', () => {
  it('releases only up to the first message not yet acked, whatever order acks come in', () => {
    const { w, counters, ack } = setup();
    for (let s = 0; s < 5; s++) w.sent(s, s * 10, 10, 0);
    ack(2, AckKind.STORED);
    ack(1, AckKind.STORED);
    expect(w.settledHead()).toBe(0);
    ack(0, AckKind.STORED);
    expect(w.settledHead()).toBe(3);
    w.release(3);
    expect(w.base).toBe(3);
    ack(4, AckKind.DUPLICATE);
    ack(3, AckKind.ERROR, 0, 10077);
    expect(w.settledHead()).toBe(2);
    expect(counters).toEqual({ stored: 4, duplicates: 1, serverRejected: 1, ackTimeouts: 0, retries: 0 });
    expect(w.outstanding).toBe(0);
  });

  it('counts a late ack of an earlier copy as a duplicate only, not stored twice', () => {
    const { w, counters, ack } = setup();
    w.sent(0, 0, 10, 0);
    ack(0, AckKind.STORED);
    ack(0, AckKind.DUPLICATE);
    w.release(w.settledHead());
    ack(0, AckKind.DUPLICATE); // after release
    expect([counters.stored, counters.duplicates]).toEqual([1, 2]);
  });

  it('an error ack is final: rejected once, reported with its frame, never due again', () => {
    const { w, rejected, ack } = setup();
    w.sent(0, 40, 12, 0);
    ack(0, AckKind.ERROR, 0, 10077);
    expect(rejected).toEqual([{ seq: 0, off: 40, len: 12, code: 400, errCode: 10077, description: 'bad' }]);
    const resent: number[] = [];
    w.due(10_000, (s) => resent.push(s));
    expect(resent).toEqual([]);
    expect(w.settled(0)).toBe(true);
  });

  it('retries a 503 with growing backoff, then rejects it after the bound', () => {
    const { w, counters, rejected, ack } = setup(8, 1000);
    let now = 0;
    w.sent(0, 0, 10, now);
    const times: number[] = [];
    while (rejected.length === 0 && now < 5000) {
      ack(0, AckKind.NO_RESPONDERS, now);
      if (rejected.length > 0) break;
      expect(w.stateOf(0)).toBe(Entry.RETRY);
      for (let resent = false; !resent; now += 10) {
        w.due(now, (seq, pos, len) => {
          w.sent(seq, pos, len, now);
          times.push(now);
          resent = true;
        });
      }
    }
    expect(rejected[0]).toMatchObject({ seq: 0, code: 503, errCode: 0 });
    expect(now).toBeGreaterThanOrEqual(1000);
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!); // backoff grows
    expect(counters.retries).toBe(times.length);
    expect(counters.serverRejected).toBe(1);
  });

  it('sends again after ackTimeout with the same frame, counted', () => {
    const { w, counters } = setup();
    w.sent(0, 0, 10, 0);
    w.sent(1, 10, 20, 50);
    const resent: [number, number, number][] = [];
    w.due(99, (s, p, l) => resent.push([s, p, l]));
    expect(resent).toEqual([]);
    w.due(120, (s, p, l) => {
      resent.push([s, p, l]);
      w.sent(s, p, l, 120);
    });
    expect(resent).toEqual([[0, 0, 10]]);
    expect(w.nextDeadline).toBe(150);
    expect(counters).toMatchObject({ ackTimeouts: 1, retries: 1 });
  });

  it('after a disconnect nothing is outstanding and everything unsettled is sent again', () => {
    const { w, ack } = setup(2);
    w.sent(0, 0, 10, 0);
    w.sent(1, 10, 10, 0);
    expect(w.full).toBe(true);
    ack(1, AckKind.STORED);
    w.disconnected();
    expect(w.full).toBe(false);
    expect([w.settled(0), w.settled(1), w.stateOf(0)]).toEqual([false, true, Entry.UNSENT]);
  });

  it('dropBefore forgets messages the ring dropped without an ack', () => {
    const { w } = setup();
    w.sent(0, 0, 10, 0);
    w.sent(1, 10, 10, 0);
    w.dropBefore(1);
    expect([w.base, w.outstanding]).toEqual([1, 1]);
    w.dropBefore(5);
    expect([w.base, w.end, w.outstanding]).toEqual([5, 5, 0]);
  });

  it('grows behind a stuck head and keeps every entry (seeded, against a plain model)', () => {
    const { w, ack } = setup(4);
    const model = new Map<number, string>();
    let x = 7;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    let next = 2 ** 32 - 50; // across the 2^32 boundary of the index arithmetic
    w.release(next);
    w.sent(next, 0, 1, 0); // the stuck head
    model.set(next++, 'sent');
    for (let i = 0; i < 5000; i++) {
      w.sent(next, next % 1000, 1, 0);
      model.set(next, 'sent');
      if (rand(3) !== 0) {
        const seq = next - rand(3);
        if (seq > w.base) {
          ack(seq, AckKind.STORED);
          model.set(seq, 'stored');
        }
      }
      next++;
    }
    for (const [seq, s] of model) expect(w.stateOf(seq)).toBe(s === 'stored' ? Entry.STORED : Entry.SENT);
    expect(w.settledHead()).toBe(0);
  });
});
