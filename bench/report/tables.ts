/** The result tables, once: printed as columns on stdout and as markdown in docs/performance.md. */
import { PEERS, type PeerId } from '../peers.js';
import { publishServer } from '../publish-servers.js';
import { checksPass, type Checks, type PublishRow, type ServerCost, type Summary } from '../summary.js';
import { bytes, columns, kib, ms, pct, range, ratioText, si, times } from './format.js';

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const label = (peer: PeerId): string => PEERS.find((p) => p.id === peer)?.label ?? peer;

export function checksText(c: Checks): string {
  if (checksPass(c)) return 'ok';
  const parts = Object.entries({
    lost: c.lost,
    dup: c.duplicated,
    echo: c.echoed,
    order: c.outOfOrder,
    corrupt: c.corrupt,
    closed: c.closed,
  })
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return `FAIL ${parts.join(', ')}${c.closeCodes.length ? ` (close ${c.closeCodes.join('/')})` : ''}`;
}

export const flags = (row: {
  generatorBound: number;
  bothSaturated: number;
  noisy: number;
  errors: readonly string[];
  runs: number;
}): string =>
  [
    row.generatorBound ? `generator-bound ${row.generatorBound}/${row.runs}` : '',
    row.bothSaturated ? `both saturated ${row.bothSaturated}/${row.runs}` : '',
    row.noisy ? `noisy ${row.noisy}/${row.runs}` : '',
    row.errors.length ? `failed ${row.errors.length}/${row.runs}` : '',
  ]
    .filter(Boolean)
    .join(', ');

export function tables(summary: Summary): Table[] {
  const out: Table[] = [];
  if (summary.fanout.length) {
    out.push({
      title:
        'Fan-out: one publisher, N recipients, deliveries/s = messages × recipients / s (median [min–max] of the rounds; vs raw ws: ratio of medians [range of the per-round ratios])',
      header: [
        'N',
        'payload',
        'peer',
        'deliveries/s',
        'vs raw ws',
        'server CPU',
        'server core',
        'gen CPU',
        'gen core',
        'server µs/delivery',
        'p99 ms',
        'checks',
        'flags',
      ],
      rows: summary.fanout.map((r) => [
        String(r.n),
        bytes(r.payload),
        label(r.peer),
        range(r.deliveriesPerSec, si),
        ratioText(r.ratio, r.roundRatio),
        pct(r.serverCpu.median),
        pct(r.serverCore.median),
        pct(r.generatorCpu.median),
        pct(r.generatorCore.median),
        (r.serverNsPerDelivery.median / 1000).toFixed(2),
        ms(r.p99.median),
        checksText(r.checks),
        flags(r),
      ]),
    });
  }
  if (summary.latency.length) {
    out.push({
      title: 'Latency at a fixed rate: one publisher, 64 B, ms from send to receive (median [min–max] of the rounds)',
      header: [
        'N',
        'msg/s',
        'peer',
        'p50',
        'p90',
        'p99',
        'p99.9',
        'max',
        'p99 vs raw ws',
        'server CPU',
        'server core',
        'server µs/delivery',
        'checks',
        'flags',
      ],
      rows: summary.latency.map((r) => [
        String(r.n),
        String(r.rate),
        label(r.peer),
        range(r.p50, ms),
        range(r.p90, ms),
        range(r.p99, ms),
        range(r.p999, ms),
        range(r.max, ms),
        ratioText(r.ratioP99, r.roundRatioP99),
        pct(r.serverCpu.median),
        pct(r.serverCore.median),
        (r.serverNsPerDelivery.median / 1000).toFixed(2),
        checksText(r.checks),
        [r.overloaded ? `overloaded ${r.overloaded}/${r.runs}` : '', flags(r)].filter(Boolean).join(', '),
      ]),
    });
  }
  if (summary.idle.length) {
    out.push({
      title: 'Idle connections: server RSS per connection (ΔRSS / N) and connects/s (median [min–max] of the rounds)',
      header: ['N', 'peer', 'KiB/connection', 'vs raw ws', 'connects/s', 'vs raw ws', 'failed', 'flags'],
      rows: summary.idle.map((r) => [
        String(r.n),
        label(r.peer),
        range(r.rssPerConn, kib),
        ratioText(r.ratioRss, r.roundRatioRss),
        range(r.connectsPerSec, si),
        ratioText(r.ratioConnects, r.roundRatioConnects),
        String(r.failedConnections),
        flags(r),
      ]),
    });
  }
  out.push(...newTables(summary));
  if (summary.targets.some((t) => t.measured !== undefined)) {
    out.push({
      title:
        'Targets (actorhub; ratios to raw ws or to history off in the same run, or between sizes of the hub machine)',
      header: ['what', 'target', 'measured', 'met'],
      rows: summary.targets.map((t) => [
        t.what,
        t.target,
        t.unit === 'ms' ? (t.measured === undefined ? '–' : `${ms(t.measured)} ms`) : times(t.measured),
        t.met === undefined ? 'not measured' : t.met ? 'yes' : 'NO',
      ]),
    });
  }
  return out;
}

