/** From the runs to the figures: medians with min–max per peer, ratios to raw ws, flags, targets. */
import { BASELINE, type PeerId } from './peers.js';
import type { ClusterSetup, Scenario } from './plan.js';
import { publishPeer, type PublishVariant } from './publish-servers.js';
import type { ChurnResult, CpuReport, FanoutResult, IdleResult, JobResult, LatencyResult, OpsResult } from './types.js';
import type { Correctness } from './types.js';

/** One planned run: which scenario, peer, round and size. */
export interface RunSpec {
  readonly scenario: Scenario;
  readonly peer: PeerId;
  readonly round: number;
  readonly n: number;
  readonly payload?: number;
  readonly rate?: number;
  /** Cross-node: what is measured, and on which setup. */
  readonly kind?: 'fanout' | 'latency';
  readonly setup?: ClusterSetup;
  /** Publish scenario: which server (bench/publish-servers.ts). */
  readonly variant?: PublishVariant;
}

export interface RunRecord extends RunSpec {
  /** Cross-node runs: messages the nodes' broker adapters dropped. */
  readonly brokerDropped?: number | undefined;
  readonly quietWaitMs: number;
  /** Wall time of the run: server start, generator, server stop. */
  readonly durationMs?: number;
  readonly result?: JobResult;
  readonly error?: string;
}

export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly count: number;
}

export function stat(values: readonly number[]): Stat {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, count: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, count: v.length };
}

const generatorSaturated = (cpu: CpuReport): boolean => cpu.generator >= 0.9 || (cpu.cores[1]?.busy ?? 0) >= 0.95;
const serverSaturated = (cpu: CpuReport): boolean => (cpu.cores[0]?.busy ?? cpu.server) >= 0.9;
/** The generator (its process or its core) ran out of CPU while the server's core had some left: the figure measures the generator. */
export const generatorBound = (cpu: CpuReport): boolean => generatorSaturated(cpu) && !serverSaturated(cpu);
/** Both cores ran out of CPU: the server was saturated, but so was the generator (quote with care). */
export const bothSaturated = (cpu: CpuReport): boolean => generatorSaturated(cpu) && serverSaturated(cpu);
/** Other processes used a noticeable share of the machine during the window. */
export const noisy = (cpu: CpuReport): boolean => cpu.others >= 0.15;

/** The correctness counters, summed over rounds. */
export type Checks = Omit<Correctness, 'expected' | 'delivered'>;

const sumChecks = (results: readonly (FanoutResult | LatencyResult | ChurnResult)[]): Checks => {
  const codes = new Set<number>();
  const sum = (f: (r: FanoutResult | LatencyResult | ChurnResult) => number): number =>
    results.reduce((s, r) => s + f(r), 0);
  for (const r of results) for (const c of r.check.closeCodes) codes.add(c);
  return {
    lost: sum((r) => r.check.lost),
    duplicated: sum((r) => r.check.duplicated),
    echoed: sum((r) => r.check.echoed),
    outOfOrder: sum((r) => r.check.outOfOrder),
    corrupt: sum((r) => r.check.corrupt),
    closed: sum((r) => r.check.closed),
    closeCodes: [...codes],
  };
};

export const checksPass = (c: Checks): boolean =>
  c.lost + c.duplicated + c.echoed + c.outOfOrder + c.corrupt + c.closed === 0;

interface Group {
  readonly peer: PeerId;
  readonly runs: number;
  readonly errors: readonly string[];
  readonly generatorBound: number;
  readonly bothSaturated: number;
  readonly noisy: number;
}

export interface FanoutRow extends Group {
  readonly n: number;
  readonly payload: number;
  readonly deliveriesPerSec: Stat;
  readonly ratio: number | undefined;
  /** Per-round ratios to raw ws. */
  readonly roundRatio: Stat;
  readonly serverCpu: Stat;
  readonly generatorCpu: Stat;
  readonly serverCore: Stat;
  readonly generatorCore: Stat;
  readonly serverNsPerDelivery: Stat;
  readonly p99: Stat;
  readonly checks: Checks;
}

