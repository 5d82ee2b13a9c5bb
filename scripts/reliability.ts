/**
 * `npm run reliability`: writes docs/reliability.md from test/results/faults/*.json, the records the
 * fault tests (test/integration/faults) write through recordResult()/recordOffload() in
 * test/helpers/faults-harness.ts. The prose is the template below; every number and every known gap
 * comes from the records, so refresh them first: `npx vitest run test/integration/faults` (or
 * `npm run test:soak`, which adds the 20 s soak), then `npm run reliability`. The output depends on
 * the records only (no clock), so running it twice gives the same file. `--check` writes nothing and
 * exits 1 when docs/reliability.md differs from what the records give.
 *
 * A record (types and checks: scripts/fault-record.ts) holds what the test passes to recordResult():
 *   required  id (= file name, kebab-case), fault, client ('nats-offload' | 'nats'), userSees,
 *             accepted, lostSilently
 *   optional  sent, unsent, rejected, resent, duplicates, droppedOversize, droppedOldest, expired
 *             (recordOffload() fills these from the close report), notes,
 *             defect (issue-8 defect number 1-7: the row goes to "Regressions (issue 8)", and the
 *             defect counts as open under "Known gaps" until every record with that number passed),
 *             gap (one sentence: a promise the row shows is not kept; listed under "Known gaps")
 * and what the writer adds: at, node, natsServer, natsClient, test { file, name }, outcome.
 * Rows in EXPECTED_ROWS whose file is missing show as "not run"; records not listed there are
 * still shown, after the listed ones.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULT_RESULTS_DIR, parseFaultRecord, type FaultRecord } from './fault-record.js';

const OUTPUT = 'docs/reliability.md';
const FAULT_TESTS = 'test/integration/faults';
const SOAK_COMMAND = 'npm run test:soak';
const CONTRAST_FILE = 'nats-client-contrast.test.ts';

interface ExpectedRow {
  readonly id: string;
  /** Test file under test/integration/faults that writes it. */
  readonly file: string;
  /** Shown when the record is missing. */
  readonly fault: string;
  /** Only `npm run test:soak` runs it. */
  readonly soak?: true;
}

/** The rows the suite writes today, in table order (what is missing shows as "not run"). */
const EXPECTED_ROWS: readonly ExpectedRow[] = [
  { id: 'cut-connections', file: 'cut-connections.test.ts', fault: 'TCP reset of the publisher\'s connection every 200 ms' },
  { id: 'cut-connections-wrap', file: 'cut-connections.test.ts', fault: 'TCP reset at random intervals, random sizes through a small ring' },
  { id: 'stall', file: 'stall.test.ts', fault: 'path stalled (no bytes, no FIN)' },
  { id: 'server-restart', file: 'server-restart.test.ts', fault: 'nats-server SIGTERM mid-stream and restart, byte limit' },
  { id: 'server-restart-msg-limit', file: 'server-restart.test.ts', fault: 'same, reconnectBufMessages' },
  { id: 'server-restart-no-buffer', file: 'server-restart.test.ts', fault: 'same, reconnectBufSize -1' },
  { id: 'cluster-failover-list', file: 'cluster-failover.test.ts', fault: '3-node cluster, node SIGTERM, next node from the server list' },
  { id: 'cluster-failover-discovered', file: 'cluster-failover.test.ts', fault: '3-node cluster, node SIGKILL, next node from the discovered URLs' },
  { id: 'never-returns', file: 'never-returns.test.ts', fault: 'server SIGKILLed and never restarted' },
  { id: 'worker-terminated', file: 'worker-death.test.ts', fault: 'worker thread terminated from outside' },
  { id: 'worker-throws', file: 'worker-death.test.ts', fault: 'worker thread throwing inside' },
  { id: 'outage-soak-3s', file: 'outage-soak.test.ts', fault: '3 s outage under a hot producer' },
  { id: 'outage-soak-20s', file: 'outage-soak.test.ts', fault: '20 s outage under a hot producer', soak: true },
  { id: 'hostile-input', file: 'hostile-input.test.ts', fault: 'hostile input mixed in with sequence messages' },
  { id: 'hostile-oversize-buffered', file: 'hostile-input.test.ts', fault: 'messages over max_payload buffered before the first INFO' },
  { id: 'server-err', file: 'server-err.test.ts', fault: 'server -ERR (Permissions Violation) on some publishes' },
  { id: 'auth-bad-password', file: 'auth-tls.test.ts', fault: 'wrong password, no waitForConnect' },
  { id: 'tls-wrong-ca', file: 'auth-tls.test.ts', fault: 'TLS server signed by an untrusted CA, maxReconnectAttempts 2' },
  { id: 'contrast-nats-cut', file: 'nats-client-contrast.test.ts', fault: '`nats` client: TCP reset every 200 ms' },
  { id: 'contrast-nats-restart', file: 'nats-client-contrast.test.ts', fault: '`nats` client: server SIGTERM and restart' },
];

