/**
 * The ack parser against the bodies nats-server 2.9.10 actually sends (captured from a real
 * server) and against JSON.parse of the same bodies, as the independent reference.
 */
import { describe, expect, it } from 'vitest';
import { AckKind, ParsedAck, parseAck, parseAckWithJson, seqFromSubject } from '../../worker/jetstream-acks.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function parse(subject: string, body: string, header?: string): ParsedAck {
  const out = new ParsedAck();
  const raw = enc((header ?? '') + body);
  parseAck(enc(subject), raw, header === undefined ? -1 : enc(header).length, out);
  return out;
}

describe('seqFromSubject', () => {
  it('reads the last token as a decimal sequence', () => {
    expect(seqFromSubject(enc('_INBOX.abc.0'))).toBe(0);
    expect(seqFromSubject(enc('_INBOX.abc.1234567890123'))).toBe(1234567890123);
  });
  it('is -1 when the last token is not a number or missing', () => {
    expect(seqFromSubject(enc('_INBOX.abc.x1'))).toBe(-1);
    expect(seqFromSubject(enc('_INBOX.abc.'))).toBe(-1);
    expect(seqFromSubject(enc('12'))).toBe(-1);
  });
});

describe('parseAck (bodies as nats-server 2.9.10 sends them)', () => {
  it('a PubAck: stored, with the stream and its sequence', () => {
    const a = parse('_I.p.7', '{"stream":"TELEMETRY", "seq":42}');
    expect(a.kind).toBe(AckKind.STORED);
    expect(a.seq).toBe(7);
    expect(a.streamSeq).toBe(42);
    expect(a.streamName()).toBe('TELEMETRY');
  });
  it('a duplicate PubAck', () => {
    const a = parse('_I.p.8', '{"stream":"S", "seq":1,"duplicate": true}');
    expect(a.kind).toBe(AckKind.DUPLICATE);
    expect(a.streamSeq).toBe(1);
  });
  it('an error ack: code, err_code and description, final', () => {
    const a = parse('_I.p.9', '{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}');
    expect(a.kind).toBe(AckKind.ERROR);
    expect([a.code, a.errCode, a.description]).toEqual([503, 10077, 'maximum messages exceeded']);
  });
  it('a wrong expected stream', () => {
    const a = parse(
      '_I.p.10',
      '{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"},"stream":"S","seq":0}',
    );
    expect([a.kind, a.errCode]).toEqual([AckKind.ERROR, 10060]);
  });
  it('503 no responders from the status header, no body', () => {
    const a = parse('_I.p.11', '', 'NATS/1.0 503\r\n\r\n');
    expect(a.kind).toBe(AckKind.NO_RESPONDERS);
    expect(a.code).toBe(503);
    expect(a.seq).toBe(11);
  });
  it('another status, or a body without seq, is invalid', () => {
    expect(parse('_I.p.1', '', 'NATS/1.0 408\r\n\r\n').kind).toBe(AckKind.INVALID);
    expect(parse('_I.p.1', '{"stream":"S"}').kind).toBe(AckKind.INVALID);
    expect(parse('_I.p.1', 'garbage').kind).toBe(AckKind.INVALID);
  });
  it('a stream name that spells a key does not fool the scan', () => {
    const a = parse('_I.p.3', JSON.stringify({ stream: '"seq":9,"duplicate":true', seq: 5 }));
    expect([a.kind, a.streamSeq]).toEqual([AckKind.STORED, 5]);
    expect(a.streamName()).toBe('"seq":9,"duplicate":true');
  });
  it('agrees with JSON.parse over random PubAcks (seeded)', () => {
    let x = 12345;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const a = new ParsedAck();
    const b = new ParsedAck();
    for (let i = 0; i < 2000; i++) {
      // Field order as the server marshals it: error, stream, domain, seq, duplicate.
      const v: Record<string, unknown> = {};
      if (rand(10) === 0) v.error = { code: 400 + rand(200), err_code: 10000 + rand(200), description: `bad "thing" ${rand(9)}` };
      v.stream = `S${rand(1000)}`;
      if (rand(3) === 0) v.domain = `d${rand(10)}`;
      v.seq = v.error === undefined ? 1 + rand(2 ** 31) * rand(1000) : 0; // stream sequences start at 1
      if (rand(4) === 0) v.duplicate = rand(2) === 0;
      const sp = rand(2) === 0 ? ' ' : '';
      const body = enc(JSON.stringify(v).replaceAll(',"', `,${sp}"`));
      const subject = enc(`_INBOX.x.${i}`);
      parseAck(subject, body, -1, a);
      parseAckWithJson(subject, body, -1, b);
      expect([a.kind, a.seq, a.streamSeq, a.code, a.errCode, a.description]).toEqual([
        b.kind,
        b.seq,
        b.streamSeq,
        b.code,
        b.errCode,
        b.description,
      ]);
    }
  });
});
