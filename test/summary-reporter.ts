/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary, so
 * that CI logs state the count in a form any reader (or tool) recognises. Each failed test is
 * listed just above it as `failed: <file> > <name>: <first line of the error>`, so the end of a
 * long log (all some CI views keep) still says what failed. A test that passed only when run again
 * (vitest's `retry`) is listed as `retried: ...`.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const listed: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const result = t.result();
        if (result.state === 'passed') {
          passed++;
          if (t.diagnostic()?.flaky)
            listed.push(`retried: ${m.moduleId.replace(`${process.cwd()}/`, '')} > ${t.fullName}: failed, then passed when run again`);
        } else if (result.state === 'failed') {
          failed++;
          const first = result.errors?.[0]?.message?.split('\n')[0] ?? '';
          listed.push(`failed: ${m.moduleId.replace(`${process.cwd()}/`, '')} > ${t.fullName}: ${first}`);
        } else skipped++;
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) {
        failed++;
        listed.push(`failed: ${m.moduleId.replace(`${process.cwd()}/`, '')} (the file did not run)`);
      }
    }
    for (const e of errors) listed.push(`failed: unhandled error: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    failed += errors.length;
    const lines = listed.map((f) => (f.length > 400 ? `${f.slice(0, 400)}…` : f));
    process.stdout.write(`\n${lines.map((l) => `${l}\n`).join('')}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