/** The defects of issue 8, each closed by a regression test that writes records with `defect: n`. */
const DEFECTS: ReadonlyMap<number, string> = new Map([
  [1, 'A black-holed path under load is never detected: the stale-connection close waits on a socket write that never completes'],
  [2, 'drop-oldest can drop frames that were just handed to a live socket (connection state read before the ring lock)'],
  [3, 'maxBufferedAge frees no space during an outage: expired frames are skipped only at send time'],
  [4, 'flush() can resolve for messages no server saw; a timed-out flush stays in the worker forever'],
  [5, 'The \'drain\' event can be lost when FULL is raised after the worker\'s last reopen check'],
  [6, 'createPublisher({ waitForConnect: true }) can hang forever (TLS certificate failures retried forever; no connect bound)'],
  [
    7,
    'Smaller: control characters in subjects accepted; reconnectBufSize -1 ready() while disconnected; drop-oldest refusing and ' +
      'blocking after the lock wait; oldestPendingAgeMs at the coarse-clock wrap; MAX_PAYLOAD_EXCEEDED again after each reconnect; ' +
      'rejection reason read after a reopen',
  ],
]);

/** The repository root: the nearest directory above this file (or its build in dist/) with package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** Every record in the results directory, by id; the id must match the file name. */
function readRecords(root: string): Map<string, FaultRecord> {
  const dir = join(root, FAULT_RESULTS_DIR);
  const records = new Map<string, FaultRecord>();
  if (!existsSync(dir)) return records;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const source = `${FAULT_RESULTS_DIR}/${name}`;
    const r = parseFaultRecord(JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown, source);
    if (`${r.id}.json` !== name) throw new Error(`${source}: id \`${r.id}\` does not match the file name`);
    records.set(r.id, r);
  }
  return records;
}

/** A listed row no test writes any more would read "not run" forever: refuse instead. */
function checkExpectedRows(root: string): void {
  for (const row of EXPECTED_ROWS) {
    const file = join(root, FAULT_TESTS, row.file);
    if (!existsSync(file) || !readFileSync(file, 'utf8').includes(`'${row.id}'`)) {
      throw new Error(`EXPECTED_ROWS in scripts/reliability.ts: ${FAULT_TESTS}/${row.file} does not write \`${row.id}\`; update the list`);
    }
  }
}

const count = (n: number | undefined): string => (n === undefined ? '–' : n.toLocaleString('en-US'));
/** Table-cell text: no line breaks, pipes escaped. */
const cell = (s: string): string => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
const when = (at: string): string => `${at.slice(0, 10)} ${at.slice(11, 16)} UTC`;
const runOf = (r: FaultRecord): string => `${when(r.at)}, Node ${r.node}, nats-server ${r.natsServer}`;
const outcomeOf = (r: FaultRecord): string => (r.outcome === 'passed' ? 'passed' : '**failed**');
const testOf = (r: FaultRecord): string => `\`${r.test.file.replace(`${FAULT_TESTS}/`, '')}\``;
const commandFor = (row: ExpectedRow): string => (row.soak === true ? `\`${SOAK_COMMAND}\`` : `\`npx vitest run ${FAULT_TESTS}/${row.file}\``);
const userSeesOf = (r: FaultRecord): string => cell(r.notes === undefined ? r.userSees : `${r.userSees} (${r.notes})`);

function droppedOf(r: FaultRecord): string {
  const parts = [
    ['oversize', r.droppedOversize],
    ['oldest', r.droppedOldest],
    ['expired', r.expired],
  ] as const;
  if (parts.every(([, n]) => n === undefined)) return '–';
  const nonZero = parts.filter(([, n]) => (n ?? 0) > 0);
  return nonZero.length === 0 ? '0' : nonZero.map(([k, n]) => `${count(n)} ${k}`).join(', ');
}