/** The cost and check columns of the cross-node and JSON-publish tables, in their order. */
const costCells = (r: ServerCost): string[] => [
  pct(r.serverCpu.median),
  pct(r.serverCore.median),
  pct(r.generatorCore.median),
  (r.serverNsPerDelivery.median / 1000).toFixed(2),
  ms(r.p99.median),
  String(r.brokerDropped),
  checksText(r.checks),
];

const setupLabel = (setup: string): string =>
  setup === 'single' ? '1 node' : `2 nodes, ${setup === 'redis' ? 'Redis' : 'NATS'}`;
const signedMs = (v: number): string => (Number.isFinite(v) ? `${v < 0 ? '-' : '+'}${ms(Math.abs(v))}` : '–');
const mib = (b: number): string => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(1) : '–');
const us = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');

/** Cross-node, churn and hub operations. */
function newTables(summary: Summary): Table[] {
  const out: Table[] = [];
  if (summary.crossFanout?.length) {
    out.push({
      title:
        'Cross-node fan-out: actorhub, publisher on node 1, recipients half on node 1 and half on node 2 (both nodes pinned to core 0, the generator to core 1, the broker unpinned); vs 1 node: ratio of medians [range of the per-round ratios]',
      header: [
        'N',
        'setup',
        'deliveries/s',
        'vs 1 node',
        'servers CPU',
        'core 0',
        'gen core',
        'server µs/delivery',
        'p99 ms',
        'broker dropped',
        'checks',
        'flags',
      ],
      rows: summary.crossFanout.map((r) => [
        String(r.n),
        setupLabel(r.setup),
        range(r.deliveriesPerSec, si),
        ratioText(r.ratio, r.roundRatio),
        ...costCells(r),
        flags(r),
      ]),
    });
  }
  if (summary.crossLatency?.length) {
    out.push({
      title:
        "Cross-node latency at a fixed rate: checkers on node 1 (the publisher's) and on node 2, ms from send to receive; broker cost = node 2 − node 1 (median [min–max] over the rounds)",
      header: [
        'N',
        'msg/s',
        'setup',
        'node 1 p50',
        'node 1 p99',
        'node 2 p50',
        'node 2 p99',
        'broker p50',
        'broker p99',
        'core 0',
        'broker dropped',
        'checks',
        'flags',
      ],
      rows: summary.crossLatency.map((r) => [
        String(r.n),
        String(r.rate),
        setupLabel(r.setup),
        range(r.node1.p50, ms),
        range(r.node1.p99, ms),
        r.node2 ? range(r.node2.p50, ms) : '–',
        r.node2 ? range(r.node2.p99, ms) : '–',
        r.brokerP50.count ? range(r.brokerP50, signedMs) : '–',
        r.brokerP99.count ? range(r.brokerP99, signedMs) : '–',
        pct(r.serverCore.median),
        String(r.brokerDropped),
        checksText(r.checks),
        flags(r),
      ]),
    });
  }
  if (summary.churn?.length) {
    out.push({
      title:
        'Churn: connect/disconnect loops (close frame, FIN, RST in turn) while a stream flows to stable subscribers; server RSS sampled after the warm-up (median [min–max] of the rounds)',
      header: [
        'subscribers',
        'peer',
        'cycles/s',
        'vs raw ws',
        'failed',
        'back to baseline',
        'ms to baseline',
        'RSS first MiB',
        'RSS last MiB',
        'RSS max MiB',
        'RSS slope KiB/s',
        'RSS spread',
        'server core',
        'checks',
        'flags',
      ],
      rows: summary.churn.map((r) => [
        String(r.subscribers),
        label(r.peer),
        range(r.cyclesPerSec, si),
        ratioText(r.ratio, r.roundRatio),
        String(r.failedCycles),
        `${r.returned}/${r.runs}`,
        ms(r.msToBaseline.median),
        mib(r.rssFirst.median),
        mib(r.rssLast.median),
        mib(r.rssMax.median),
        range(r.rssSlope, (v) => (v / 1024).toFixed(1)),
        pct(r.rssSpread.median),
        pct(r.serverCore.median),
        checksText(r.checks),
        flags(r),
      ]),
    });
  }
  if (summary.publish?.length) out.push(publishTable(summary.publish));
  if (summary.ops?.length) {
    out.push({
      title:
        "Hub operations in-process: the hub machine with fake writers, no sockets (median [min–max] over the runs of each run's mean over its batches for REGISTER/UNREGISTER, median for the rest; ratios to the smallest size)",
      header: [
        'clients',
        'REGISTER µs/op',
        'ratio',
        'UNREGISTER µs/op',
        'ratio',
        'BROADCAST ns/recipient',
        'ratio',
        'shutdown ms',
        'fill µs/client',
        'heap MiB',
        'CPU share',
        'flags',
      ],
      rows: summary.ops.map((r) => [
        r.n.toLocaleString('en-US'),
        range(r.registerUs, us),
        times(r.registerRatio),
        range(r.unregisterUs, us),
        times(r.unregisterRatio),
        range(r.broadcastNs, (v) => v.toFixed(0)),
        times(r.broadcastRatio),
        range(r.shutdownMs, (v) => v.toFixed(0)),
        us(r.fillUs.median),
        mib(r.heapBytes.median),
        pct(r.cpuShare.min),
        [r.cpuShare.min < 0.9 ? 'noisy' : '', r.errors.length ? `failed ${r.errors.length}/${r.runs}` : '']
          .filter(Boolean)
          .join(', '),
      ]),
    });
  }
  return out;
}

