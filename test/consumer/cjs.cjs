// A consumer's CommonJS script: require() of the ESM package (Node 20.19+ / 22.12+ load it synchronously).
// argv: <server url> <subject> <count>; prints the close report as JSON.
const { createPublisher } = require('nats-offload');

const [url, subject, count] = process.argv.slice(2);
createPublisher({ servers: url, waitForConnect: true })
  .then(async (pub) => {
    for (let i = 0; i < Number(count); i++) pub.publish(subject, `cjs ${i}`);
    const report = await pub.close();
    process.stdout.write(`${JSON.stringify(report)}\n`);
  })
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
