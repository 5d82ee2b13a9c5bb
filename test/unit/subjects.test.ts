/**
 * The subject cache has two ways to a prefix: the guess (the subject that followed the last one
 * before) and the Map. Each test says which way it drives, and the truth is the subject itself:
 * every prefix returned is decoded back to text and compared with `PUB <subject> `.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidSubjectError } from '../../src/errors.js';
import { SUBJECT_CACHE_LIMIT, Subject, SubjectCache, type Prefix } from '../../src/subjects.js';
import { mulberry32 } from '../../scripts/prng.js';

const decoder = new TextDecoder();

/** The prefix's words as text, padding spaces removed. */
function text(p: Prefix): string {
  const words = new Uint8Array(p.doubles.buffer, p.at * 8, p.count * 8);
  const quad = new Uint8Array(new Int32Array([p.quad]).buffer).subarray(0, p.hasQuad ? 4 : 0);
  const bytes = new Uint8Array([...words, ...quad]);
  expect(p.bytes).toBe(bytes.length);
  return decoder.decode(bytes).trimEnd();
}

function expectPrefixOf(p: Prefix, subject: string): void {
  expect(text(p)).toBe(`PUB ${subject}`);
}

/** Counts the cache's Map lookups (the only Map.get calls made while the spy is on). */
function countLookups(): { readonly count: () => number } {
  const get = vi.spyOn(Map.prototype, 'get');
  return { count: () => get.mock.calls.length };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('subject cache', () => {
  it('returns the prefix of the subject asked for, in any mix of orders, strings and handles', () => {
    const rand = mulberry32(7);
    const cache = new SubjectCache();
    const names = Array.from({ length: 300 }, (_, i) => `metrics.host-${i}.cpu`);
    const handles = names.map((n) => new Subject(n));
    for (let step = 0; step < 60_000; step++) {
      const mode = Math.floor(step / 5000) % 4; // runs of each pattern, so guesses are made and broken
      const i = mode === 0 ? step % names.length : Math.floor(rand() * names.length);
      const name = names[i]!;
      if (mode === 2 && rand() < 0.3) {
        expect(cache.resolve(handles[i]!)).toBe(handles[i]);
        continue;
      }
      // mode 3: a string built for this call (equal to a cached key, but another string).
      const subject = mode === 3 ? `metrics.host-${i}.${'cpu'}` : name;
      expectPrefixOf(cache.resolve(subject), name);
    }
  });

  it('takes the guess for a fixed order: the Map is consulted only while learning it', () => {
    const cache = new SubjectCache();
    const names = Array.from({ length: 1000 }, (_, i) => `bench.cost.${i}`);
    for (const n of names) cache.prefix(n); // learn the prefixes
    for (const n of names) cache.prefix(n); // learn the order
    const lookups = countLookups();
    for (let round = 0; round < 5; round++) for (const n of names) expectPrefixOf(cache.prefix(n), n);
    // One miss when the order wraps from the last subject to the first, learnt in the first round.
    expect(lookups.count()).toBeLessThanOrEqual(1);
  });

  it('takes the Map for a random order, and returns the right prefix either way', () => {
    const rand = mulberry32(11);
    const cache = new SubjectCache();
    const names = Array.from({ length: 1000 }, (_, i) => `bench.rand.${i}`);
    for (const n of names) cache.prefix(n);
    const lookups = countLookups();
    const calls = 20_000;
    for (let k = 0; k < calls; k++) {
      const n = names[Math.floor(rand() * names.length)]!;
      expectPrefixOf(cache.prefix(n), n);
    }
    // Guesses come true by chance about 1 time in 1000; every other call looks up the Map.
    expect(lookups.count()).toBeGreaterThan(calls * 0.98);
  });

  it('validates a subject the guess does not match, even right after a run of good guesses', () => {
    const cache = new SubjectCache();
    for (let round = 0; round < 3; round++) for (const n of ['a.b', 'a.c']) cache.prefix(n);
    cache.prefix('a.b'); // the guess is now 'a.c'
    for (const bad of ['', 'a c', 'a.*', 'a..c', '>']) {
      expect(() => cache.prefix(bad)).toThrow(InvalidSubjectError);
    }
    expect(() => cache.resolve(42 as unknown as string)).toThrow(InvalidSubjectError);
    expectPrefixOf(cache.prefix('a.d'), 'a.d');
    expectPrefixOf(cache.prefix('a.c'), 'a.c');
  });

  it('stays bounded past its limit and keeps answering right', () => {
    const cache = new SubjectCache();
    const total = SUBJECT_CACHE_LIMIT * 2 + 500;
    for (let i = 0; i < total; i++) {
      const n = `unique.${i}`;
      expectPrefixOf(cache.prefix(n), n);
      expect(cache.size).toBeLessThanOrEqual(SUBJECT_CACHE_LIMIT);
    }
    // Prefixes spread over several 64 KiB chunks (long subjects), all checked again afterwards.
    const fresh = new SubjectCache();
    const long = Array.from({ length: 2000 }, (_, i) => `${'segment.'.repeat(12)}${i}`);
    for (const n of long) expectPrefixOf(fresh.prefix(n), n);
    for (const n of [...long].reverse()) expectPrefixOf(fresh.prefix(n), n);
    // A fixed order across the point where the cache starts over.
    const names = Array.from({ length: 50 }, (_, i) => `again.${i}`);
    for (let round = 0; round < 3; round++) for (const n of names) expectPrefixOf(cache.prefix(n), n);
  });
});
