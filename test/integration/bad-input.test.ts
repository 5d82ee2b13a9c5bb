/** Every kind of bad input gets a typed error with a stable code, and nothing is lost around it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublisher,
  InvalidOptionError,
  NatsOffloadError,
  OptionNotCloneableError,
  type Publisher,
} from '../../src/index.js';
import { startNatsServer, type NatsServerProcess } from '../helpers/nats-server.js';
import { countingSubscriber, seqPayload } from '../helpers/sequence.js';

let server: NatsServerProcess;
let pub: Publisher;
beforeAll(async () => {
  server = await startNatsServer({ config: 'max_payload: 4096' });
  pub = await createPublisher({ servers: server.url, waitForConnect: true, reconnectBufSize: 64 * 1024 });
});
afterAll(async () => {
  await pub.close({ timeout: 1000 });
  await server.stop();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NatsOffloadError);
    return (e as NatsOffloadError).code;
  }
  return undefined;
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(NatsOffloadError);
    return (e as NatsOffloadError).code;
  }
  return undefined;
}

describe('bad input', () => {
  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a newline', 'a\r\nPUB evil 1'],
    ['a leading dot', '.a'],
    ['a trailing dot', 'a.'],
    ['an empty token', 'a..b'],
    ['a * wildcard', 'a.*'],
    ['a > wildcard', 'a.>'],
    ['a huge subject', 'x'.repeat(5000)],
    // Issue 8, defect 7: control characters were accepted though the README says they are refused.
    ['a \\x01 control character', 'a\x01b'],
    ['a \\x7f (DEL)', 'a\x7fb'],
    ['a \\x1f control character', 'telemetry.\x1f'],
  ])('refuses a subject with %s: INVALID_SUBJECT', (_what, subject) => {
    expect(codeOf(() => pub.publish(subject, 'x'))).toBe('INVALID_SUBJECT');
    expect(codeOf(() => pub.tryPublish(subject, 'x'))).toBe('INVALID_SUBJECT');
  });

  it('refuses a non-string subject and a bad reply subject', () => {
    expect(codeOf(() => pub.publish(42 as unknown as string, 'x'))).toBe('INVALID_SUBJECT');
    expect(codeOf(() => pub.publish('a', 'x', { reply: 'r.*' }))).toBe('INVALID_SUBJECT');
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { a: 1 }],
    ['an array', [1, 2]],
    ['undefined', undefined],
  ])('refuses a payload that is %s: INVALID_PAYLOAD', (_what, payload) => {
    expect(codeOf(() => pub.publish('a', payload as unknown as string))).toBe('INVALID_PAYLOAD');
  });

  it('refuses bad headers: INVALID_PAYLOAD', () => {
    expect(codeOf(() => pub.publish('a', 'x', { headers: { 'bad key': 'v' } }))).toBe('INVALID_PAYLOAD');
    expect(codeOf(() => pub.publish('a', 'x', { headers: { k: 'two\r\nlines' } }))).toBe('INVALID_PAYLOAD');
  });

  it("refuses a payload over the server's max_payload (learned from INFO): MAX_PAYLOAD_EXCEEDED", () => {
    expect(codeOf(() => pub.publish('a', new Uint8Array(4097)))).toBe('MAX_PAYLOAD_EXCEEDED');
    expect(codeOf(() => pub.publish('a', 'x'.repeat(4097)))).toBe('MAX_PAYLOAD_EXCEEDED');
    expect(codeOf(() => pub.publish('a', new Uint8Array(4000), { headers: { k: 'v'.repeat(200) } }))).toBe(
      'MAX_PAYLOAD_EXCEEDED',
    );
    expect(codeOf(() => pub.publish('a', new Uint8Array(4096)))).toBeUndefined();
  });

  it('assumes a 1 MiB max_payload before the first connect', async () => {
    const early = await createPublisher({ servers: 'nats://127.0.0.1:1', reconnectBufSize: 4 * 1024 * 1024 });
    try {
      expect(early.status).toBe('connecting');
      expect(codeOf(() => early.publish('a', new Uint8Array(1024 * 1024 + 1)))).toBe('MAX_PAYLOAD_EXCEEDED');
      expect(codeOf(() => early.publish('a', new Uint8Array(1024 * 1024)))).toBeUndefined();
    } finally {
      const report = await early.close({ timeout: 0 });
      expect(report).toMatchObject({ accepted: 1, sent: 0, unsent: 1 });
    }
  });

  it('refuses a message larger than the whole buffer: MESSAGE_TOO_LARGE', async () => {
    const small = await createPublisher({ servers: server.url, reconnectBufSize: 1000 });
    try {
      expect(codeOf(() => small.publish('a', new Uint8Array(1000)))).toBe('MESSAGE_TOO_LARGE');
      expect(small.full).toBe(false);
      expect(codeOf(() => small.publish('a', new Uint8Array(900)))).toBeUndefined();
    } finally {
      await small.close();
    }
  });

  it('keeps neighbouring messages intact around refused ones', async () => {
    const sub = await countingSubscriber(server.url, 'mix.seq', 100);
    try {
      for (let i = 0; i < 100; i++) {
        pub.publish('mix.seq', seqPayload(i));
        expect(codeOf(() => pub.publish('mix.*', 'x'))).toBe('INVALID_SUBJECT');
        expect(codeOf(() => pub.publish('mix.seq', new Uint8Array(5000)))).toBe('MAX_PAYLOAD_EXCEEDED');
      }
      await pub.flush();
      await sub.waitFor(100);
      const r = sub.counter.report(100);
      expect(r).toMatchObject({ received: 100, duplicates: 0, outOfOrder: 0, corrupt: 0, missing: [] });
    } finally {
      await sub.close();
    }
  });

  it.each([
    ['reconnectBufSize 0', { reconnectBufSize: 0 }],
    ['reconnectBufSize 1.5', { reconnectBufSize: 1.5 }],
    ['reconnectBufSize -2', { reconnectBufSize: -2 }],
    ['reconnectBufSize as a string', { reconnectBufSize: '8mb' }],
    ['reconnectBufMessages 0', { reconnectBufMessages: 0 }],
    ['pingInterval 0', { pingInterval: 0 }],
    ['servers empty', { servers: [] }],
    ['an unknown option', { reconnectBufferSize: 5 }],
    ['user without pass', { user: 'a' }],
    ['tls not an object', { tls: true }],
  ])('refuses options out of range (%s): INVALID_OPTION', async (_what, options) => {
    await expect(createPublisher(options as never)).rejects.toBeInstanceOf(InvalidOptionError);
    expect(await asyncCodeOf(createPublisher(options as never))).toBe('INVALID_OPTION');
  });

  it('refuses options that cannot cross to the worker, naming the alternative: OPTION_NOT_CLONEABLE', async () => {
    const err = await createPublisher({ authenticator: () => ({}) } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionNotCloneableError);
    expect((err as OptionNotCloneableError).code).toBe('OPTION_NOT_CLONEABLE');
    expect((err as Error).message).toMatch(/credentials/);
    expect(await asyncCodeOf(createPublisher({ reconnectDelayHandler: () => 5 } as never))).toBe('OPTION_NOT_CLONEABLE');
  });

  it('refuses publish and flush after close (CLOSED); close twice is idempotent', async () => {
    const p = await createPublisher({ servers: server.url });
    p.publish('a', 'x');
    const first = p.close();
    const second = p.close();
    expect(second).toBe(first);
    const report = await first;
    expect(report).toMatchObject({ accepted: 1, unsent: 0 });
    expect(report.sent).toBe(1);
    expect(codeOf(() => p.publish('a', 'x'))).toBe('CLOSED');
    expect(codeOf(() => p.tryPublish('a', 'x'))).toBe('CLOSED');
    expect(await asyncCodeOf(p.flush())).toBe('CLOSED');
    expect(await p.close()).toBe(report);
  });
});
