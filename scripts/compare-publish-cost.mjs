// Main-thread publish cost of two builds of nats-offload, side by side in one process, rounds
// alternating so drifting load cancels. Each round: a batch of accepted publishes (timed), then
// an awaited flush (untimed) so the ring starts the next batch empty.
// usage: node scripts/compare-publish-cost.mjs <url> <dist/src/index.js of A> <... of B> [labelA] [labelB]
const [url, a, b, la = 'A', lb = 'B'] = process.argv.slice(2);
const libs = [await import(a), await import(b)];
const pubs = [];
for (const lib of libs) pubs.push(await lib.createPublisher({ servers: url, waitForConnect: true }));
for (const size of [16, 128, 1024]) {
  const payload = new Uint8Array(size);
  const batch = Math.floor(2e6 / (size + 30));
  const times = [[], []];
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k < 2; k++) {
      const pub = pubs[(round + k) % 2];
      const t = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) if (!pub.tryPublish('telemetry.cpu', payload)) throw new Error('ring full: lower the batch');
      times[(round + k) % 2].push(Number(process.hrtime.bigint() - t) / batch);
      await pub.flush();
    }
  }
  const med = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
  const [ma, mb] = [med(times[0]), med(times[1])];
  console.log(`${String(size).padStart(5)} B  ${la} ${ma.toFixed(1)} ns  ${lb} ${mb.toFixed(1)} ns  ${lb}/${la} ${(mb / ma).toFixed(2)}`);
}
for (const p of pubs) await p.close();
