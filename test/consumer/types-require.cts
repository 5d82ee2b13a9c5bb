// A CommonJS TypeScript consumer: `import x = require()` of the ESM package. Type-checked under
// module nodenext (TypeScript 5.8+ models Node's require(esm)); node16 rejects it (TS1471).
import offload = require('nats-offload');

export async function consume(): Promise<offload.CloseReport> {
  const pub = await offload.createPublisher({ servers: 'nats://127.0.0.1:4222' });
  // @ts-expect-error a payload is required
  pub.publish('telemetry.cpu');
  return pub.close();
}
