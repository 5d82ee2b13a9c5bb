/**
 * Subject validation and the cache of encoded `PUB <subject> ` prefixes. A cache hit means the
 * subject was validated before, so the hot path pays one string compare, or one Map lookup.
 */
import { InvalidSubjectError } from './errors.js';
import { Words } from './words.js';

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
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) {
    throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} contains whitespace or a control character`);
  }
  const tokens = subject.split('.');
  for (const t of tokens) {
    if (t.length === 0) throw new InvalidSubjectError(`${what} ${JSON.stringify(subject)} has an empty token`);
    if (t === '*' || t === '>') {
      throw new InvalidSubjectError(
        `${what} ${JSON.stringify(subject)} contains the wildcard ${JSON.stringify(t)}; publish needs a literal subject`,
      );
    }
  }
  if (Buffer.byteLength(subject) > MAX_SUBJECT_BYTES) {
    throw new InvalidSubjectError(`${what} is ${Buffer.byteLength(subject)} bytes, more than ${MAX_SUBJECT_BYTES}`);
  }
}

/**
 * An encoded `PUB <subject> `, space-padded to a multiple of 4 bytes (runs of spaces are legal
 * NATS field separators), as the writer stores it (words.ts): its 8-byte words, `doubles[at]` to
 * `doubles[at + count - 1]`, then one 4-byte word when `hasQuad`. Plain fields: cheaper on the hot
 * path than typed-array getters.
 */
export interface Prefix {
  readonly doubles: Float64Array;
  readonly at: number;
  readonly count: number;
  readonly quad: number;
  readonly hasQuad: boolean;
  readonly bytes: number;
}

/** Doubles per arena chunk (64 KiB): the prefixes of a few thousand typical subjects. */
const ARENA_CHUNK = 8192;

/**
 * The cached subjects' prefix words, side by side in shared chunks: publishing in rotation
 * among many subjects reads consecutive memory, not a typed array object, its buffer and its
 * separately allocated bytes per subject (cache misses each, once other work has evicted them).
 * A full chunk is left to the prefixes in it; a new one takes the next.
 */
class PrefixArena {
  private chunk = new Float64Array(ARENA_CHUNK);
  private used = 0;

  /** Copies `words` in (same element type: the bytes are copied as they are) and says where. */
  place(words: Float64Array): { readonly doubles: Float64Array; readonly at: number } {
    if (this.used + words.length > this.chunk.length) {
      this.chunk = new Float64Array(Math.max(ARENA_CHUNK, words.length));
      this.used = 0;
    }
    const at = this.used;
    this.chunk.set(words, at);
    this.used += words.length;
    return { doubles: this.chunk, at };
  }
}

/**
 * A subject validated and encoded once, from `pub.subject(name)`. Publishing with it skips the
 * subject cache lookup: worth it for many rotating subjects (per host, per metric).
 */
export class Subject implements Prefix {
  readonly doubles: Float64Array;
  readonly at: number;
  readonly count: number;
  readonly quad: number;
  readonly hasQuad: boolean;
  readonly bytes: number;
  /** @internal SubjectCache's guess at the subject published next: the one that followed this one last time. */
  next: Subject | undefined = undefined;
  /** @throws {InvalidSubjectError} */
  constructor(
    readonly name: string,
    /** @internal Where SubjectCache keeps its prefixes; a handle keeps its own. */
    arena?: PrefixArena,
  ) {
    validateSubject(name);
    const words = prefixWords(`PUB ${name} `);
    const placed = arena?.place(words.doubles) ?? { doubles: words.doubles, at: 0 };
    this.doubles = placed.doubles;
    this.at = placed.at;
    this.count = words.doubles.length;
    this.hasQuad = words.quad.length !== 0;
    this.quad = this.hasQuad ? words.quad[0]! : 0;
    this.bytes = words.bytes;
  }
  toString(): string {
    return this.name;
  }
}

/**
 * String subjects to prefixes. Rotating among many subjects, a Map lookup costs ~20 ns more than
 * for one subject (its bucket and entry are cache misses a few loads deep; the string's hash is
 * cached in the string, so hashing is not the cost). So each prefix remembers the subject that
 * followed it last time, and while those guesses come true the guess is checked instead of the
 * Map: a fixed list published in the same order every round costs about what one subject costs,
 * and a subject string built anew for every call is compared rather than hashed.
 */
export class SubjectCache {
  private readonly prefixes = new Map<string, Subject>();
  private arena = new PrefixArena();
  /** The prefix returned last (a placeholder before the first): its `next` is the guess. */
  private last = new Subject('_');
  /** Whether the last guess came true (or would have): only then is the next one checked. */
  private guessing = false;

  /** The prefix of a string subject (cached) or of a Subject handle. @throws {InvalidSubjectError} */
  resolve(subject: string | Subject): Prefix {
    if (typeof subject === 'string') return this.prefix(subject);
    if (subject instanceof Subject) return subject;
    return this.prefix(subject as unknown as string); // not a string: prefix() names the type
  }

  /** The prefix of a string subject, cached. @throws {InvalidSubjectError} */
  prefix(subject: string): Prefix {
    const last = this.last;
    const guess = last.next;
    if (this.guessing && guess !== undefined && guess.name === subject) {
      this.last = guess;
      return guess;
    }
    const entry = this.prefixes.get(subject) ?? this.add(subject);
    // A failed guess costs its compare (a few cache misses in a random order); whether it would
    // have come true is one pointer compare, so a random order soon stops guessing.
    this.guessing = guess === entry;
    last.next = entry;
    this.last = entry;
    return entry;
  }

  /** @throws {InvalidSubjectError} */
  private add(subject: string): Subject {
    // Starting over leaves no old prefix reachable: the guesses start again from this new one.
    if (this.prefixes.size >= SUBJECT_CACHE_LIMIT) {
      this.prefixes.clear();
      this.arena = new PrefixArena();
    }
    const entry = new Subject(subject, this.arena);
    this.prefixes.set(subject, entry);
    return entry;
  }

  get size(): number {
    return this.prefixes.size;
  }
}

/** `text` as UTF-8, padded with spaces to a multiple of 4 bytes, as words (no tail bytes). */
export function prefixWords(text: string): Words {
  const utf8 = encoder.encode(text);
  const bytes = new Uint8Array((utf8.length + 3) & ~3).fill(32);
  bytes.set(utf8);
  return new Words(bytes);
}

export function encodeText(s: string): Uint8Array {
  return encoder.encode(s);
}
