/** Hand-written SVG charts (no chart library): a line chart over N and grouped bars, with min–max whiskers. */

export interface Point {
  readonly x: number;
  readonly y: number;
  readonly lo: number;
  readonly hi: number;
}

export interface LineSeries {
  readonly label: string;
  readonly color: string;
  readonly points: readonly Point[];
}

export interface BarSeries {
  readonly label: string;
  readonly color: string;
  /** One value per group (undefined: no bar). */
  readonly values: readonly (Omit<Point, 'x'> | undefined)[];
}

const W = 720;
const H = 380;
const M = { left: 78, right: 170, top: 44, bottom: 56 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f1 = (n: number): string => (Math.round(n * 10) / 10).toString();

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="600" fill="#111827">${esc(title)}</text>`,
    `<text x="${M.left + PW / 2}" y="${H - 12}" text-anchor="middle" fill="#374151">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" fill="#374151">${esc(yLabel)}</text>`,
    ...body.filter(Boolean),
    '</svg>',
    '',
  ].join('\n');
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

interface Scale {
  readonly y: (v: number) => number;
  readonly ticks: readonly number[];
}

function linearScale(max: number): Scale {
  const step = niceStep(max > 0 ? max : 1, 5);
  const top = Math.ceil((max > 0 ? max : 1) / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2 && ticks.length < 20; v += step) ticks.push(v);
  return { y: (v) => M.top + PH - (v / top) * PH, ticks };
}

/** A linear axis over [lo, hi] with some margin, not from 0: small changes stay visible (label it so). */
function rangeScale(lo: number, hi: number): Scale {
  const pad = Math.max((hi - lo) * 0.1, Math.abs(hi) * 0.02, 1e-9);
  const step = niceStep(hi - lo + 2 * pad, 5);
  const bottom = Math.floor((lo - pad) / step) * step;
  const top = Math.ceil((hi + pad) / step) * step;
  const ticks: number[] = [];
  for (let v = bottom; v <= top + step / 2 && ticks.length < 20; v += step) ticks.push(v);
  return { y: (v) => M.top + PH - ((v - bottom) / (top - bottom)) * PH, ticks };
}

function xTicks(lo: number, hi: number): number[] {
  const step = niceStep(Math.max(hi - lo, 1), 6);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi && out.length < 20; v += step) out.push(v);
  return out;
}

function logScale(min: number, max: number): Scale {
  const lo = Math.floor(Math.log10(min > 0 ? min : 0.01));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max > 0 ? max : 1)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++)
    for (const m of hi - lo <= 3 ? [1, 2, 5] : [1]) if (e < hi || m === 1) ticks.push(m * 10 ** e);
  return { y: (v) => M.top + PH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * PH, ticks };
}

/** Axis labels without trailing zeros: 1.00M → 1M, 0.50 → 0.5. */
const compact = (text: string): string => text.replace(/\.0+(?=\D*$)|(\.\d*?)0+(?=\D*$)/, '$1');

function yAxis(scale: Scale, format: (v: number) => string): string[] {
  return scale.ticks.flatMap((t) => {
    const y = f1(scale.y(t));
    return [
      `<line x1="${M.left}" x2="${M.left + PW}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${M.left - 8}" y="${y}" dy="4" text-anchor="end" fill="#4b5563">${esc(compact(format(t)))}</text>`,
    ];
  });
}

function legend(items: readonly { label: string; color: string }[]): string[] {
  return items.flatMap((s, i) => {
    const y = M.top + 10 + i * 22;
    const x = M.left + PW + 20;
    return [
      `<rect x="${x}" y="${y - 9}" width="14" height="14" rx="2" fill="${s.color}"/>`,
      `<text x="${x + 20}" y="${y + 2}" fill="#111827">${esc(s.label)}</text>`,
    ];
  });
}

function whisker(x: number, lo: number, hi: number, color: string): string {
  if (!(Math.abs(hi - lo) > 0.5)) return '';
  return `<path d="M${f1(x)} ${f1(lo)}V${f1(hi)}M${f1(x - 4)} ${f1(lo)}h8M${f1(x - 4)} ${f1(hi)}h8" stroke="${color}" stroke-width="1.2" fill="none"/>`;
}

