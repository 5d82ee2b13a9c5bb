/**
 * The result records of the fault-injection suite: what a fault test observed (`FaultResult`, passed
 * to recordResult() in test/helpers/faults-harness.ts) and what the file
 * test/results/faults/<id>.json holds (`FaultRecord`), read back by scripts/reliability.ts.
 */

/** Where the records live, relative to the repository root. */
export const FAULT_RESULTS_DIR = 'test/results/faults';

/** What one fault test observed. Counts are messages; absent optional counts show as "–". */
export interface FaultResult {
  /** File-stable key and file name, e.g. `cut-connections`. */
  readonly id: string;
  /** The fault injected, as the reader should picture it. */
  readonly fault: string;
  /** `nats` = the plain client on the main thread (the contrast table). */
  readonly client: 'nats-offload' | 'nats';
  /** What the application saw: events, errors, return values. */
  readonly userSees: string;
  /** Messages publish() accepted (for `nats`: published). */
  readonly accepted: number;
  /** Accepted, then neither delivered nor reported: the number the promise says is 0. */
  readonly lostSilently: number;
  /** Confirmed by a server (a PONG after them). */
  readonly sent?: number;
  /** Reported unsent by close(). */
  readonly unsent?: number;
  /** tryPublish() false / publish() throwing for a full buffer, all counted. */
  readonly rejected?: number;
  readonly resent?: number;
  /** Arrivals the counting subscriber saw more than once. */
  readonly duplicates?: number;
  /** Given up and reported by counter, not unsent: oversize, drop-oldest, maxBufferedAge. */
  readonly droppedOversize?: number;
  readonly droppedOldest?: number;
  readonly expired?: number;
  readonly notes?: string;
  /** Number of the issue-8 defect this row is the regression test of; puts it in that table. */
  readonly defect?: number;
  /** A promise this row shows is not kept, in one sentence: listed under "Known gaps" while recorded. */
  readonly gap?: string;
}

/** One test/results/faults/<id>.json: the observation plus what the writer adds. */
export interface FaultRecord extends FaultResult {
  /** When recordResult() was called (ISO 8601, UTC). */
  readonly at: string;
  /** `process.version` of the test process. */
  readonly node: string;
  /** `nats-server --version` of the binary the tests start, e.g. `2.9.10`. */
  readonly natsServer: string;
  /** Version of the installed `nats` package (the worker's client, and the contrast's). */
  readonly natsClient: string;
  /** The test that wrote it: file relative to the repository root, full name. */
  readonly test: { readonly file: string; readonly name: string };
  /** The test's final state, taken when it finished (after every check in it ran). */
  readonly outcome: 'passed' | 'failed';
}

const COUNT_FIELDS = ['accepted', 'lostSilently', 'sent', 'unsent', 'rejected', 'resent', 'duplicates', 'droppedOversize', 'droppedOldest', 'expired'] as const;
const REQUIRED_COUNTS: ReadonlySet<string> = new Set(['accepted', 'lostSilently']);
const TEXT_FIELDS = ['id', 'fault', 'userSees', 'at', 'node', 'natsServer', 'natsClient'] as const;

/**
 * Checks parsed JSON against FaultRecord.
 * @throws Error naming `source` and the first field that is missing or of the wrong type.
 */
export function parseFaultRecord(json: unknown, source: string): FaultRecord {
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what} (rerun the test that writes it; fields: scripts/fault-record.ts)`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('not a JSON object');
  const r = json as Record<string, unknown>;
  for (const k of TEXT_FIELDS) if (typeof r[k] !== 'string' || r[k] === '') fail(`\`${k}\` must be a non-empty string, got ${JSON.stringify(r[k])}`);
  for (const k of COUNT_FIELDS) {
    const v = r[k];
    if (v === undefined && !REQUIRED_COUNTS.has(k)) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`\`${k}\` must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  if (r['client'] !== 'nats-offload' && r['client'] !== 'nats') fail(`\`client\` must be 'nats-offload' or 'nats', got ${JSON.stringify(r['client'])}`);
  if (r['outcome'] !== 'passed' && r['outcome'] !== 'failed') fail(`\`outcome\` must be 'passed' or 'failed', got ${JSON.stringify(r['outcome'])}`);
  const test = r['test'] as Record<string, unknown> | undefined;
  if (typeof test?.['file'] !== 'string' || typeof test['name'] !== 'string') fail('`test` must be { file, name }');
  if (Number.isNaN(Date.parse(r['at'] as string))) fail(`\`at\` must be an ISO date, got ${JSON.stringify(r['at'])}`);
  const defect = r['defect'];
  if (defect !== undefined && (typeof defect !== 'number' || !Number.isInteger(defect) || defect < 1)) fail(`\`defect\` must be a positive integer, got ${JSON.stringify(defect)}`);
  for (const k of ['notes', 'gap'] as const) if (r[k] !== undefined && typeof r[k] !== 'string') fail(`\`${k}\` must be a string`);
  return r as unknown as FaultRecord;
}
