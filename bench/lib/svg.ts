/** The bench's one chart: time series as hand-written SVG (no dependencies). */

export const COLORS: Readonly<Record<string, string>> = {
  'nats-offload': '#1f77b4',
  nats: '#d62728',
  raw: '#7f7f7f',
};
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#7f7f7f'];

const W = 760;
const H = 420;
const M = { top: 48, right: 24, bottom: 64, left: 76 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '0';
}

/** About `count` round tick values covering [0 or min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  if (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

function frame(title: string, body: string[], subtitle?: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    subtitle === undefined ? '' : `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(ticks: number[], y: (v: number) => number, label: string, fmt: (v: number) => string): string[] {
  const out: string[] = [];
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${num(y(t) + 4)}" text-anchor="end">${esc(fmt(t))}</text>`);
  }
  out.push(
    `<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#333"/>`,
  );
  return out;
}

function legend(names: readonly string[], colors: readonly string[], dashes: readonly (boolean | undefined)[] = []): string[] {
  const out: string[] = [];
  let x = M.left + 8;
  const y = M.top + 10;
  names.forEach((n, i) => {
    out.push(
      `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${colors[i]}" stroke-width="6"${dashes[i] ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${x + 24}" y="${y + 4}">${esc(n)}</text>`,
    );
    x += 34 + n.length * 7;
  });
  return out;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly color?: string;
  readonly dashed?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly series: readonly LineSeries[];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly format: (v: number) => string;
  /** Shaded x ranges (e.g. the outage). */
  readonly bands?: readonly { readonly from: number; readonly to: number; readonly label: string }[];
  /** Horizontal reference lines (e.g. a buffer limit). */
  readonly hlines?: readonly { readonly y: number; readonly label: string; readonly color?: string }[];
}

export function lineChart(c: LineChart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.hlines ?? []).map((h) => h.y)];
  const xMax = Math.max(...xs, 1);
  const yMin = Math.min(0, ...ys);
  const ticks = niceTicks(yMin, Math.max(...ys, 1) * 1.05);
  const bottom = ticks[0]!;
  const top = ticks[ticks.length - 1]!;
  const x = (v: number): number => M.left + (v / xMax) * PW;
  const y = (v: number): number => M.top + PH - ((v - bottom) / (top - bottom)) * PH;
  const body: string[] = [];
  for (const b of c.bands ?? []) {
    body.push(`<rect x="${num(x(b.from))}" y="${M.top}" width="${num(x(b.to) - x(b.from))}" height="${PH}" fill="#fde9c9"/>`);
    body.push(`<text x="${num((x(b.from) + x(b.to)) / 2)}" y="${M.top + PH - 6}" text-anchor="middle" fill="#a0620a">${esc(b.label)}</text>`);
  }
  body.push(...yAxis(ticks, y, c.yLabel, c.format));
  for (const t of niceTicks(0, xMax, 8)) {
    if (t > xMax) continue;
    body.push(`<text x="${num(x(t))}" y="${M.top + PH + 16}" text-anchor="middle">${esc(String(t))}</text>`);
  }
  body.push(`<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  for (const h of c.hlines ?? []) {
    body.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${num(y(h.y))}" y2="${num(y(h.y))}" stroke="${h.color ?? '#555'}" stroke-dasharray="6 4"/>`);
    body.push(`<text x="${M.left + PW - 4}" y="${num(y(h.y) - 4)}" text-anchor="end" fill="${h.color ?? '#555'}">${esc(h.label)}</text>`);
  }
  const colors = c.series.map((s, i) => s.color ?? COLORS[s.name] ?? PALETTE[i % PALETTE.length]!);
  c.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${num(x(p[0]))} ${num(y(p[1]))}`).join(' ');
    body.push(`<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
  });
  body.push(...legend(c.series.map((s) => s.name), colors, c.series.map((s) => s.dashed)));
  return frame(c.title, body, c.subtitle);
}
