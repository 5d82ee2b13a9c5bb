/**
 * A bare NATS protocol connection over one `net` socket, for the raw-frame ceiling and the
 * counting subscriber: no client library between the bytes and the wire.
 */
import { connect, type Socket } from 'node:net';

const CR = 13;

export interface RawHandlers {
  /** A MSG arrived; its payload is `buf[start, end)` (valid only during the call). */
  onMsg?(buf: Buffer, start: number, end: number): void;
  onError?(line: string): void;
}

export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url.includes('://') ? url : `nats://${url}`);
  return { host: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname, port: Number(u.port || 4222) };
}

export class RawNatsConnection {
  private leftover: Buffer | undefined;
  private readonly pongs: (() => void)[] = [];
  private closedReason: Error | undefined;

  private constructor(
    readonly socket: Socket,
    private readonly handlers: RawHandlers,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => (this.closedReason = err));
    socket.on('close', () => {
      this.closedReason ??= new Error('connection closed');
      for (const p of this.pongs.splice(0)) p();
    });
  }

  /** Connects, sends CONNECT (no echo, not verbose) and waits for the first PONG. */
  static async open(url: string, handlers: RawHandlers = {}, name = 'bench-raw'): Promise<RawNatsConnection> {
    const { host, port } = hostPort(url);
    const socket = connect({ host, port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawNatsConnection(socket, handlers);
    const opts = { verbose: false, pedantic: false, echo: false, headers: false, name, lang: 'raw', version: '0', protocol: 1 };
    socket.write(`CONNECT ${JSON.stringify(opts)}\r\n`);
    await c.ping();
    return c;
  }

  /** Queues bytes; false when the socket's write queue is over its high-water mark. */
  write(bytes: Uint8Array | string): boolean {
    return this.socket.write(bytes);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.socket.once('drain', resolve));
  }

  /** Sends PING; resolves on the PONG, i.e. once the server has processed everything before it. */
  ping(): Promise<void> {
    if (this.closedReason !== undefined) return Promise.reject(this.closedReason);
    return new Promise<void>((resolve, reject) => {
      this.pongs.push(() => (this.closedReason === undefined ? resolve() : reject(this.closedReason)));
      this.socket.write('PING\r\n');
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  private onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.leftover !== undefined) {
      buf = Buffer.concat([this.leftover, chunk]);
      this.leftover = undefined;
    }
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      const cr = buf.indexOf(CR, pos);
      if (cr < 0 || cr + 1 >= len) break;
      const c0 = buf[pos];
      if (c0 === 77 /* M */) {
        // MSG <subject> <sid> [reply] <size>: the size is the last number on the line.
        let size = 0;
        let scale = 1;
        for (let i = cr - 1; i > pos; i--) {
          const ch = buf[i]!;
          if (ch < 48 || ch > 57) break;
          size += (ch - 48) * scale;
          scale *= 10;
        }
        const start = cr + 2;
        const end = start + size;
        if (end + 2 > len) break;
        this.handlers.onMsg?.(buf, start, end);
        pos = end + 2;
        continue;
      }
      const line = buf.toString('latin1', pos, cr);
      pos = cr + 2;
      if (line === 'PING') this.socket.write('PONG\r\n');
      else if (line === 'PONG') this.pongs.shift()?.();
      else if (line.startsWith('-ERR')) this.handlers.onError?.(line);
      // INFO and +OK need no answer.
    }
    if (pos < len) this.leftover = buf.subarray(pos);
  }
}

/** `count` copies of `PUB subject n\r\n<payload>\r\n` back to back, as one buffer. */
export function pubFrames(subject: string, payload: Uint8Array, count: number): Buffer {
  const head = Buffer.from(`PUB ${subject} ${payload.length}\r\n`);
  const frame = Buffer.concat([head, payload, Buffer.from('\r\n')]);
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

export function frameLength(subject: string, payloadBytes: number): number {
  return Buffer.byteLength(`PUB ${subject} ${payloadBytes}\r\n`) + payloadBytes + 2;
}