export interface LatencyRow extends Group {
  readonly n: number;
  readonly rate: number;
  readonly p50: Stat;
  readonly p90: Stat;
  readonly p99: Stat;
  readonly p999: Stat;
  readonly max: Stat;
  readonly ratioP99: number | undefined;
  readonly roundRatioP99: Stat;
  readonly serverCpu: Stat;
  readonly serverCore: Stat;
  /** Runs whose server core was ≥ 90% busy: the offered load exceeded what it can send, and latency is queueing. */
  readonly overloaded: number;
  readonly serverNsPerDelivery: Stat;
  readonly achievedRate: Stat;
  readonly checks: Checks;
}

export interface IdleRow extends Group {
  readonly n: number;
  readonly rssPerConn: Stat;
  readonly connectsPerSec: Stat;
  readonly ratioRss: number | undefined;
  readonly ratioConnects: number | undefined;
  readonly roundRatioRss: Stat;
  readonly roundRatioConnects: Stat;
  readonly failedConnections: number;
}

/** Cross-node fan-out: one setup (1 node, or 2 nodes over a broker) at one N. */
/**
 * What a fan-out through the hub's cluster path cost and what it checked; the cross-node and the
 * JSON-publish rows share these columns.
 */
export interface ServerCost {
  /** All nodes' CPU together (fractions of one core), and the core they are pinned to (shared by two nodes). */
  readonly serverCpu: Stat;
  readonly serverCore: Stat;
  readonly generatorCore: Stat;
  readonly serverNsPerDelivery: Stat;
  readonly p99: Stat;
  readonly brokerDropped: number;
  readonly checks: Checks;
}

export interface CrossFanoutRow extends Group, ServerCost {
  readonly setup: ClusterSetup;
  readonly n: number;
  readonly deliveriesPerSec: Stat;
  /** Ratio of medians to the single node; per-round ratios (the single node ran just before). */
  readonly ratio: number | undefined;
  readonly roundRatio: Stat;
}

/** Cross-node latency: the checkers on node 1 (the publisher's) and on node 2. */
export interface CrossLatencyRow extends Group {
  readonly setup: ClusterSetup;
  readonly n: number;
  readonly rate: number;
  readonly node1: { readonly p50: Stat; readonly p99: Stat };
  readonly node2: { readonly p50: Stat; readonly p99: Stat } | undefined;
  /** Per round: node 2 minus node 1, ms (what the broker adds). */
  readonly brokerP50: Stat;
  readonly brokerP99: Stat;
  readonly serverCore: Stat;
  readonly brokerDropped: number;
  readonly checks: Checks;
}

export interface ChurnRow extends Group {
  /** The stable subscribers (n, like the other rows). */
  readonly n: number;
  readonly subscribers: number;
  readonly rate: number;
  readonly cyclesPerSec: Stat;
  readonly ratio: number | undefined;
  readonly roundRatio: Stat;
  readonly failedCycles: number;
  /** Runs whose /stats came back to the baseline, and how long it took. */
  readonly returned: number;
  readonly msToBaseline: Stat;
  readonly rssFirst: Stat;
  readonly rssLast: Stat;
  readonly rssMax: Stat;
  readonly rssSlope: Stat;
  readonly rssSpread: Stat;
  readonly serverCore: Stat;
  readonly checks: Checks;
}

/** Publish scenario: one server at one N, against raw ws and actorhub with history off of the same rounds. */
export interface PublishRow extends Group, ServerCost {
  readonly variant: PublishVariant;
  readonly n: number;
  readonly deliveriesPerSec: Stat;
  /** Ratio of medians to raw ws, and the per-round ratios. */
  readonly vsRaw: number | undefined;
  readonly roundVsRaw: Stat;
  /**
   * Raw ws's server CPU per delivery over this server's (medians): what the ratio of rates would
   * be if both had a core to themselves; less moved by other processes taking the server's core.
   */
  readonly cpuVsRaw: number | undefined;
  /** The same to actorhub with history off. */
  readonly vsOff: number | undefined;
  readonly roundVsOff: Stat;
}

