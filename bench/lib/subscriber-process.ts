/** The bench's side of a subscriber child process (bench/subscriber.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SeqReport } from './seq.js';
import type { FromSubscriber, SubscriberMode, ToSubscriber } from './subscriber-protocol.js';

export interface SubscriberResult {
  readonly report: SeqReport;
  readonly firstAt: number;
  /** When the report was taken (all expected arrived, or the wait ran out). */
  readonly lastAt: number;
  readonly waitedMs: number;
}

export class SubscriberProcess {
  readonly resubscribedAt: number[] = [];
  readonly disconnectedAt: number[] = [];
  /** Latest cumulative counts from `progress` messages. */
  received = 0;
  unique = 0;
  private pendingReport: ((r: SubscriberResult) => void) | undefined;
  private exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: FromSubscriber) => {
      switch (m.type) {
        case 'progress':
          this.received = m.received;
          this.unique = m.unique;
          break;
        case 'resubscribed':
          this.resubscribedAt.push(m.at);
          break;
        case 'disconnected':
          this.disconnectedAt.push(m.at);
          break;
        case 'report': {
          const r = this.pendingReport;
          this.pendingReport = undefined;
          r?.({ report: m.report, firstAt: m.firstAt, lastAt: m.lastAt, waitedMs: m.waitedMs });
          break;
        }
        case 'ready':
          break;
      }
    });
  }

  /** Forks the subscriber and resolves once its subscription is registered with the server. */
  static async start(mode: SubscriberMode, url: string, subject: string, progressMs = 0): Promise<SubscriberProcess> {
    const file = fileURLToPath(new URL('../subscriber.js', import.meta.url));
    const child = fork(file, [mode, url, subject, String(progressMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sub = new SubscriberProcess(child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromSubscriber): void => {
        if (m.type !== 'ready') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null): void => reject(new Error(`subscriber exited before it was ready (code ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return sub;
  }

  /** Resolves once every sequence in [0, expected) arrived, or after `waitMs`, with the counts. */
  report(expected: number, waitMs: number, split = 0): Promise<SubscriberResult> {
    return new Promise((resolve) => {
      this.pendingReport = resolve;
      this.post({ type: 'report', expected, waitMs, split });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.post({ type: 'exit' });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(killer);
  }

  private post(m: ToSubscriber): void {
    this.child.send(m);
  }
}
