/** The result tables, once: printed as columns on stdout and as markdown in docs/performance.md. */
import { PEERS, type PeerId } from '../peers.js';
import { checksPass, type Checks, type Summary } from '../summary.js';
import { bytes, columns, kib, ms, pct, range, ratioText, si, times } from './format.js';

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const label = (peer: PeerId): string => PEERS.find((p) => p.id === peer)?.label ?? peer;

export function checksText(c: Checks): string {
  if (checksPass(c)) return 'ok';
  const parts = Object.entries({ lost: c.lost, dup: c.duplicated, echo: c.echoed, order: c.outOfOrder, corrupt: c.corrupt, closed: c.closed })
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return `FAIL ${parts.join(', ')}${c.closeCodes.length ? ` (close ${c.closeCodes.join('/')})` : ''}`;
}

export const flags = (row: { generatorBound: number; bothSaturated: number; noisy: number; errors: readonly string[]; runs: number }): string =>
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
      title: 'Fan-out: one publisher, N recipients, deliveries/s = messages × recipients / s (median [min–max] of the rounds; vs raw ws: ratio of medians [range of the per-round ratios])',
      header: ['N', 'payload', 'peer', 'deliveries/s', 'vs raw ws', 'server CPU', 'server core', 'gen CPU', 'gen core', 'server µs/delivery', 'p99 ms', 'checks', 'flags'],
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
      header: ['N', 'msg/s', 'peer', 'p50', 'p90', 'p99', 'p99.9', 'max', 'p99 vs raw ws', 'server CPU', 'server core', 'server µs/delivery', 'checks', 'flags'],
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
  if (summary.targets.some((t) => t.measured !== undefined)) {
    out.push({
      title: 'Targets of issue 5 (actorhub, ratio to raw ws in the same run)',
      header: ['what', 'target', 'measured', 'met'],
      rows: summary.targets.map((t) => [t.what, t.target, times(t.measured), t.met === undefined ? 'not measured' : t.met ? 'yes' : 'NO']),
    });
  }
  return out;
}

export const textTables = (summary: Summary): string => tables(summary).map((t) => `${t.title}\n${columns([t.header, ...t.rows])}`).join('\n\n');

const cell = (s: string): string => s.replace(/\|/g, '\\|');
export const markdownTable = (t: Table): string =>
  [`| ${t.header.map(cell).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
