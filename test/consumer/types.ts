// Type-checked (never run) against the installed package's declarations, under moduleResolution
// node16 and bundler. The @ts-expect-error lines fail the check if the types degrade to `any`.
import {
  BufferFullError,
  type BufferLimit,
  type CloseReport,
  createPublisher,
  DEFAULTS,
  NatsOffloadError,
  type PublisherEvent,
  type PublisherOptions,
  type PublisherStats,
  type Subject,
} from 'nats-offload';

const options: PublisherOptions = { servers: 'nats://127.0.0.1:4222', reconnectBufSize: 8 * 1024 * 1024, overflow: 'reject' };
// @ts-expect-error reconnectBufSize is a number
const wrong: PublisherOptions = { reconnectBufSize: '8' };
const defaultBytes: number = DEFAULTS.reconnectBufSize;

export async function consume(): Promise<CloseReport> {
  const pub = await createPublisher(options);
  const handle: Subject = pub.subject('telemetry.cpu');
  pub.publish(handle, new Uint8Array(16));
  pub.publish('telemetry.cpu', JSON.stringify({ cpu: 0.42 }), { headers: { Unit: 'ratio' } });
  // @ts-expect-error a payload is required
  pub.publish('telemetry.cpu');
  const accepted: boolean = pub.tryPublish('telemetry.mem', 'x');
  try {
    pub.publish('telemetry.mem', 'y');
  } catch (err) {
    if (err instanceof BufferFullError) {
      const limit: BufferLimit = err.limit;
      const code: string = err.code;
      void [limit, code];
    } else if (err instanceof NatsOffloadError) {
      void err.code;
    }
  }
  const destination = pub.destination('logs.app', { flushTimeout: 1000 });
  const lineAccepted: boolean = destination.write('{"msg":"hello"}\n');
  const refused: number = destination.refused;
  const stats: PublisherStats = pub.stats();
  for await (const event of pub.events()) {
    const e: PublisherEvent = event;
    if (e.type === 'closed') break;
  }
  await pub.flush({ timeout: 1000 });
  void [wrong, defaultBytes, accepted, lineAccepted, refused, stats.pendingBytes];
  return pub.close();
}
