/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary, so
 * that CI logs state the count in a form any reader (or tool) recognises. Each failed test is
 * listed just above it as `failed: <file> > <name>: <first line of the error>`, so the end of a
 * long log (all some CI views keep) still says what failed. A test that passed only when run again
 * (vitest's `retry`) is listed as `retried: ...`.
 */
import type { Reporter, TestModule } from 'vitest/node';

interface ErrorLike {
  readonly message?: string;
  readonly stack?: string;
}

/**
 * The error's first line (with fast-check's seed and counterexample lines, which reproduce it), and
 * where in a test file it was thrown (the first stack frame under test/).
 */
function describeError(e: ErrorLike | undefined): string {
  if (e === undefined) return '';
  const lines = (e.message ?? e.stack?.split('\n')[0] ?? '').split('\n');
  const first = [
    lines[0] ?? '',
    ...lines
      .slice(1)
      .filter((l) => /seed|Counterexample/.test(l))
      .map((l) => l.trim()),
  ].join(' | ');
  const at = e.stack
    ?.split('\n')
    .find((l) => l.includes('/test/'))
    ?.trim()
    .replace(`${process.cwd()}/`, '');
  return at === undefined ? first : `${first} (${at})`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const listed: string[] = [];
    for (const m of modules) {
      const file = m.moduleId.replace(`${process.cwd()}/`, '');
      for (const t of m.children.allTests()) {
        const result = t.result();
        if (result.state === 'passed') {
          passed++;
          // A retried test that passed keeps the errors of the attempts that failed.
          if (t.diagnostic()?.flaky)
            listed.push(`retried: ${file} > ${t.fullName}: passed when run again; first failed with ${describeError(result.errors?.[0])}`);
        } else if (result.state === 'failed') {
          failed++;
          listed.push(`failed: ${file} > ${t.fullName}: ${describeError(result.errors?.[0])}`);
        } else skipped++;
      }
      // A hook that threw (beforeAll / afterAll) fails its suite, not a test: each counts as one failure.
      let outside = 0;
      for (const s of m.children.allSuites()) {
        const errors = s.errors();
        if (s.state() !== 'failed' || errors.length === 0) continue;
        outside++;
        listed.push(`failed: ${file} > ${s.fullName} (outside its tests, e.g. a hook): ${describeError(errors[0])}`);
      }
      const moduleErrors = m.errors();
      if (moduleErrors.length > 0) {
        outside++;
        listed.push(`failed: ${file} (outside its tests): ${describeError(moduleErrors[0])}`);
      }
      if (m.state() === 'failed' && outside === 0 && ![...m.children.allTests()].some((t) => t.result().state === 'failed')) {
        outside++;
        listed.push(`failed: ${file} (the file failed, no error recorded)`);
      }
      failed += outside;
    }
    for (const e of errors) listed.push(`failed: unhandled error: ${describeError(e as ErrorLike)}`);
    failed += errors.length;
    const lines = listed.map((f) => (f.length > 1000 ? `${f.slice(0, 1000)}…` : f));
    process.stdout.write(`\n${lines.map((l) => `${l}\n`).join('')}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