const OFFLOAD_HEAD =
  '| Fault | What the user sees | Accepted | Confirmed | Reported unsent | Dropped (reported) | Rejected (counted) | Resent / duplicate arrivals | Lost silently | Test | Run |\n' +
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|';

function offloadRow(r: FaultRecord): string {
  return `| ${cell(r.fault)} | ${userSeesOf(r)} | ${count(r.accepted)} | ${count(r.sent)} | ${count(r.unsent)} | ${droppedOf(r)} | ${count(r.rejected)} | ${count(r.resent)} / ${count(r.duplicates)} | **${count(r.lostSilently)}** | ${testOf(r)} ${outcomeOf(r)} | ${runOf(r)} |`;
}

const CONTRAST_HEAD = '| Fault | What the user sees | Published | Duplicate arrivals | Lost silently | Test | Run |\n|---|---|---:|---:|---:|---|---|';

function contrastRow(r: FaultRecord): string {
  return `| ${cell(r.fault)} | ${userSeesOf(r)} | ${count(r.accepted)} | ${count(r.duplicates)} | **${count(r.lostSilently)}** | ${testOf(r)} ${outcomeOf(r)} | ${runOf(r)} (nats ${r.natsClient}) |`;
}

function notRunRow(row: ExpectedRow, columns: number): string {
  return `| ${cell(row.fault)} | **not run**: no \`${row.id}.json\`; ${commandFor(row)} writes it |${' – |'.repeat(columns - 2)}`;
}

const REGRESSION_HEAD =
  '| Defect | Fault | What the user sees | Accepted | Confirmed | Reported unsent | Dropped (reported) | Lost silently | Test | Run |\n' +
  '|---:|---|---|---:|---:|---:|---:|---:|---|---|';

function regressionRows(byDefect: ReadonlyMap<number, FaultRecord[]>): string[] {
  const rows: string[] = [];
  for (const [n, title] of DEFECTS) {
    const records = byDefect.get(n) ?? [];
    if (records.length === 0) rows.push(`| ${n} | ${cell(title)} | **not run**: no record with \`defect: ${n}\` yet | – | – | – | – | – | – | – |`);
    for (const r of records) {
      rows.push(
        `| ${n} | ${cell(r.fault)} | ${userSeesOf(r)} | ${count(r.accepted)} | ${count(r.sent)} | ${count(r.unsent)} | ${droppedOf(r)} | **${count(r.lostSilently)}** | ${testOf(r)} ${outcomeOf(r)} | ${runOf(r)} |`,
      );
    }
  }
  for (const [n, records] of byDefect) {
    if (!DEFECTS.has(n)) for (const r of records) rows.push(`| ${n} (not in issue 8) | ${cell(r.fault)} | ${userSeesOf(r)} | ${count(r.accepted)} | ${count(r.sent)} | ${count(r.unsent)} | ${droppedOf(r)} | **${count(r.lostSilently)}** | ${testOf(r)} ${outcomeOf(r)} | ${runOf(r)} |`);
  }
  return rows;
}

/** The "Known gaps" items, each naming the record (or its absence) it comes from. */
function knownGaps(records: readonly FaultRecord[], byDefect: ReadonlyMap<number, FaultRecord[]>, notRun: readonly ExpectedRow[]): string {
  const out: string[] = [];
  const defects: string[] = [];
  for (const [n, title] of DEFECTS) {
    const rs = byDefect.get(n) ?? [];
    const failed = rs.filter((r) => r.outcome === 'failed');
    if (rs.length === 0) defects.push(`- **Defect ${n}.** ${title}. Open: no regression test has written a record for it yet.`);
    else if (failed.length > 0) defects.push(`- **Defect ${n}.** ${title}. Open: ${failed.map((r) => `\`${r.id}\` failed (${when(r.at)})`).join(', ')}.`);
  }
  out.push('### Open defects (issue 8)', '', 'A defect is closed when every record carrying its number comes from a passing test.', '');
  out.push(...(defects.length > 0 ? defects : ['None: every defect has passing regression records.']), '');

  const failing = records.filter((r) => r.defect === undefined && r.outcome === 'failed');
  out.push('### Fault tests that failed in the recorded run', '');
  out.push(...(failing.length > 0 ? failing.map((r) => `- \`${r.id}\` (${testOf(r)}, "${cell(r.test.name)}", ${when(r.at)}): ${cell(r.fault)}. The user saw: ${cell(r.userSees)}.`) : ['None.']), '');

  const lost = records.filter((r) => r.client === 'nats-offload' && r.lostSilently > 0);
  const gaps = records.filter((r) => r.gap !== undefined);
  out.push('### Gaps the records show', '');
  const shown = [
    ...lost.map((r) => `- \`${r.id}\`: ${count(r.lostSilently)} accepted message(s) lost silently (${cell(r.fault)}).`),
    ...gaps.map((r) => `- \`${r.id}\`: ${cell(r.gap ?? '')}`),
  ];
  out.push(...(shown.length > 0 ? shown : ['None: no nats-offload row lost a message silently, and no record carries a `gap`.']), '');

  out.push('### Rows without a result', '');
  out.push(...(notRun.length > 0 ? notRun.map((row) => `- \`${row.id}\` (${cell(row.fault)}): not run; ${commandFor(row)}.`) : ['None: every listed row has a record.']), '');
  return out.join('\n');
}

