/** options.jetstream: defaults, `true`, and a typed error naming the option for bad input. */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { resolveOptions } from '../../src/options.js';

describe('options.jetstream', () => {
  it('is core mode when absent or false', () => {
    expect(resolveOptions({}).jetstream).toBeUndefined();
    expect(resolveOptions({ jetstream: false }).jetstream).toBeUndefined();
  });
  it('true gives the documented defaults', () => {
    expect(resolveOptions({ jetstream: true }).jetstream).toEqual({
      expectStream: undefined,
      msgId: true,
      ackTimeoutMs: 5000,
      maxPendingAcks: 4000,
      noRespondersRetryMs: 10_000,
    });
  });
  it('takes each setting', () => {
    const js = resolveOptions({
      jetstream: { expectStream: 'TELEMETRY', msgId: false, ackTimeout: 250, maxPendingAcks: 10, noRespondersRetry: 0 },
    }).jetstream;
    expect(js).toEqual({ expectStream: 'TELEMETRY', msgId: false, ackTimeoutMs: 250, maxPendingAcks: 10, noRespondersRetryMs: 0 });
  });
  it.each([
    [{ jetstream: 'yes' }, 'options.jetstream must be true, false or an object'],
    [{ jetstream: { expectStream: 'a.b' } }, 'options.jetstream.expectStream must be a stream name'],
    [{ jetstream: { expectStream: 'a\r\nX: y' } }, 'options.jetstream.expectStream must be a stream name'],
    [{ jetstream: { expectStream: 'S\u007f' } }, 'options.jetstream.expectStream must be a stream name'],
    [{ jetstream: { expectStream: 'S\u0001' } }, 'options.jetstream.expectStream must be a stream name'],
    [{ jetstream: { msgId: true } }, "options.jetstream.msgId must be 'auto' or false"],
    [{ jetstream: { ackTimeout: 1.5 } }, 'options.jetstream.ackTimeout must be an integer'],
    [{ jetstream: { maxPendingAcks: 0 } }, 'options.jetstream.maxPendingAcks must be an integer from 1'],
    [{ jetstream: { ackTimout: 5 } }, 'options.jetstream.ackTimout must be one of'],
  ])('%j → InvalidOptionError', (input, message) => {
    let caught: unknown;
    try {
      resolveOptions(input as never);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect((caught as InvalidOptionError).code).toBe('INVALID_OPTION');
    expect((caught as Error).message).toContain(message);
  });
});
