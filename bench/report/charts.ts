/** The charts of docs/performance.md, drawn from a summary. */
import { PEERS } from '../peers.js';
import type { RunRecord, Stat, Summary } from '../summary.js';
import { bytes, ms, si } from './format.js';
import { barChart, lineChart } from './svg.js';

export interface Chart {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

const v = (s: Stat) => ({ y: s.median, lo: s.min, hi: s.max });

export function charts(summary: Summary, runs: readonly RunRecord[] = []): Chart[] {
  const out: Chart[] = [];
  out.push(...crossNodeCharts(summary), ...churnCharts(summary, runs), ...opsCharts(summary));
  const peers = PEERS.filter((p) =>
    [...summary.fanout, ...summary.latency, ...summary.idle].some((r) => r.peer === p.id),
  );

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
        series: peers.map((p) => ({
          label: p.label,
          color: p.color,
          points: rows.filter((r) => r.peer === p.id).map((r) => ({ x: r.n, ...v(r.deliveriesPerSec) })),
        })),
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
          return {
            label: p.label,
            color: p.color,
            values: r ? [v(r.p50), v(r.p90), v(r.p99), v(r.p999), v(r.max)] : [],
          };
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
      svg: barChart({
        title: 'Idle connections: server memory per connection',
        xLabel: '',
        yLabel: 'KiB per connection (ΔRSS / N)',
        groups,
        log: false,
        series: series((r) => r.rssPerConn, 1024),
        yFormat: (x) => x.toFixed(x < 10 ? 1 : 0),
      }),
    });
    out.push({
      file: 'idle-connects.svg',
      title: 'Idle connections: connects per second',
      svg: barChart({
        title: 'Idle connections: connects per second',
        xLabel: '',
        yLabel: 'connects / s',
        groups,
        log: false,
        series: series((r) => r.connectsPerSec),
        yFormat: si,
      }),
    });
  }
  return out;
}

const SETUP_SERIES = [
  { setup: 'single', label: 'actorhub, 1 node', color: '#dc2626' },
  { setup: 'redis', label: '2 nodes, Redis', color: '#7c3aed' },
  { setup: 'nats', label: '2 nodes, NATS', color: '#059669' },
] as const;

function crossNodeCharts(summary: Summary): Chart[] {
  const out: Chart[] = [];
  const fan = summary.crossFanout ?? [];
  if (fan.length) {
    const ns = [...new Set(fan.map((r) => r.n))].sort((a, b) => a - b);
    const title = 'Cross-node fan-out: deliveries/s, 1 node vs 2 nodes';
    out.push({
      file: 'crossnode-fanout.svg',
      title,
      svg: barChart({
        title,
        xLabel: 'recipients (half on each node for 2 nodes), 64 B',
        yLabel: 'deliveries / s (median, min–max)',
        groups: ns.map((n) => `N = ${n.toLocaleString('en-US')}`),
        log: false,
        series: SETUP_SERIES.map((s) => ({
          label: s.label,
          color: s.color,
          values: ns.map((n) => {
            const r = fan.find((x) => x.n === n && x.setup === s.setup);
            return r ? v(r.deliveriesPerSec) : undefined;
          }),
        })),
        yFormat: si,
      }),
    });
  }
  const lat = summary.crossLatency ?? [];
  if (lat.length) {
    const r0 = lat[0]!;
    const title = `Cross-node latency at ${r0.rate} msg/s, N = ${r0.n}: node 1 vs node 2`;
    out.push({
      file: 'crossnode-latency.svg',
      title,
      svg: barChart({
        title,
        xLabel: "checkers on the publisher's node (1) and on the other node (2)",
        yLabel: 'ms from send to receive (log scale)',
        groups: ['node 1 p50', 'node 2 p50', 'node 1 p99', 'node 2 p99'],
        log: true,
        series: SETUP_SERIES.map((s) => {
          const r = lat.find((x) => x.setup === s.setup);
          return {
            label: s.label,
            color: s.color,
            values: r ? [v(r.node1.p50), r.node2 && v(r.node2.p50), v(r.node1.p99), r.node2 && v(r.node2.p99)] : [],
          };
        }),
        yFormat: ms,
      }),
    });
  }
  return out;
}

function churnCharts(summary: Summary, runs: readonly RunRecord[]): Chart[] {
  if (!summary.churn?.length) return [];
  // One line per peer: the RSS samples of its last completed round.
  const series = PEERS.flatMap((p) => {
    const run = [...runs]
      .reverse()
      .find((r) => r.scenario === 'churn' && r.peer === p.id && r.result?.scenario === 'churn');
    if (run?.result?.scenario !== 'churn') return [];
    return [
      {
        label: p.label,
        color: p.color,
        points: run.result.rss.map((s) => ({
          x: s.t / 1000,
          y: s.rss / 2 ** 20,
          lo: s.rss / 2 ** 20,
          hi: s.rss / 2 ** 20,
        })),
      },
    ];
  });
  if (!series.length) return [];
  const title = 'Churn: server RSS during connect/disconnect loops';
  return [
    {
      file: 'churn-rss.svg',
      title,
      svg: lineChart({
        title,
        xLabel: 's after the warm-up (last round)',
        yLabel: 'server RSS, MiB (axis not from 0)',
        xs: series.flatMap((s) => s.points.map((p) => p.x)),
        series,
        log: false,
        linearX: true,
        fitY: true,
        yFormat: (x) => x.toFixed(0),
      }),
    },
  ];
}

function opsCharts(summary: Summary): Chart[] {
  const ops = summary.ops ?? [];
  if (ops.length < 2) return [];
  const colors = ['#9ca3af', '#f59e0b', '#dc2626', '#7c3aed'];
  const title = `Hub operations: cost per operation relative to ${ops[0]!.n.toLocaleString('en-US')} clients (target ≤ 2×)`;
  const one = (y: number) => ({ y, lo: y, hi: y });
  return [
    {
      file: 'ops-scaling.svg',
      title,
      svg: barChart({
        title,
        xLabel: 'hub machine with fake writers, in-process',
        yLabel: `× the cost at ${ops[0]!.n.toLocaleString('en-US')} clients`,
        groups: ['REGISTER', 'UNREGISTER', 'BROADCAST (per recipient)'],
        log: false,
        series: ops.map((r, i) => ({
          label: `${r.n.toLocaleString('en-US')} clients`,
          color: colors[i % colors.length]!,
          values: [r.registerRatio, r.unregisterRatio, r.broadcastRatio].map((x) =>
            x === undefined ? undefined : one(x),
          ),
        })),
        yFormat: (x) => x.toFixed(1),
      }),
    },
  ];
}