export interface OpsRow {
  readonly n: number;
  readonly runs: number;
  readonly errors: readonly string[];
  /** REGISTER/UNREGISTER: medians over the runs of each run's mean over its batches; the rest: of each run's median. */
  readonly registerUs: Stat;
  readonly unregisterUs: Stat;
  readonly broadcastNs: Stat;
  readonly shutdownMs: Stat;
  readonly fillUs: Stat;
  readonly heapBytes: Stat;
  /** CPU time / wall time: below 0.9, the process waited for its core (flagged noisy). */
  readonly cpuShare: Stat;
  /** To the smallest size measured (1k): 2× is the target. */
  readonly registerRatio: number | undefined;
  readonly unregisterRatio: number | undefined;
  readonly broadcastRatio: number | undefined;
}

export interface TargetCheck {
  readonly what: string;
  readonly target: string;
  readonly measured: number | undefined;
  readonly met: boolean | undefined;
  /** How `measured` reads: a ratio (default) or milliseconds. */
  readonly unit?: 'ratio' | 'ms';
}

export interface Summary {
  readonly fanout: readonly FanoutRow[];
  readonly latency: readonly LatencyRow[];
  readonly idle: readonly IdleRow[];
  /** Absent in results written before these scenarios existed. */
  readonly crossFanout?: readonly CrossFanoutRow[];
  readonly crossLatency?: readonly CrossLatencyRow[];
  readonly churn?: readonly ChurnRow[];
  readonly ops?: readonly OpsRow[];
  readonly publish?: readonly PublishRow[];
  readonly targets: readonly TargetCheck[];
}

function groups<R extends JobResult>(
  runs: readonly RunRecord[],
  scenario: Scenario,
  key: (r: RunRecord) => string,
  only: (r: RunRecord) => boolean = () => true,
) {
  const out = new Map<string, { records: RunRecord[]; results: R[] }>();
  for (const run of runs) {
    if (run.scenario !== scenario || !only(run)) continue;
    const k = key(run);
    const g = out.get(k) ?? { records: [], results: [] };
    g.records.push(run);
    if (run.result) g.results.push(run.result as R);
    out.set(k, g);
  }
  return out;
}

const groupInfo = (peer: PeerId, records: readonly RunRecord[], cpus: readonly CpuReport[]): Group => ({
  peer,
  runs: records.length,
  errors: records.flatMap((r) => (r.error ? [`round ${r.round}: ${r.error}`] : [])),
  generatorBound: cpus.filter(generatorBound).length,
  bothSaturated: cpus.filter(bothSaturated).length,
  noisy: cpus.filter(noisy).length,
});

/**
 * The ratio of a peer's value to raw ws's in the same round (they ran back to back), for
 * every round both completed: slow drift of the machine cancels out in these.
 */
function roundRatios(
  runs: readonly RunRecord[],
  records: readonly RunRecord[],
  value: (r: JobResult) => number | undefined,
): Stat {
  const out: number[] = [];
  for (const rec of records) {
    const base = runs.find(
      (b) =>
        b.peer === BASELINE &&
        b.scenario === rec.scenario &&
        b.round === rec.round &&
        b.n === rec.n &&
        b.payload === rec.payload &&
        b.rate === rec.rate,
    );
    const v = rec.result && value(rec.result);
    const bv = base?.result && value(base.result);
    if (v !== undefined && bv !== undefined && bv > 0) out.push(v / bv);
  }
  return stat(out);
}

const ratio = (value: number, base: number | undefined): number | undefined =>
  base !== undefined && Number.isFinite(base) && base > 0 && Number.isFinite(value) ? value / base : undefined;

