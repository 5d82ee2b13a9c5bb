// Main-thread publish cost of two builds of nats-offload, side by side in one process: one subject,
// 1,000 subjects in a fixed order, 1,000 others in random order. Batches of both builds alternate in
// a shuffled order each round (timed: the batch and one microtask turn; untimed: the flush, so the
// ring starts empty); the figure per case is the median of per-round ratios B/A. Each build gets its
// own subject strings, so neither sees strings the other has already flattened or hashed.
// Run it twice, the second time with A and B swapped, and take the geometric mean of the two
// ratios: on Node 22 and 26 (AMD EPYC, 2 cores) A/A runs measured the build loaded second 3-8% (once
// 16%) slower; on Node 20 A/A gave 1.00. Swapping cancels that.
// usage: node scripts/compare-publish-cost.mjs <url> <dist/src/index.js of A> <... of B> [labelA] [labelB]
const [url, a, b, la = 'A', lb = 'B'] = process.argv.slice(2);
if (url === undefined || a === undefined || b === undefined) {
  console.error('usage: compare-publish-cost.mjs <nats url> <A/dist/src/index.js> <B/dist/src/index.js> [labelA] [labelB]');
  process.exit(2);
}
const N = 1000;
const ROUNDS = 300;
const BATCH = 1000;
let seed = 1;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
const picks = Array.from({ length: 1 << 16 }, () => Math.floor(random() * N));
const builds = [];
for (const path of [a, b]) {
  const pub = await (await import(path)).createPublisher({ servers: url, waitForConnect: true });
  const cycle = Array.from({ length: N }, (_, i) => `telemetry.host-${i}.cpu`);
  const others = Array.from({ length: N }, (_, i) => `telemetry.host-${i}.mem`);
  builds.push({ pub, cycle, randomOrder: picks.map((i) => others[i]), at: 0, pick: 0 });
}
const cases = {
  'one subject': (x, payload) => {
    for (let i = 0; i < BATCH; i++) if (!x.pub.tryPublish('telemetry.cpu', payload)) throw new Error('ring full: lower the batch');
  },
  [`${N} in a fixed order`]: (x, payload) => {
    for (let i = 0; i < BATCH; i++) {
      if (!x.pub.tryPublish(x.cycle[x.at], payload)) throw new Error('ring full: lower the batch');
      if (++x.at === N) x.at = 0;
    }
  },
  [`${N} in random order`]: (x, payload) => {
    for (let i = 0; i < BATCH; i++) {
      if (!x.pub.tryPublish(x.randomOrder[x.pick], payload)) throw new Error('ring full: lower the batch');
      x.pick = (x.pick + 1) & 0xffff;
    }
  },
};
const median = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
for (const size of [16, 128, 1024]) {
  const payload = new Uint8Array(size);
  for (const [name, publish] of Object.entries(cases)) {
    const ns = [[], []];
    for (let round = -50; round < ROUNDS; round++) {
      const first = random() < 0.5 ? 0 : 1;
      for (const k of [first, 1 - first]) {
        const t = process.hrtime.bigint();
        publish(builds[k], payload);
        // One microtask turn inside the window, as in the bench: work a build defers there (its
        // tail's publication, waking the worker) is the caller's cost too.
        await undefined;
        const dt = Number(process.hrtime.bigint() - t) / BATCH;
        await builds[k].pub.flush();
        if (round >= 0) ns[k].push(dt);
      }
    }
    const ratio = median(ns[1].map((v, i) => v / ns[0][i]));
    console.log(
      `${String(size).padStart(5)} B  ${name.padEnd(20)} ${la} ${median(ns[0]).toFixed(1)} ns  ${lb} ${median(ns[1]).toFixed(1)} ns  ${lb}/${la} ${ratio.toFixed(2)}`,
    );
  }
}
for (const x of builds) await x.pub.close();
