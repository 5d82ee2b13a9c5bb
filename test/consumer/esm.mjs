// A consumer's ESM script, run from a temp project with the packed tarball installed.
// argv: <server url> <subject> <count>; prints the close report as JSON.
import { createPublisher } from 'nats-offload';

const [url, subject, count] = process.argv.slice(2);
const pub = await createPublisher({ servers: url, waitForConnect: true });
for (let i = 0; i < Number(count); i++) pub.publish(subject, `esm ${i}`);
const report = await pub.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