export function summarise(runs: readonly RunRecord[]): Summary {
  const fanout: FanoutRow[] = [];
  for (const { records, results } of groups<FanoutResult>(
    runs,
    'fanout',
    (r) => `${r.n}/${r.payload}/${r.peer}`,
  ).values()) {
    const first = records[0]!;
    fanout.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      n: first.n,
      payload: first.payload ?? 0,
      deliveriesPerSec: stat(results.map((r) => r.deliveriesPerSec)),
      ratio: undefined,
      roundRatio: roundRatios(runs, records, (r) => (r.scenario === 'fanout' ? r.deliveriesPerSec : undefined)),
      serverCpu: stat(results.map((r) => r.cpu.server)),
      generatorCpu: stat(results.map((r) => r.cpu.generator)),
      serverCore: stat(results.map((r) => r.cpu.cores[0]?.busy ?? Number.NaN)),
      generatorCore: stat(results.map((r) => r.cpu.cores[1]?.busy ?? Number.NaN)),
      serverNsPerDelivery: stat(results.map((r) => r.serverNsPerDelivery)),
      p99: stat(results.map((r) => r.latency.p99)),
      checks: sumChecks(results),
    });
  }
  const fanoutRows = fanout.map((row) => {
    const base = fanout.find((b) => b.peer === BASELINE && b.n === row.n && b.payload === row.payload);
    return { ...row, ratio: ratio(row.deliveriesPerSec.median, base?.deliveriesPerSec.median) };
  });

  const latency: LatencyRow[] = [];
  for (const { records, results } of groups<LatencyResult>(
    runs,
    'latency',
    (r) => `${r.n}/${r.rate}/${r.peer}`,
  ).values()) {
    const first = records[0]!;
    const p = (f: (r: LatencyResult) => number): Stat => stat(results.map(f));
    latency.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      n: first.n,
      rate: first.rate ?? 0,
      p50: p((r) => r.latency.p50),
      p90: p((r) => r.latency.p90),
      p99: p((r) => r.latency.p99),
      p999: p((r) => r.latency.p999),
      max: p((r) => r.latency.max),
      ratioP99: undefined,
      roundRatioP99: roundRatios(runs, records, (r) => (r.scenario === 'latency' ? r.latency.p99 : undefined)),
      serverCpu: p((r) => r.cpu.server),
      serverCore: p((r) => r.cpu.cores[0]?.busy ?? Number.NaN),
      overloaded: results.filter((r) => serverSaturated(r.cpu)).length,
      serverNsPerDelivery: p((r) => r.serverNsPerDelivery ?? Number.NaN),
      achievedRate: p((r) => r.achievedRate),
      checks: sumChecks(results),
    });
  }
  const latencyRows = latency.map((row) => {
    const base = latency.find((b) => b.peer === BASELINE && b.n === row.n && b.rate === row.rate);
    return { ...row, ratioP99: ratio(row.p99.median, base?.p99.median) };
  });

  const idle: IdleRow[] = [];
  for (const { records, results } of groups<IdleResult>(runs, 'idle', (r) => `${r.n}/${r.peer}`).values()) {
    const first = records[0]!;
    idle.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      n: first.n,
      rssPerConn: stat(results.map((r) => r.rssPerConnBytes)),
      connectsPerSec: stat(results.map((r) => r.connectsPerSec)),
      ratioRss: undefined,
      ratioConnects: undefined,
      roundRatioRss: roundRatios(runs, records, (r) => (r.scenario === 'idle' ? r.rssPerConnBytes : undefined)),
      roundRatioConnects: roundRatios(runs, records, (r) => (r.scenario === 'idle' ? r.connectsPerSec : undefined)),
      failedConnections: results.reduce((s, r) => s + r.failed, 0),
    });
  }
  const idleRows = idle.map((row) => {
    const base = idle.find((b) => b.peer === BASELINE && b.n === row.n);
    return {
      ...row,
      ratioRss: ratio(row.rssPerConn.median, base?.rssPerConn.median),
      ratioConnects: ratio(row.connectsPerSec.median, base?.connectsPerSec.median),
    };
  });

  const hub = <T extends { peer: PeerId }>(rows: readonly T[]): T[] => rows.filter((r) => r.peer === 'actorhub');
  const fan = (n: number) => hub(fanoutRows).find((r) => r.n === n && r.payload === 64)?.ratio;
  const lat = hub(latencyRows).find((r) => r.n === 1000 && r.rate === 100)?.ratioP99;
  const below = hub(latencyRows).find((r) => r.n === 1000 && r.rate !== 100);
  const idle10k = hub(idleRows).find((r) => r.n === 10_000);
  const check = (
    what: string,
    target: string,
    measured: number | undefined,
    ok: (v: number) => boolean,
  ): TargetCheck => ({
    what,
    target,
    measured,
    met: measured === undefined ? undefined : ok(measured),
  });
  const targets = [
    check('fan-out deliveries/s, N = 1000, 64 B', '≥ 1.5× raw ws', fan(1000), (v) => v >= 1.5),
    check('fan-out deliveries/s, N = 5000, 64 B', '≥ 1.4× raw ws', fan(5000), (v) => v >= 1.4),
    check('p99 latency, N = 1000, 100 msg/s', '≤ 1.0× raw ws', lat, (v) => v <= 1.0),
    ...(below
      ? [
          check(
            `p99 latency, N = 1000, ${below.rate} msg/s${latencyRows.some((r) => r.rate === below.rate && r.overloaded > 0) ? '' : ' (no peer overloaded)'}`,
            '≤ 1.0× raw ws (same target)',
            below.ratioP99,
            (v) => v <= 1.0,
          ),
        ]
      : []),
    check('memory per idle connection, 10k', '≤ 1.3× raw ws', idle10k?.ratioRss, (v) => v <= 1.3),
    check('connects/s, 10k', '≥ 1.0× raw ws', idle10k?.ratioConnects, (v) => v >= 1.0),
  ];
  const cross = crossNode(runs);
  const churn = churnRows(runs);
  const ops = opsRows(runs);
  const publish = publishRows(runs);
  const pub = (variant: PublishVariant, n: number) => publish.find((r) => r.variant === variant && r.n === n);
  for (const n of [1000, 5000]) {
    if (!pub('off', n)) continue;
    targets.push(
      check(`JSON publish deliveries/s, N = ${n}, 64 B`, '≥ 5× raw ws', pub('off', n)?.vsRaw, (v) => v >= 5),
      check(
        `JSON publish, history on vs off, N = ${n}, one node`,
        '≥ 0.8× history off',
        pub('memory', n)?.vsOff,
        (v) => v >= 0.8,
      ),
    );
  }
  const big = ops.find((r) => r.n === 50_000);
  if (big) {
    targets.push(
      check('REGISTER µs/op, 50k vs 1k clients (hub machine)', '≤ 2×', big.registerRatio, (v) => v <= 2),
      check('UNREGISTER µs/op, 50k vs 1k clients', '≤ 2×', big.unregisterRatio, (v) => v <= 2),
      check('BROADCAST ns/recipient, 50k vs 1k clients', '≤ 2×', big.broadcastRatio, (v) => v <= 2),
      {
        ...check('shutdown with 50k clients (hub machine)', '< 1000 ms', big.shutdownMs.median, (v) => v < 1000),
        unit: 'ms' as const,
      },
    );
  }
  return { fanout: fanoutRows, latency: latencyRows, idle: idleRows, ...cross, churn, ops, publish, targets };
}

