/** Progress lines on stderr, so stdout carries only the final table. */

const started = performance.now();

export function progress(message: string): void {
  const s = Math.floor((performance.now() - started) / 1000);
  const stamp = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  process.stderr.write(`[${stamp}] ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