/** Medians joined by lines over a logarithmic x axis, min–max as whiskers. */
export function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: readonly number[];
  series: readonly LineSeries[];
  log: boolean;
  yFormat: (v: number) => string;
  /** A linear x axis (time); the default is logarithmic (N). */
  linearX?: boolean;
  /** A linear y axis that starts at the smallest value instead of 0. */
  fitY?: boolean;
}): string {
  const xs = [...new Set(opts.xs)].sort((a, b) => a - b);
  const tx = opts.linearX ? (v: number) => v : Math.log10;
  const lmin = tx(xs[0] ?? 1);
  const lmax = tx(xs[xs.length - 1] ?? 10);
  const x = (v: number): number =>
    lmax === lmin ? M.left + PW / 2 : M.left + 30 + ((tx(v) - lmin) / (lmax - lmin)) * (PW - 60);
  const ys = opts.series
    .flatMap((s) => s.points.flatMap((p) => [p.lo, p.hi]))
    .filter((v) => Number.isFinite(v) && v > 0);
  const scale = opts.log
    ? logScale(ys.length ? Math.min(...ys) : 1, ys.length ? Math.max(...ys) : 10)
    : opts.fitY && ys.length
      ? rangeScale(Math.min(...ys), Math.max(...ys))
      : linearScale(Math.max(0, ...ys) * 1.08);
  const body = [...yAxis(scale, opts.yFormat)];
  // A time axis gets a few round ticks, not a label per sample.
  const labels = opts.linearX ? xTicks(xs[0] ?? 0, xs[xs.length - 1] ?? 1) : xs;
  for (const v of labels)
    body.push(
      `<text x="${f1(x(v))}" y="${M.top + PH + 18}" text-anchor="middle" fill="#4b5563">${esc(v.toLocaleString('en-US'))}</text>`,
    );
  body.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#9ca3af"/>`);
  opts.series.forEach((s, si) => {
    // Whiskers of the series side by side, so that one does not hide another.
    const dx = (si - (opts.series.length - 1) / 2) * 7;
    const pts = [...s.points].filter((p) => Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 1)
      body.push(
        `<polyline points="${pts.map((p) => `${f1(x(p.x))},${f1(scale.y(p.y))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
      );
    for (const p of pts) {
      body.push(whisker(x(p.x) + dx, scale.y(p.lo), scale.y(p.hi), s.color));
      body.push(
        `<circle cx="${f1(x(p.x))}" cy="${f1(scale.y(p.y))}" r="4" fill="${s.color}"><title>${esc(`${s.label}, N = ${p.x}: ${opts.yFormat(p.y)}`)}</title></circle>`,
      );
    }
  });
  body.push(...legend(opts.series));
  return frame(opts.title, opts.xLabel, opts.yLabel, body);
}

/** Groups of bars (one per series) with min–max whiskers; linear or logarithmic y axis. */
export function barChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  groups: readonly string[];
  series: readonly BarSeries[];
  log: boolean;
  yFormat: (v: number) => string;
}): string {
  const values = opts.series
    .flatMap((s) => s.values.flatMap((v) => (v ? [v.lo, v.hi, v.y] : [])))
    .filter((v) => Number.isFinite(v) && v > 0);
  const scale = opts.log
    ? logScale(values.length ? Math.min(...values) : 1, values.length ? Math.max(...values) : 10)
    : linearScale(Math.max(0, ...values) * 1.08);
  const base = M.top + PH;
  const gw = PW / Math.max(1, opts.groups.length);
  const bw = Math.min(36, (gw * 0.8) / Math.max(1, opts.series.length));
  const body = [...yAxis(scale, opts.yFormat)];
  opts.groups.forEach((g, gi) => {
    const gx = M.left + gi * gw + gw / 2;
    body.push(`<text x="${f1(gx)}" y="${base + 18}" text-anchor="middle" fill="#4b5563">${esc(g)}</text>`);
    opts.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!v || !Number.isFinite(v.y)) return;
      const bx = gx - (opts.series.length * bw) / 2 + si * bw;
      const top = scale.y(v.y);
      body.push(
        `<rect x="${f1(bx + 1)}" y="${f1(top)}" width="${f1(bw - 2)}" height="${f1(Math.max(0, base - top))}" fill="${s.color}" opacity="0.85"><title>${esc(`${s.label}, ${g}: ${opts.yFormat(v.y)}`)}</title></rect>`,
      );
      body.push(whisker(bx + bw / 2, scale.y(v.lo), scale.y(v.hi), '#111827'));
    });
  });
  body.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${base}" y2="${base}" stroke="#9ca3af"/>`);
  body.push(...legend(opts.series));
  return frame(opts.title, opts.xLabel, opts.yLabel, body);
}
