// What a publisher costs when it publishes in bursts with pauses between them (a telemetry tick):
// for each build and burst rate, a fresh process publishes bursts of 100 messages of 128 B for 4 s,
// timing each burst on the calling thread (one microtask turn included, where waking the worker
// happens) and reading the whole process's CPU (process.cpuUsage: main, worker and V8 helpers).
// Builds alternate per rate, so drifting load falls on both.
// usage: node scripts/compare-burst-cost.mjs <nats url> <A/dist> <B/dist> [rates in Hz, default 10,50,200,1000]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [url, a, b, rates = '10,50,200,1000'] = process.argv.slice(2);
if (process.env.BURST_CHILD === '1') {
  const [dist, hz] = [a, Number(b)];
  const { createPublisher } = await import(`${dist}/src/index.js`);
  const pub = await createPublisher({ servers: url, waitForConnect: true });
  const payload = new Uint8Array(128).fill(120);
  await new Promise((r) => setTimeout(r, 300));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let callerNs = 0;
  let bursts = 0;
  while (performance.now() - t0 < 4000) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) pub.tryPublish('burst.cost', payload);
    await undefined;
    callerNs += Number(process.hrtime.bigint() - t);
    bursts++;
    await new Promise((r) => setTimeout(r, 1000 / hz));
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${((cpu.user + cpu.system) / 1000 / seconds).toFixed(1)} ${(callerNs / bursts / 1000).toFixed(1)}`);
  await pub.close();
} else {
  if (url === undefined || a === undefined || b === undefined) {
    console.error('usage: compare-burst-cost.mjs <nats url> <A/dist> <B/dist> [rates in Hz]');
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  console.log('rate     build  process CPU ms/s  caller µs per burst of 100');
  for (const hz of rates.split(',')) {
    for (const [label, dist] of [
      ['A', a],
      ['B', b],
    ]) {
      const out = execFileSync(process.execPath, [self, url, dist, hz], { env: { ...process.env, BURST_CHILD: '1' } })
        .toString()
        .trim();
      const [cpu, caller] = out.split(' ');
      console.log(`${hz.padStart(4)} Hz  ${label}      ${cpu.padStart(16)}  ${caller.padStart(26)}`);
    }
  }
}
