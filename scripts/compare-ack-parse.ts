/**
 * Micro-benchmark: the ack parser's scan against JSON.parse of every body, on the PubAck bodies
 * nats-server sends (`{"stream":"S", "seq":N}`). Paired rounds, sides alternating; prints ns/ack.
 *   npm run build && node dist/scripts/compare-ack-parse.js
 */
import { AckKind, ParsedAck, parseAck, parseAckWithJson } from '../worker/jetstream-acks.js';

const N = 4096;
const enc = new TextEncoder();
const subjects = Array.from({ length: N }, (_, i) => enc.encode(`_INBOX.9fXq2LkP0aZ3.${1_000_000 + i}`));
const bodies = Array.from({ length: N }, (_, i) =>
  enc.encode(
    i % 50 === 0 ? `{"stream":"TELEMETRY", "seq":${5_000_000 + i},"duplicate": true}` : `{"stream":"TELEMETRY", "seq":${5_000_000 + i}}`,
  ),
);

function run(parse: typeof parseAck, rounds: number): number {
  const out = new ParsedAck();
  let check = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < N; i++) {
      if (parse(subjects[i]!, bodies[i]!, -1, out) === AckKind.INVALID) throw new Error('invalid');
      check += out.streamSeq;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / (rounds * N);
  if (check === 0) throw new Error('unreachable');
  return ns;
}

run(parseAck, 50);
run(parseAckWithJson, 50);
const scan: number[] = [];
const json: number[] = [];
for (let pair = 0; pair < 10; pair++) {
  if (pair % 2 === 0) {
    scan.push(run(parseAck, 50));
    json.push(run(parseAckWithJson, 50));
  } else {
    json.push(run(parseAckWithJson, 50));
    scan.push(run(parseAck, 50));
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
const ratios = scan.map((s, i) => json[i]! / s);
console.log(`ack parse, ns per ack (median of 10 paired rounds of ${50 * N}; range):`);
console.log(`  scan:       ${median(scan).toFixed(0)} ns (${range(scan)})`);
console.log(`  JSON.parse: ${median(json).toFixed(0)} ns (${range(json)})`);
console.log(`  JSON.parse / scan: ${median(ratios).toFixed(1)}x (${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)})`);