/** The same round's single-node run: cross-node ratios are taken against it. */
const singleOf = (runs: readonly RunRecord[], rec: RunRecord): RunRecord | undefined =>
  runs.find(
    (b) =>
      b.scenario === 'cross-node' &&
      b.setup === 'single' &&
      b.kind === rec.kind &&
      b.round === rec.round &&
      b.n === rec.n,
  );

function crossNode(runs: readonly RunRecord[]): { crossFanout: CrossFanoutRow[]; crossLatency: CrossLatencyRow[] } {
  const crossFanout: CrossFanoutRow[] = [];
  const dropped = (records: readonly RunRecord[]): number =>
    records.reduce((sum, r) => sum + (r.brokerDropped ?? 0), 0);
  for (const { records, results } of groups<FanoutResult>(
    runs,
    'cross-node',
    (r) => `${r.n}/${r.setup}`,
    (r) => r.kind === 'fanout',
  ).values()) {
    const first = records[0]!;
    const perRound: number[] = [];
    for (const rec of records) {
      const base = singleOf(runs, rec)?.result;
      if (rec.result?.scenario === 'fanout' && base?.scenario === 'fanout' && base.deliveriesPerSec > 0)
        perRound.push(rec.result.deliveriesPerSec / base.deliveriesPerSec);
    }
    crossFanout.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      setup: first.setup ?? 'single',
      n: first.n,
      deliveriesPerSec: stat(results.map((r) => r.deliveriesPerSec)),
      ratio: undefined,
      roundRatio: stat(perRound),
      serverCpu: stat(results.map((r) => r.cpu.server)),
      serverCore: stat(results.map((r) => r.cpu.cores[0]?.busy ?? Number.NaN)),
      generatorCore: stat(results.map((r) => r.cpu.cores[1]?.busy ?? Number.NaN)),
      serverNsPerDelivery: stat(results.map((r) => r.serverNsPerDelivery)),
      p99: stat(results.map((r) => r.latency.p99)),
      brokerDropped: dropped(records),
      checks: sumChecks(results),
    });
  }
  const fanoutRows = crossFanout.map((row) => {
    const base = crossFanout.find((b) => b.setup === 'single' && b.n === row.n);
    return { ...row, ratio: ratio(row.deliveriesPerSec.median, base?.deliveriesPerSec.median) };
  });

  const crossLatency: CrossLatencyRow[] = [];
  for (const { records, results } of groups<LatencyResult>(
    runs,
    'cross-node',
    (r) => `${r.n}/${r.rate}/${r.setup}`,
    (r) => r.kind === 'latency',
  ).values()) {
    const first = records[0]!;
    const node = (i: number) => ({
      p50: stat(results.map((r) => (r.latencyByNode?.[i] ?? r.latency).p50)),
      p99: stat(results.map((r) => (r.latencyByNode?.[i] ?? r.latency).p99)),
    });
    const two = results.every((r) => r.latencyByNode?.length === 2);
    const diff = (f: 'p50' | 'p99') =>
      stat(
        results.flatMap((r) =>
          r.latencyByNode?.length === 2 ? [r.latencyByNode[1]![f] - r.latencyByNode[0]![f]] : [],
        ),
      );
    crossLatency.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      setup: first.setup ?? 'single',
      n: first.n,
      rate: first.rate ?? 0,
      node1: node(0),
      node2: two && results.length ? node(1) : undefined,
      brokerP50: diff('p50'),
      brokerP99: diff('p99'),
      serverCore: stat(results.map((r) => r.cpu.cores[0]?.busy ?? Number.NaN)),
      brokerDropped: dropped(records),
      checks: sumChecks(results),
    });
  }
  return { crossFanout: fanoutRows, crossLatency };
}

