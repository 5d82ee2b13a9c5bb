/**
 * Fault 8: hostile input at volume. Random and huge subjects, invalid UTF-16 (lone surrogates)
 * in strings, payloads at and over max_payload, bad types, and 10^5 distinct subjects, each
 * interleaved with sequence-numbered messages. Bad input must throw a clear, typed error at the
 * call; accepted input must not corrupt its neighbours in the ring (checked by the sequence
 * subscriber), wedge the worker or make the server drop the connection; the subject cache stays
 * bounded.
 */
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import {
  InvalidPayloadError,
  InvalidSubjectError,
  MaxPayloadExceededError,
  MessageTooLargeError,
  MessagesDroppedError,
  type NatsOffloadError,
  type Publisher,
} from '../../../src/index.js';
import { SUBJECT_CACHE_LIMIT } from '../../../src/subjects.js';
import {
  EventLog,
  cleanupsAfterEach,
  delivery,
  expectBalanced,
  expectDelivered,
  flushEventually,
  recordOffload,
  sleep,
  startProxiedRig,
  startPublisher,
  startRig,
  startSubscriber,
  thrown,
  waitUntil,
} from '../../helpers/faults-harness.js';
import { seqPayload } from '../../helpers/sequence.js';
import { mulberry32 } from '../../../scripts/prng.js';

const cleanups = cleanupsAfterEach();

const MAX_PAYLOAD = 1024 * 1024;
const ROUNDS = 20_000;
const DISTINCT_SUBJECTS = 100_000;

const PIECES = [
  'a',
  'b',
  'Z',
  '9',
  '.',
  '.',
  '*',
  '>',
  ' ',
  '\t',
  '\r',
  '\n',
  '\u0000',
  'é',
  '\ud800',
  '\udc00',
  '😀',
  '-',
  '_',
  '$',
  '\u2028',
  '\u007f',
  '\u0001',
  'PUB',
  '\r\n',
];

function randomSubject(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 30);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(rand() * PIECES.length)]!;
  return s;
}

function subjectCacheSize(pub: Publisher): number {
  return (pub as unknown as { subjects: { size: number } }).subjects.size;
}

