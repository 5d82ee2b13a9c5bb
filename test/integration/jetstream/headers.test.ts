/**
 * Publishes with headers in JetStream mode: the caller's headers are stored with the message,
 * after ours; a Nats-Msg-Id of the caller's replaces the automatic one and deduplicates; a reply
 * subject is refused (the reply carries the ack). Checked against the stream's own contents.
 */
import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, MaxPayloadExceededError } from '../../../src/index.js';
import { cleanupsAfterEach, startPublisher } from '../../helpers/lifecycle.js';
import { createStream, expectAccounting, numberedPayload, readStream, startJetStreamServer, streamState } from '../../helpers/jetstream.js';

const cleanups = cleanupsAfterEach();

describe('JetStream mode: publish options', () => {
  it('headers are stored with the message; a caller Nats-Msg-Id deduplicates; plain publishes around them keep theirs', async () => {
    const server = await startJetStreamServer(cleanups);
    await createStream(server.url, { name: 'HDR', subjects: ['hdr.>'], storage: 'memory' });
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, jetstream: { expectStream: 'HDR' } });
    for (let i = 0; i < 300; i++) {
      const payload = numberedPayload(i, 24);
      if (i % 3 === 0) pub.publish('hdr.a', payload, { headers: { 'X-Source': `host-${i}`, 'X-Multi': ['1', '2'] } });
      else if (i % 3 === 1)
        pub.publish('hdr.b', payload, { headers: { 'Nats-Msg-Id': `app-${Math.floor(i / 3) % 10}` } }); // 10 ids, each sent 10 times
      else pub.publish('hdr.c', payload);
    }
    await pub.flush({ timeout: 10_000 });
    const stored = new Map<string, { subject: string; source: string[]; multi: string[]; expect: string[] }>();
    await readStream(server.url, 'HDR', (m) => {
      expect(stored.has(m.msgId!)).toBe(false);
      stored.set(m.msgId!, {
        subject: m.subject,
        source: m.header('X-Source'),
        multi: m.header('X-Multi'),
        expect: m.header('Nats-Expected-Stream'),
      });
    });
    // 100 with X-Source and an automatic Msg-Id, 10 application ids (90 duplicates dropped), 100 plain.
    expect(stored.size).toBe(210);
    const auto = [...stored].filter(([id]) => id.startsWith(`${pub.publisherId}-`));
    expect(auto.length).toBe(200);
    expect(auto.filter(([, v]) => v.subject === 'hdr.a').every(([, v]) => v.source.length === 1 && v.multi.join() === '1,2')).toBe(true);
    expect([...stored.values()].every((v) => v.expect.join() === 'HDR')).toBe(true);
    expect([...stored.keys()].filter((id) => id.startsWith('app-')).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `app-${i}`).sort(),
    );
    const s = pub.stats();
    expect(s.duplicates).toBe(90);
    const state = await streamState(server.url, 'HDR');
    expect(state.messages).toBe(210);
    // A duplicate's ack says an earlier copy was stored: stored counts it, the stream holds it once.
    expectAccounting(pub, state.messages + 90);
  });

  it('refused with typed errors, nothing accepted: a reply subject, an empty Nats-Msg-Id, a payload that fits max_payload only without our header', async () => {
    const server = await startJetStreamServer(cleanups);
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true, jetstream: true });
    const thrown = (f: () => void): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const reply = thrown(() => pub.publish('x.y', 'p', { reply: 'my.inbox' }));
    expect(reply).toBeInstanceOf(InvalidPayloadError);
    expect((reply as InvalidPayloadError).code).toBe('INVALID_PAYLOAD');
    const emptyId = thrown(() => pub.publish('x.y', 'p', { headers: { 'Nats-Msg-Id': '' } }));
    expect(emptyId).toBeInstanceOf(InvalidPayloadError);
    // The server counts the header block in max_payload (1 MiB here): 10 bytes under it is too much with ours.
    const nearMax = thrown(() => pub.publish('x.y', new Uint8Array(1024 * 1024 - 10)));
    expect(nearMax).toBeInstanceOf(MaxPayloadExceededError);
    expect((nearMax as MaxPayloadExceededError).code).toBe('MAX_PAYLOAD_EXCEEDED');
    expect(pub.stats().accepted).toBe(0);
  });
});
