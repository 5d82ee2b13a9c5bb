/** Publishing while connected: everything arrives, in order, with headers, replies and strings. */
import { describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { createPublisher } from '../../src/index.js';
import { cleanupsAfterEach, startCountingSubscriber, startPublisher, startServer } from '../helpers/lifecycle.js';
import { seqPayload } from '../helpers/sequence.js';

const cleanups = cleanupsAfterEach();

describe('publishing while connected', () => {
  it('delivers every message in order and the counters add up', async () => {
    const server = await startServer(cleanups);
    const N = 200_000;
    const sub = await startCountingSubscriber(cleanups, server.url, 'tele.seq', N);
    const pub = await startPublisher(cleanups, { servers: server.url, waitForConnect: true });
    expect(pub.status).toBe('connected');
    const payload = seqPayload(0, 64);
    const view = new DataView(payload.buffer);
    for (let i = 0; i < N; ) {
      view.setUint32(0, i, true);
      // The payload buffer is reused at once: publish copies it.
      if (pub.tryPublish('tele.seq', payload)) i++;
      else await new Promise((r) => setImmediate(r));
    }
    await pub.flush();
    await sub.waitFor(N);
    const r = sub.counter.report(N);
    expect(r.missing).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(r.outOfOrder).toBe(0);
    expect(r.corrupt).toBe(0);
    const s = pub.stats();
    expect(s.accepted).toBe(N);
    expect(s.sent).toBe(N);
    expect(s.pendingMessages).toBe(0);
    expect(s.accepted).toBe(s.sent + s.pendingMessages + s.unsent + s.droppedOversize);
    const report = await pub.close();
    expect(report).toMatchObject({ accepted: N, sent: N, unsent: 0 });
    expect(pub.status).toBe('closed');
  });

  it('sends string payloads as UTF-8, with reply subjects and headers', async () => {
    const server = await startServer(cleanups);
    const nc = await connect({ servers: server.url });
    const got: { subject: string; data: string; reply: string | undefined; hdr: string | undefined }[] = [];
    nc.subscribe('hdr.>', {
      callback: (_e, m) => got.push({ subject: m.subject, data: m.string(), reply: m.reply || undefined, hdr: m.headers?.get('X-Unit') }),
    });
    await nc.flush();
    const pub = await startPublisher(cleanups, { servers: server.url });
    pub.publish('hdr.plain', 'héllo ✓');
    pub.publish('hdr.reply', 'r', { reply: 'answers.here' });
    pub.publish('hdr.headers', new TextEncoder().encode('with headers'), { headers: { 'X-Unit': 'celsius' } });
    pub.publish('hdr.both', '', { reply: 'r.1', headers: { 'X-Unit': ['k', 'm'] } });
    await pub.flush();
    await nc.flush();
    for (let i = 0; got.length < 4 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    await nc.close();
    expect(got).toEqual([
      { subject: 'hdr.plain', data: 'héllo ✓', reply: undefined, hdr: undefined },
      { subject: 'hdr.reply', data: 'r', reply: 'answers.here', hdr: undefined },
      { subject: 'hdr.headers', data: 'with headers', reply: undefined, hdr: 'celsius' },
      { subject: 'hdr.both', data: '', reply: 'r.1', hdr: 'k' },
    ]);
  });

  it('publishes with pre-resolved subject handles, alone and with options', async () => {
    const server = await startServer(cleanups);
    const nc = await connect({ servers: server.url });
    const got: string[] = [];
    nc.subscribe('handle.>', { callback: (_e, m) => got.push(`${m.subject}=${m.string()}${m.reply ? ` reply ${m.reply}` : ''}`) });
    await nc.flush();
    const pub = await startPublisher(cleanups, { servers: server.url });
    const hosts = Array.from({ length: 3 }, (_, i) => pub.subject(`handle.host${i}`));
    for (const h of hosts) pub.publish(h, h.name);
    pub.publish(hosts[0]!, 'with reply', { reply: 'r.1' });
    expect(() => pub.subject('handle.*')).toThrow(expect.objectContaining({ code: 'INVALID_SUBJECT' }));
    expect(() => pub.publish({ name: 'forged' } as never, 'x')).toThrow(expect.objectContaining({ code: 'INVALID_SUBJECT' }));
    await pub.flush();
    await nc.flush();
    for (let i = 0; got.length < 4 && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    await nc.close();
    expect(got).toEqual([
      'handle.host0=handle.host0',
      'handle.host1=handle.host1',
      'handle.host2=handle.host2',
      'handle.host0=with reply reply r.1',
    ]);
  });

  it('reports status events and supports await using', async () => {
    const server = await startServer(cleanups);
    const p = await createPublisher({ servers: server.url });
    const events = p.events();
    const first = await events.next();
    expect(first.value).toMatchObject({ type: 'connect' });
    {
      await using scoped = p;
      scoped.publish('x', 'y');
    }
    expect(p.status).toBe('closed');
    const rest: string[] = [];
    for await (const e of events) rest.push(e.type);
    expect(rest).toEqual(['closed']);
  });
});