describe('hostile input at volume', () => {
  it('throws typed errors for bad input and never corrupts neighbouring messages', async () => {
    const { server, sub, subject: seqSubject } = await startRig(cleanups, 'faults.hostile.seq', 1_000_000);
    const many = await startSubscriber(cleanups, { servers: server.url }, 'faults.hostile.many.*', DISTINCT_SUBJECTS);
    // Raw receiver for the payloads whose exact bytes are checked.
    const raw = await connect({ servers: server.url });
    cleanups.add(() => raw.close());
    const rawGot = new Map<string, Uint8Array[]>();
    raw.subscribe('faults.hostile.raw.>', {
      callback: (_e, m) => {
        const list = rawGot.get(m.subject) ?? [];
        list.push(m.data);
        rawGot.set(m.subject, list);
      },
    });
    await raw.flush();

    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
    const events = new EventLog(pub);
    const rand = mulberry32(0x5eed);
    let seq = 0;
    const valid = (): void => {
      pub.publish(seqSubject, seqPayload(seq));
      seq++;
    };
    const wrongErrors: string[] = [];
    const expectThrows = (what: string, fn: () => unknown, cls: new (...a: never[]) => NatsOffloadError, message?: RegExp): void => {
      const e = thrown(fn);
      if (!(e instanceof cls) || (message !== undefined && !message.test(e.message))) {
        wrongErrors.push(
          `${what}: expected ${cls.name}${message ? ` ${message}` : ''}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
        );
      }
    };

    // 1. Random subjects: either InvalidSubjectError, or accepted; whitespace and NUL always refused.
    let randomAccepted = 0;
    let randomRefused = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const subject = randomSubject(rand);
      const payload = rand() < 0.5 ? `p${i}\ud800` : seqPayload(0xffffffff);
      const withOptions = rand() < 0.3;
      const e = thrown(() => (withOptions ? pub.publish(subject, payload, { reply: 'faults.reply' }) : pub.publish(subject, payload)));
      if (e === undefined) {
        randomAccepted++;
        if (/[\s\u0000]/.test(subject)) wrongErrors.push(`accepted a subject with whitespace/NUL: ${JSON.stringify(subject)}`);
      } else if (e instanceof InvalidSubjectError) randomRefused++;
      else wrongErrors.push(`random subject ${JSON.stringify(subject)}: ${String(e)}`);
      valid();
      if (i % 2_000 === 0) await sleep(0);
    }

    // 2. Huge subjects, bad types, bad options and headers.
    expectThrows('subject of 2001 bytes', () => pub.publish('a'.repeat(2001), 'x'), InvalidSubjectError, /2001 bytes/);
    expectThrows('subject of 1 MB', () => pub.publish('a'.repeat(1_000_000), 'x'), InvalidSubjectError);
    expectThrows('subject of 1000 é (2000 bytes ok) + 1', () => pub.publish(`${'é'.repeat(1000)}x`, 'x'), InvalidSubjectError);
    pub.publish(`faults.hostile.raw.${'a'.repeat(1900)}`, 'long subject');
    valid();
    // The longest control line allowed: 2000-byte subject and reply, with headers (under the server's 4096).
    const longest = `faults.hostile.raw.${'b'.repeat(2000 - 19)}`;
    pub.publish(longest, 'longest', { reply: 'r'.repeat(2000), headers: { 'X-A': 'b' } });
    valid();
    for (const bad of [undefined, null, 42, {}, ['a'], Symbol('s')]) {
      expectThrows(`subject ${String(bad)}`, () => pub.publish(bad as unknown as string, 'x'), InvalidSubjectError);
      valid();
    }
    for (const bad of [
      undefined,
      null,
      42,
      {},
      [1, 2],
      new ArrayBuffer(4),
      new DataView(new ArrayBuffer(4)),
      new Uint16Array(2),
      new String('s'),
    ]) {
      expectThrows(
        `payload ${Object.prototype.toString.call(bad)}`,
        () => pub.publish('faults.x', bad as unknown as string),
        InvalidPayloadError,
      );
      valid();
    }
    expectThrows('options null', () => pub.publish('faults.x', 'x', null as unknown as object), InvalidPayloadError);
    expectThrows('reply with space', () => pub.publish('faults.x', 'x', { reply: 'a b' }), InvalidSubjectError);
    expectThrows(
      'header value with CRLF',
      () => pub.publish('faults.x', 'x', { headers: { A: 'v\r\nPUB evil 1\r\n' } }),
      InvalidPayloadError,
    );
    expectThrows('header name with colon', () => pub.publish('faults.x', 'x', { headers: { 'A:B': 'v' } }), InvalidPayloadError);
    expectThrows(
      'header value not a string',
      () => pub.publish('faults.x', 'x', { headers: { A: 1 as unknown as string } }),
      InvalidPayloadError,
    );
    valid();

    // 3. Lone surrogates: encoded as U+FFFD by both the length and the bytes, so framing holds.
    const lone = 'a\ud800b\udc00c\ud83d';
    pub.publish('faults.hostile.raw.lone', lone);
    valid();
    pub.publish('faults.hostile.raw.lonehdr', lone, { headers: { 'X-Lone': lone }, reply: 'faults.r' });
    valid();
    pub.publish(`faults.hostile.raw.subj\ud800`, 'surrogate subject');
    valid();

    // 4. Payloads at and over max_payload (bytes and strings, with and without headers).
    pub.publish('faults.hostile.raw.max', new Uint8Array(MAX_PAYLOAD).fill(0x61));
    valid();
    pub.publish('faults.hostile.raw.maxstr', 'b'.repeat(MAX_PAYLOAD));
    valid();
    expectThrows('payload max+1', () => pub.publish('faults.x', new Uint8Array(MAX_PAYLOAD + 1)), MaxPayloadExceededError);
    expectThrows(
      'string payload over max in UTF-8 only',
      () => pub.publish('faults.x', 'é'.repeat(MAX_PAYLOAD / 2 + 1)),
      MaxPayloadExceededError,
    );
    expectThrows(
      'headers push it over max',
      () => pub.publish('faults.x', new Uint8Array(MAX_PAYLOAD), { headers: { A: 'b' } }),
      MaxPayloadExceededError,
    );
    valid();
    const small = await startPublisher(cleanups, { servers: server.url, reconnectBufSize: 64 * 1024 });
    expectThrows(
      'frame larger than the whole buffer',
      () => small.publish('faults.x', new Uint8Array(70 * 1024)),
      MessageTooLargeError,
      /reconnectBufSize/,
    );
    await small.close();

    // 5. 10^5 distinct subjects, each a sequence message: the cache stays bounded.
    let maxCache = 0;
    for (let i = 0; i < DISTINCT_SUBJECTS; i++) {
      while (!pub.tryPublish(`faults.hostile.many.s${i}`, seqPayload(i))) await sleep(1);
      maxCache = Math.max(maxCache, subjectCacheSize(pub));
      if (i % 1_000 === 0) {
        valid();
        await sleep(0);
      }
    }

    await pub.flush({ timeout: 30_000 });
    const stats = pub.stats();
    await sub.waitFor(seq, 30_000);
    await many.waitFor(DISTINCT_SUBJECTS, 30_000);
    await raw.flush();
    await waitUntil(
      () => rawGot.size >= 7,
      10_000,
      () => `7 raw subjects, have ${[...rawGot.keys()].join(',')}`,
    );
    const report = await pub.close({ timeout: 5_000 });

    expect(wrongErrors).toEqual([]);
    expect(randomAccepted).toBeGreaterThan(0);
    expect(randomRefused).toBeGreaterThan(0);
    expect(maxCache).toBeLessThanOrEqual(SUBJECT_CACHE_LIMIT);
    // No -ERR, no dropped connection, no error event: nothing accepted broke the protocol stream.
    expect(stats.disconnects).toBe(0);
    expect(stats.serverErrors).toBe(0);
    expect(events.errors().map((e) => e.message)).toEqual([]);
    expect(report.unsent).toBe(0);
    expectBalanced(report);

    // Lone surrogates arrive as U+FFFD (EF BF BD), the rest of the payload byte for byte.
    const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
    expect(hex(rawGot.get('faults.hostile.raw.lone')?.[0])).toBe(Buffer.from(lone, 'utf8').toString('hex'));
    expect(hex(rawGot.get('faults.hostile.raw.lonehdr')?.[0])).toBe(Buffer.from(lone, 'utf8').toString('hex'));
    expect(rawGot.get('faults.hostile.raw.max')?.[0]?.length).toBe(MAX_PAYLOAD);
    expect(rawGot.get('faults.hostile.raw.maxstr')?.[0]?.length).toBe(MAX_PAYLOAD);
    expect(rawGot.get(`faults.hostile.raw.${'a'.repeat(1900)}`)).toHaveLength(1);
    expect(rawGot.get('faults.hostile.raw.subj\ufffd')).toHaveLength(1);
    expect(rawGot.get(longest)).toHaveLength(1);

    // Neighbours intact: every sequence message (on one subject, and across 10^5 subjects) arrived once, uncorrupted, in order.
    const seqReport = sub.counter.report(seq);
    const manyReport = many.counter.report(DISTINCT_SUBJECTS);
    for (const r of [seqReport, manyReport]) {
      expect(r.missing).toEqual([]);
      expect(r.corrupt).toBe(0);
      expect(r.duplicates).toBe(0);
      expect(r.outOfOrder).toBe(0);
    }
    const d = delivery(sub.counter, { ...report, accepted: seq, sent: seq });
    expectDelivered(d, { ...report, accepted: seq, sent: seq, unsent: 0, droppedOversize: 0 });
    recordOffload(
      report,
      { duplicates: seqReport.duplicates + manyReport.duplicates, lostSilently: seqReport.missing.length + manyReport.missing.length },
      {
        id: 'hostile-input',
        fault: `${ROUNDS} random subjects (whitespace, wildcards, lone surrogates, control chars), huge subjects, bad types, max_payload ±1, ${DISTINCT_SUBJECTS} distinct subjects`,
        userSees: `InvalidSubjectError ×${randomRefused} (random), InvalidPayloadError / MaxPayloadExceededError / MessageTooLargeError at the call; no error event, no disconnect`,
        notes: `subject cache peaked at ${maxCache}; corrupt neighbours: 0`,
      },
    );
  });

  it('drops a buffered message the server turns out to be too small for, reports it, keeps its neighbours', async () => {
    const { proxy, sub, subject } = await startProxiedRig(cleanups, 'faults.hostile.oversize', 10_000, {
      server: { config: 'max_payload: 65536\n' },
    });
    // Publish before the first connection: the 1 MiB default max_payload applies until INFO.
    proxy.refuse(Number.POSITIVE_INFINITY);
    const pub = await startPublisher(cleanups, { servers: proxy.url, reconnectTimeWait: 50, reconnectJitter: 0 });
    const events = new EventLog(pub);
    const big = new Uint8Array(100_000);
    big[4] = 0xa5;
    const oversizeSeqs = [100, 500, 501];
    for (let i = 0; i < 1_000; i++) {
      if (oversizeSeqs.includes(i)) {
        new DataView(big.buffer).setUint32(0, i, true);
        pub.publish(subject, big);
      } else pub.publish(subject, seqPayload(i));
    }
    proxy.allow();
    // flush() does not pretend: it rejects, counting the messages no server confirmed.
    const flushed = await pub.flush({ timeout: 30_000 }).catch((e: unknown) => e);
    expect(flushed).toBeInstanceOf(MessagesDroppedError);
    expect((flushed as MessagesDroppedError).dropped).toEqual({ oldest: 0, expired: 0, oversize: oversizeSeqs.length });
    await sub.waitFor(1_000 - oversizeSeqs.length, 30_000);
    // Once the server's INFO is known, the same payload is refused at the call.
    expect(thrown(() => pub.publish(subject, big))).toBeInstanceOf(MaxPayloadExceededError);
    const stats = pub.stats();
    expect(stats.droppedOversize).toBe(oversizeSeqs.length);
    expectBalanced(stats, pub);
    const errs = events.errors();
    expect(errs).toHaveLength(oversizeSeqs.length);
    for (const e of errs) {
      expect((e as NatsOffloadError).code).toBe('MAX_PAYLOAD_EXCEEDED');
      expect(e.message).toMatch(/100000 bytes.*65536/);
    }
    expect(stats.disconnects).toBe(0);
    await flushEventually(sub.nc);
    const report = await pub.close({ timeout: 5_000 });
    const r = sub.counter.report(1_000);
    expect(r.missing).toEqual(oversizeSeqs);
    expect(r.corrupt).toBe(0);
    expect(r.duplicates).toBe(0);
    expect(r.outOfOrder).toBe(0);
    expect(report).toMatchObject({ accepted: 1_000, sent: 1_000 - oversizeSeqs.length, droppedOversize: oversizeSeqs.length, unsent: 0 });
    recordOffload(
      report,
      { duplicates: r.duplicates, lostSilently: r.missing.length - report.droppedOversize },
      {
        id: 'hostile-oversize-buffered',
        fault: 'messages over the server max_payload (64 KiB) buffered before the first INFO',
        userSees: `'error' event MAX_PAYLOAD_EXCEEDED per dropped message; stats().droppedOversize = ${report.droppedOversize}; after INFO publish() throws MaxPayloadExceededError`,
        notes: 'the dropped messages are reported (droppedOversize), not lost silently',
      },
    );
  });
});