function churnRows(runs: readonly RunRecord[]): ChurnRow[] {
  const rows: ChurnRow[] = [];
  for (const { records, results } of groups<ChurnResult>(runs, 'churn', (r) => `${r.n}/${r.peer}`).values()) {
    const first = records[0]!;
    const p = (f: (r: ChurnResult) => number): Stat => stat(results.map(f));
    rows.push({
      ...groupInfo(
        first.peer,
        records,
        results.map((r) => r.cpu),
      ),
      n: first.n,
      subscribers: first.n,
      rate: first.rate ?? 0,
      cyclesPerSec: p((r) => r.cyclesPerSec),
      ratio: undefined,
      roundRatio: roundRatios(runs, records, (r) => (r.scenario === 'churn' ? r.cyclesPerSec : undefined)),
      failedCycles: results.reduce((sum, r) => sum + r.failedCycles, 0),
      returned: results.filter((r) => r.returnedToBaseline).length,
      msToBaseline: p((r) => r.msToBaseline),
      rssFirst: p((r) => r.rssFirst),
      rssLast: p((r) => r.rssLast),
      rssMax: p((r) => r.rssMax),
      rssSlope: p((r) => r.rssSlopeBytesPerSec),
      rssSpread: p((r) => r.rssSpread),
      serverCore: p((r) => r.cpu.cores[0]?.busy ?? Number.NaN),
      checks: sumChecks(results),
    });
  }
  return rows.map((row) => {
    const base = rows.find((b) => b.peer === BASELINE && b.subscribers === row.subscribers);
    return { ...row, ratio: ratio(row.cyclesPerSec.median, base?.cyclesPerSec.median) };
  });
}

