/**
 * Subject validation and the cache of encoded `PUB <subject> ` prefixes. A cache hit means the
 * subject was validated before, so the hot path pays one Map lookup per publish.
 */
import { InvalidSubjectError } from './errors.js';

/** nats-server's max_control_line is 4096: a longer PUB line makes it drop the connection. */
export const MAX_SUBJECT_BYTES = 2000;
/** Bound on distinct cached subjects; past it the cache starts over (memory stays bounded). */
export const SUBJECT_CACHE_LIMIT = 10_000;

const encoder = new TextEncoder();

/**
 * @throws {InvalidSubjectError} empty, whitespace, empty token, wildcard token, or too long
 */
export function validateSubject(subject: unknown, what = 'subject'): asserts subject is string {
  if (typeof subject !== 'string') {
    throw new InvalidSubjectError(`${what} must be a string, got ${subject === null ? 'null' : typeof subject}`);
  }
  if (subject.length === 0) throw new InvalidSubjectError(`${what} is empty`);
  if (/[\s\u0000]/.test(subject)) throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} contains whitespace`);
  const tokens = subject.split('.');
  for (const t of tokens) {
    if (t.length === 0) throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} has an empty token`);
    if (t === '*' || t === '>') {
      throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} contains the wildcard ${JSON.stringify(t)}; publish needs a literal subject`);
    }
  }
  if (Buffer.byteLength(subject) > MAX_SUBJECT_BYTES) {
    throw new InvalidSubjectError(`${what} is ${Buffer.byteLength(subject)} bytes, more than ${MAX_SUBJECT_BYTES}`);
  }
}

export class SubjectCache {
  private readonly prefixes = new Map<string, Uint8Array>();
  /** Telemetry loops often repeat one subject: an identity check is cheaper than hashing. */
  private lastSubject: string | undefined;
  private lastPrefix: Uint8Array = new Uint8Array(0);

  /** `PUB <subject> ` as bytes. @throws {InvalidSubjectError} */
  prefix(subject: string): Uint8Array {
    if (subject === this.lastSubject) return this.lastPrefix;
    let bytes = this.prefixes.get(subject);
    if (bytes === undefined) {
      validateSubject(subject);
      if (this.prefixes.size >= SUBJECT_CACHE_LIMIT) this.prefixes.clear();
      bytes = encoder.encode(`PUB ${subject} `);
      this.prefixes.set(subject, bytes);
    }
    this.lastSubject = subject;
    this.lastPrefix = bytes;
    return bytes;
  }

  get size(): number {
    return this.prefixes.size;
  }
}

export function encodeText(s: string): Uint8Array {
  return encoder.encode(s);
}
