/** The charts of docs/performance.md, drawn from a summary. */
import { PEERS } from '../peers.js';
import type { Stat, Summary } from '../summary.js';
import { bytes, ms, si } from './format.js';
import { barChart, lineChart } from './svg.js';

export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

const v = (s: Stat) => ({ y: s.median, lo: s.min, hi: s.max });

export function charts(summary: Summary): Chart[] {
  const out: Chart[] = [];
  const peers = PEERS.filter((p) => [...summary.fanout, ...summary.latency, ...summary.idle].some((r) => r.peer === p.id));

  for (const payload of [...new Set(summary.fanout.map((r) => r.payload))].sort((a, b) => a - b)) {
    const rows = summary.fanout.filter((r) => r.payload === payload);
    const title = `Fan-out, ${bytes(payload)} messages: deliveries/s vs N`;
    out.push({
      file: `fanout-${payload >= 1024 ? `${payload / 1024}kib` : `${payload}b`}.svg`,
      title,
      svg: lineChart({
        title,
        xLabel: 'N recipients (log scale)',
        yLabel: 'deliveries / s (log scale; median, min–max)',
        log: true,
        xs: rows.map((r) => r.n),
        series: peers.map((p) => ({ label: p.label, color: p.color, points: rows.filter((r) => r.peer === p.id).map((r) => ({ x: r.n, ...v(r.deliveriesPerSec) })) })),
        yFormat: si,
      }),
    });
  }

  for (const rate of [...new Set(summary.latency.map((r) => r.rate))].sort((a, b) => b - a)) {
    const rows = summary.latency.filter((r) => r.rate === rate);
    const title = `Latency at ${rate} msg/s, N = ${rows[0]!.n}: percentiles`;
    const groups = ['p50', 'p90', 'p99', 'p99.9', 'max'] as const;
    out.push({
      file: `latency-${rate}.svg`,
      title,
      svg: barChart({
        title,
        xLabel: 'percentile',
        yLabel: 'ms from send to receive (log scale)',
        groups,
        log: true,
        series: peers.map((p) => {
          const r = rows.find((row) => row.peer === p.id);
          return { label: p.label, color: p.color, values: r ? [v(r.p50), v(r.p90), v(r.p99), v(r.p999), v(r.max)] : [] };
        }),
        yFormat: ms,
      }),
    });
  }

  const ns = [...new Set(summary.idle.map((r) => r.n))].sort((a, b) => a - b);
  if (ns.length) {
    const series = (f: (r: Summary['idle'][number]) => Stat, scale = 1) =>
      peers.map((p) => ({
        label: p.label,
        color: p.color,
        values: ns.map((n) => {
          const r = summary.idle.find((row) => row.peer === p.id && row.n === n);
          return r ? { y: f(r).median / scale, lo: f(r).min / scale, hi: f(r).max / scale } : undefined;
        }),
      }));
    const groups = ns.map((n) => `${n.toLocaleString('en-US')} connections`);
    out.push({
      file: 'idle-memory.svg',
      title: 'Idle connections: server memory per connection',
      svg: barChart({ title: 'Idle connections: server memory per connection', xLabel: '', yLabel: 'KiB per connection (ΔRSS / N)', groups, log: false, series: series((r) => r.rssPerConn, 1024), yFormat: (x) => x.toFixed(x < 10 ? 1 : 0) }),
    });
    out.push({
      file: 'idle-connects.svg',
      title: 'Idle connections: connects per second',
      svg: barChart({ title: 'Idle connections: connects per second', xLabel: '', yLabel: 'connects / s', groups, log: false, series: series((r) => r.connectsPerSec), yFormat: si }),
    });
  }
  return out;
}