function opsRows(runs: readonly RunRecord[]): OpsRow[] {
  const rows: OpsRow[] = [];
  for (const { records, results } of groups<OpsResult>(runs, 'ops', (r) => String(r.n)).values()) {
    const p = (f: (r: OpsResult) => number): Stat => stat(results.map(f));
    rows.push({
      n: records[0]!.n,
      runs: records.length,
      errors: records.flatMap((r) => (r.error ? [`round ${r.round}: ${r.error}`] : [])),
      registerUs: p((r) => r.registerUs.mean ?? r.registerUs.median),
      unregisterUs: p((r) => r.unregisterUs.mean ?? r.unregisterUs.median),
      broadcastNs: p((r) => r.broadcastNs.median),
      shutdownMs: p((r) => r.shutdownMs),
      fillUs: p((r) => r.fillUsPerClient),
      heapBytes: p((r) => r.heapUsedBytes),
      cpuShare: p((r) => r.cpuShare ?? Number.NaN),
      registerRatio: undefined,
      unregisterRatio: undefined,
      broadcastRatio: undefined,
    });
  }
  rows.sort((a, b) => a.n - b.n);
  const base = rows[0];
  return rows.map((row) => ({
    ...row,
    registerRatio: ratio(row.registerUs.median, base?.registerUs.median),
    unregisterRatio: ratio(row.unregisterUs.median, base?.unregisterUs.median),
    broadcastRatio: ratio(row.broadcastNs.median, base?.broadcastNs.median),
  }));
}

export function publishRows(runs: readonly RunRecord[]): PublishRow[] {
  const rows: PublishRow[] = [];
  const same = (rec: RunRecord, variant: PublishVariant): RunRecord | undefined =>
    runs.find((b) => b.scenario === 'publish' && b.variant === variant && b.round === rec.round && b.n === rec.n);
  const perRound = (records: readonly RunRecord[], variant: PublishVariant): Stat => {
    const out: number[] = [];
    for (const rec of records) {
      const base = same(rec, variant)?.result;
      if (rec.result?.scenario === 'fanout' && base?.scenario === 'fanout' && base.deliveriesPerSec > 0)
        out.push(rec.result.deliveriesPerSec / base.deliveriesPerSec);
    }
    return stat(out);
  };
  for (const { records, results } of groups<FanoutResult>(runs, 'publish', (r) => `${r.n}/${r.variant}`).values()) {
    const first = records[0]!;
    const variant = first.variant ?? 'off';
    rows.push({
      ...groupInfo(
        publishPeer(variant),
        records,
        results.map((r) => r.cpu),
      ),
      variant,
      n: first.n,
      deliveriesPerSec: stat(results.map((r) => r.deliveriesPerSec)),
      vsRaw: undefined,
      roundVsRaw: perRound(records, 'raw-ws'),
      cpuVsRaw: undefined,
      vsOff: undefined,
      roundVsOff: perRound(records, 'off'),
      serverCpu: stat(results.map((r) => r.cpu.server)),
      serverCore: stat(results.map((r) => r.cpu.cores[0]?.busy ?? Number.NaN)),
      generatorCore: stat(results.map((r) => r.cpu.cores[1]?.busy ?? Number.NaN)),
      serverNsPerDelivery: stat(results.map((r) => r.serverNsPerDelivery)),
      p99: stat(results.map((r) => r.latency.p99)),
      brokerDropped: records.reduce((sum, r) => sum + (r.brokerDropped ?? 0), 0),
      checks: sumChecks(results),
    });
  }
  return rows.map((row) => {
    const base = (variant: PublishVariant) => rows.find((b) => b.variant === variant && b.n === row.n);
    const median = (variant: PublishVariant) => base(variant)?.deliveriesPerSec.median;
    return {
      ...row,
      vsRaw: ratio(row.deliveriesPerSec.median, median('raw-ws')),
      cpuVsRaw: ratio(base('raw-ws')?.serverNsPerDelivery.median ?? Number.NaN, row.serverNsPerDelivery.median),
      vsOff: ratio(row.deliveriesPerSec.median, median('off')),
    };
  });
}
