/**
 * Message headers in NATS's wire form (`NATS/1.0\r\nKey: value\r\n\r\n`). Accepts a plain record or
 * anything with the `nats` package's MsgHdrs shape, so callers need not import `nats`.
 */
import { InvalidPayloadError } from './errors.js';

export type HeadersInit = Record<string, string | readonly string[]> | Iterable<[string, string[]]>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function encodeHeaders(h: HeadersInit): string {
  return `NATS/1.0\r\n${headerLines(h)}\r\n`;
}

/** The `Key: value\r\n` lines of `h`, without the version line and the closing blank line. */
export function headerLines(h: HeadersInit): string {
  let out = '';
  const entries: Iterable<[string, string | readonly string[]]> =
    Symbol.iterator in (h as object) ? (h as Iterable<[string, string[]]>) : Object.entries(h);
  for (const [key, value] of entries) {
    if (typeof key !== 'string' || !TOKEN.test(key)) {
      throw new InvalidPayloadError(`header name ${JSON.stringify(key)} is not a valid token`);
    }
    const values = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(values)) throw new InvalidPayloadError(`header ${key} must be a string or an array of strings`);
    for (const v of values) {
      if (typeof v !== 'string' || /[\r\n]/.test(v)) {
        throw new InvalidPayloadError(`header ${key} has a value that is not a single-line string`);
      }
      out += `${key}: ${v}\r\n`;
    }
  }
  return out;
}
