/** Number formatting shared by the stdout table, the markdown and the charts. */
import type { Stat } from '../summary.js';

export function si(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : abs >= 1e4 ? 1 : 2)}k`;
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export const ms = (value: number): string =>
  !Number.isFinite(value) ? '–' : value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
export const pct = (value: number): string => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : '–');
export const kib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)}` : '–');
export const times = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`;
/** The ratio of medians, then the range of the per-round ratios. */
export const ratioText = (value: number | undefined, rounds: Stat): string =>
  value === undefined || !Number.isFinite(value)
    ? '–'
    : rounds.count <= 1 || rounds.min === rounds.max
      ? times(value)
      : `${times(value)} [${rounds.min.toFixed(2)}–${rounds.max.toFixed(2)}]`;
export const bytes = (n: number): string => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);

/** "median [min–max]", or the median alone when there was one run. */
export const range = (s: Stat, f: (v: number) => string): string =>
  s.count <= 1 ? f(s.median) : `${f(s.median)} [${f(s.min)}–${f(s.max)}]`;

/** Left-aligned text columns. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