/** Distinct values of `pick` over the records, for the header. */
const distinct = (records: readonly FaultRecord[], pick: (r: FaultRecord) => string): string => [...new Set(records.map(pick))].sort().join(', ');

function render(records: ReadonlyMap<string, FaultRecord>): string {
  const all = [...records.values()];
  const byDefect = new Map<number, FaultRecord[]>();
  for (const r of all) if (r.defect !== undefined) byDefect.set(r.defect, [...(byDefect.get(r.defect) ?? []), r]);
  const listed = new Set(EXPECTED_ROWS.map((row) => row.id));
  const notRun = EXPECTED_ROWS.filter((row) => !records.has(row.id));
  const rowsFor = (client: FaultRecord['client'], head: string, row: (r: FaultRecord) => string, columns: number): string => {
    const lines = [head];
    for (const expected of EXPECTED_ROWS) {
      const r = records.get(expected.id);
      if (r !== undefined && r.defect === undefined && r.client === client) lines.push(row(r));
      else if (r === undefined && (expected.file === CONTRAST_FILE ? 'nats' : 'nats-offload') === client) lines.push(notRunRow(expected, columns));
    }
    for (const r of all) if (!listed.has(r.id) && r.defect === undefined && r.client === client) lines.push(row(r));
    return lines.join('\n');
  };
  const offload = all.filter((r) => r.client === 'nats-offload' && r.defect === undefined);
  const lostRows = offload.filter((r) => r.lostSilently > 0).length;
  const ats = all.map((r) => r.at).sort();
  const span = ats.length === 0 ? 'no records' : `${all.length} records written ${when(ats[0]!)} – ${when(ats[ats.length - 1]!)}`;
  const versions = all.length === 0 ? '' : `; Node ${distinct(all, (r) => r.node)}; nats-server ${distinct(all, (r) => r.natsServer)}; nats ${distinct(all, (r) => r.natsClient)}`;

  return `<!-- Generated by \`npm run reliability\` (scripts/reliability.ts) from ${FAULT_RESULTS_DIR}/*.json. Do not edit by hand. -->

# Reliability under faults

> **Generated file; do not edit by hand.** To refresh it: \`npx vitest run ${FAULT_TESTS}\` (each
> fault test writes its row to \`${FAULT_RESULTS_DIR}/<id>.json\`; add \`${SOAK_COMMAND}\` for the
> 20 s soak row), then \`npm run reliability\`. The prose is a template in \`scripts/reliability.ts\`;
> every number, and every known gap, comes from the result files. Each row says when, on which Node
> and on which nats-server it ran; counts such as resends vary from run to run.
>
> In this file: ${span}${versions}.

The promise: **every message \`publish()\` accepted is either confirmed by a server or reported back
(unsent at close, or dropped and counted); nothing disappears silently.** The fault-injection suite
in \`${FAULT_TESTS}/\` checks it one fault per file, against real nats-server processes.

## How it is measured

- The publisher streams sequence-numbered payloads (seq in bytes 0–3, a marker at byte 4; some
  tests add a seq-derived pattern over random lengths up to 6 KiB). A number is used only when
  \`tryPublish()\` accepts the message, so the accepted messages are exactly seq \`0..accepted-1\`.
- A counting subscriber (the \`nats\` client) connects **straight to the server**, not through the
  fault, and reports missing, duplicate, out-of-order and corrupt arrivals.
- The nats-offload tests whose messages reach a server end with these checks
  (\`expectDelivered()\` in \`test/helpers/faults-harness.ts\`); the auth and TLS rows, where no
  message reaches a server, check the close report and the error instead:
  - every confirmed message arrived (the ring is FIFO, so the confirmed ones are seq \`< sent\`), and
    \`sent\` ≤ distinct arrivals ≤ accepted − dropped;
  - the messages the subscriber never saw are no more than \`unsent\` + dropped (all reported);
  - duplicate arrivals are no more than \`stats().resent\`;
  - nothing arrived out of order (a resent duplicate is counted as a duplicate, not out of order)
    and no payload was corrupt;
  - the counters balance: \`accepted = sent + pendingMessages + unsent + droppedOversize +
    droppedOldest + expired\`, every term a non-negative integer. Each term has its own source:
    \`pendingMessages\` (and \`unsent\`, what was pending at close) comes from the ring's own
    counters (messages committed minus messages released), \`sent\` and the drops from whoever
    released them; while the publisher is open, \`pendingMessages\` and \`pendingBytes\` are also
    checked against a walk of the ring's frames (\`expectRingAgrees()\`).
- **Lost silently** means accepted, then neither delivered nor reported: confirmed but missing,
  plus anything missing beyond the reported \`unsent\`. ${lostRows === 0 ? `It is 0 in all ${offload.length} nats-offload rows below.` : `It is above 0 in ${lostRows} of the ${offload.length} nats-offload rows below (see Known gaps).`}
- **Dropped (reported)** are messages given up on purpose and counted (\`droppedOversize\`,
  \`droppedOldest\`, \`expired\`); they are not lost silently.
- The **Test** column names the file and the test's outcome: a test writes its row when it
  finishes, so "passed" means every check in it held on that run; "**failed**" rows are listed
  under Known gaps.
- Faults on the path come from the test proxy (\`test/helpers/fault-proxy.ts\`): TCP resets,
  refused connects, stalls. Server faults stop real processes (SIGTERM or SIGKILL); worker faults
  terminate or crash the worker thread through test hooks.

## nats-offload

${rowsFor('nats-offload', OFFLOAD_HEAD, offloadRow, 11)}

## The \`nats\` client on the main thread, for contrast

\`${FAULT_TESTS}/${CONTRAST_FILE}\` runs the same faults against \`nc.publish()\`
through the same proxy, with a fresh payload per message (nats.js keeps a reference to the payload
until it writes it out). The test checks that \`stats().outMsgs\` counts every message as sent.

${rowsFor('nats', CONTRAST_HEAD, contrastRow, 7)}

The \`nats\` client gives no error per message and cannot say which messages were lost; its
\`outMsgs\` counts them as sent. The cause is in nats.js: every dial attempt calls
\`resetOutbound()\`, which empties the buffer of pending publishes.

## Regressions (issue 8)

One or more rows per defect of issue 8, written by its regression test (a record with
\`defect: <n>\`); "not run" until that test exists and has run.

${[REGRESSION_HEAD, ...regressionRows(byDefect)].join('\n')}

## Known gaps

Generated from the records above: open defects, failed tests, silent losses and \`gap\` notes, and
rows that have not run.

${knownGaps(all, byDefect, notRun)}
### Not promised, by design

A PONG confirms that the publisher's own server processed a message. It does not confirm delivery
to subscribers on other cluster nodes: a node killed between sending the PONG and forwarding the
message over its routes can lose confirmed messages, and no client can detect that.

## Running it

- \`npx vitest run ${FAULT_TESTS}\` runs the whole suite, with the 3 s outage soak; a single file
  runs with \`npx vitest run ${FAULT_TESTS}/<file>\` and rewrites only its rows.
- \`${SOAK_COMMAND}\` (\`SOAK=1\`) adds the 20 s outage soak. Without it that test shows as skipped,
  and its name says why.
- \`npm run reliability\` then rewrites this file; \`npm run build && node dist/scripts/reliability.js
  --check\` exits 1 when this file is out of date with the results.
`;
}

function main(): void {
  const root = repoRoot();
  checkExpectedRows(root);
  const records = readRecords(root);
  const text = render(records);
  const target = join(root, OUTPUT);
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== text) {
      console.error(`${OUTPUT} is out of date with ${FAULT_RESULTS_DIR}: run \`npm run reliability\``);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(target, text);
  console.log(`wrote ${OUTPUT} from ${records.size} result files in ${FAULT_RESULTS_DIR}`);
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