/** The publish scenario's table (bench/run.ts and bench/history.ts print it). */
export const publishTable = (rows: readonly PublishRow[]): Table => ({
  title:
    'JSON publish to a topic: one publisher, N subscribers of the topic, 64 B of data, deliveries/s (median [min–max] of the rounds); vs raw ws and vs history off: ratio of medians [range of the per-round ratios]; CPU/delivery: server CPU per delivery, raw ws over this server (medians); 2 nodes: publisher on node 1, subscribers half on each, both nodes on core 0',
  header: [
    'N',
    'server',
    'deliveries/s',
    'vs raw ws',
    'vs raw ws, CPU/delivery',
    'vs history off',
    'server CPU',
    'server core',
    'gen core',
    'server µs/delivery',
    'p99 ms',
    'broker dropped',
    'checks',
    'flags',
  ],
  rows: rows.map((r) => [
    String(r.n),
    publishServer(r.variant).label,
    range(r.deliveriesPerSec, si),
    ratioText(r.vsRaw, r.roundVsRaw),
    times(r.cpuVsRaw),
    r.variant === 'raw-ws' || r.variant === 'socket.io-rooms' ? '–' : ratioText(r.vsOff, r.roundVsOff),
    ...costCells(r),
    flags(r),
  ]),
});

export const textTables = (summary: Summary): string =>
  tables(summary)
    .map((t) => `${t.title}\n${columns([t.header, ...t.rows])}`)
    .join('\n\n');

const cell = (s: string): string => s.replace(/\|/g, '\\|');
export const markdownTable = (t: Table): string =>
  [
    `| ${t.header.map(cell).join(' | ')} |`,
    `|${t.header.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
