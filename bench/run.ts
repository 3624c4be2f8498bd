/**
 * The benchmark suite (docs/performance.md): `npm run bench [-- --quick]`. Runs the scenarios against
 * every peer (fresh processes, interleaved rounds), prints the tables, writes
 * bench/results/latest.json (quick.json for --quick) and regenerates docs/performance.md and
 * docs/performance/*.svg.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterStats, nodeArgs, probeBroker, waitForCluster } from './cluster.js';
import { clockTicks, hasTaskset, runChild, runGenerator, startServer, waitForQuiet, type Server } from './harness.js';
import { describeMachine } from './machine.js';
import { runInspectorBench } from './inspector.js';
import { HELP, parseOptions, settingsFor, SETUPS, type ClusterSetup, type Options, type Settings } from './plan.js';
import { PEERS, type PeerId } from './peers.js';
import { executePublish } from './publish.js';
import { publishPeer as publishPeerOf, publishServer } from './publish-servers.js';
import { charts } from './report/charts.js';
import { bytes, pct, si } from './report/format.js';
import { markdown } from './report/markdown.js';
import { checksText, textTables } from './report/tables.js';
import type { Results } from './results.js';
import {
  bothSaturated,
  checksPass,
  generatorBound,
  noisy,
  summarise,
  type RunRecord,
  type RunSpec,
} from './summary.js';
import type { Job, JobResult, Target } from './types.js';

type Spec = RunSpec;

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bench'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository root (package.json beside bench/)');
}

/** Peers interleaved A B C A B C … within each configuration. */
function plan(options: Options, s: Settings, fdLimit: number, notes: string[]): Spec[] {
  const specs: Spec[] = [];
  const fits = (n: number, what: string): boolean => {
    if (n + 512 <= fdLimit) return true;
    notes.push(`${what} with N = ${n} skipped: the open-file limit is ${fdLimit}.`);
    return false;
  };
  const rounds = (add: (round: number, peer: PeerId) => void): void => {
    for (let round = 1; round <= options.rounds; round++) for (const peer of options.peers) add(round, peer);
  };
  if (options.only.includes('fanout')) {
    for (const n of s.fanout.sizes.filter((n) => fits(n, 'fan-out'))) {
      for (const payload of s.fanout.payloads)
        rounds((round, peer) => specs.push({ scenario: 'fanout', peer, round, n, payload }));
    }
  }
  if (options.only.includes('latency') && fits(s.latency.recipients, 'latency')) {
    for (const rate of s.latency.rates)
      rounds((round, peer) =>
        specs.push({ scenario: 'latency', peer, round, n: s.latency.recipients, payload: s.latency.payload, rate }),
      );
  }
  if (options.only.includes('idle')) {
    for (const n of s.idle.sizes.filter((n) => fits(n, 'idle')))
      rounds((round, peer) => specs.push({ scenario: 'idle', peer, round, n }));
  }
  // Cross-node and ops measure actorhub alone: its setups take turns instead of the peers.
  const setups = (add: (round: number, setup: ClusterSetup) => void): void => {
    for (let round = 1; round <= options.rounds; round++) for (const setup of SETUPS) add(round, setup);
  };
  if (options.only.includes('cross-node')) {
    const c = s.crossNode;
    for (const n of c.sizes.filter((n) => fits(n, 'cross-node fan-out'))) {
      setups((round, setup) =>
        specs.push({ scenario: 'cross-node', kind: 'fanout', setup, peer: 'actorhub', round, n, payload: c.payload }),
      );
    }
    if (fits(c.latency.recipients, 'cross-node latency')) {
      setups((round, setup) =>
        specs.push({
          scenario: 'cross-node',
          kind: 'latency',
          setup,
          peer: 'actorhub',
          round,
          n: c.latency.recipients,
          payload: c.payload,
          rate: c.latency.rate,
        }),
      );
    }
  }
  if (options.only.includes('churn') && fits(s.churn.subscribers + s.churn.workers, 'churn')) {
    rounds((round, peer) => specs.push({ scenario: 'churn', peer, round, n: s.churn.subscribers, rate: s.churn.rate }));
  }
  if (options.only.includes('ops')) {
    for (let round = 1; round <= options.rounds; round++)
      for (const n of s.ops.sizes) specs.push({ scenario: 'ops', peer: 'actorhub', round, n });
  }
  if (options.only.includes('publish')) {
    // Its servers take turns like the peers (--peers picks them: raw-ws, socket.io = rooms, actorhub = its setups).
    const variants = s.publish.variants.filter((v) => options.peers.includes(publishPeerOf(v)));
    for (const n of s.publish.sizes.filter((n) => fits(n, 'publish')))
      for (let round = 1; round <= options.rounds; round++)
        for (const variant of variants)
          specs.push({
            scenario: 'publish',
            peer: publishPeerOf(variant),
            variant,
            round,
            n,
            payload: s.publish.payload,
          });
  }
  return specs;
}

function job(spec: Spec, target: Target, options: Options, s: Settings, second?: Target): Job {
  switch (spec.scenario) {
    case 'cross-node': {
      const c = s.crossNode;
      const common = { target, ...(second ? { second } : {}), payload: c.payload, counters: options.counters };
      return spec.kind === 'latency'
        ? {
            scenario: 'latency',
            ...common,
            recipients: spec.n,
            rate: c.latency.rate,
            checkers: c.latency.checkers,
            warmupMs: c.latency.warmupMs,
            measureMs: c.latency.measureMs,
          }
        : {
            scenario: 'fanout',
            ...common,
            recipients: spec.n,
            window: c.window,
            checkers: c.checkers,
            warmupMs: c.warmupMs,
            measureMs: c.measureMs,
          };
    }
    case 'churn':
      return { scenario: 'churn', target, counters: options.counters, ...s.churn };
    case 'publish': // bench/publish.ts builds its own jobs
    case 'ops':
      throw new Error(`${spec.scenario} builds its own jobs (bench/run.ts execute)`);
    case 'fanout':
      return {
        scenario: 'fanout',
        target,
        recipients: spec.n,
        payload: spec.payload ?? 64,
        counters: options.counters,
        ...s.fanout,
      };
    case 'latency': {
      const { recipients, payload, warmupMs, messages, checkers } = s.latency;
      const rate = spec.rate ?? 100;
      return {
        scenario: 'latency',
        target,
        counters: options.counters,
        recipients,
        payload,
        warmupMs,
        checkers,
        rate,
        measureMs: (messages / rate) * 1000,
      };
    }
    case 'idle':
      return {
        scenario: 'idle',
        target,
        connections: spec.n,
        concurrency: s.idle.concurrency,
        settleMs: s.idle.settleMs,
      };
  }
}

function describe(result: JobResult): string {
  if (result.scenario === 'ops') {
    const r = result;
    return `REGISTER ${r.registerUs.median.toFixed(1)} µs/op, UNREGISTER ${r.unregisterUs.median.toFixed(1)} µs/op, BROADCAST ${r.broadcastNs.median.toFixed(0)} ns/recipient, shutdown ${r.shutdownMs.toFixed(0)} ms${r.shutdownCpuMs === undefined ? '' : ` (CPU ${r.shutdownCpuMs.toFixed(0)} ms)`}, heap ${bytesMiB(r.heapUsedBytes)}, CPU share ${pct(r.cpuShare)}${r.cpuShare < 0.9 ? ' NOISY' : ''}`;
  }
  const cpu = `server ${pct(result.cpu.server)} (core ${pct(result.cpu.cores[0]?.busy ?? Number.NaN)}), generator ${pct(result.cpu.generator)} (core ${pct(result.cpu.cores[1]?.busy ?? Number.NaN)})`;
  const flags = `${generatorBound(result.cpu) ? ' GENERATOR-BOUND' : bothSaturated(result.cpu) ? ' (both cores saturated)' : ''}${noisy(result.cpu) ? ` NOISY (others ${pct(result.cpu.others)})` : ''}`;
  switch (result.scenario) {
    case 'fanout':
      return `${si(result.deliveriesPerSec)} deliveries/s, ${cpu}, ${checksText({ ...result.check })}${flags}`;
    case 'latency': {
      const nodes = result.latencyByNode
        ?.map((p, i) => `node ${i + 1} p50 ${p.p50.toFixed(2)} / p99 ${p.p99.toFixed(2)} ms`)
        .join(', ');
      return `p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, max ${result.latency.max.toFixed(2)} ms${nodes ? ` (${nodes})` : ''}, ${cpu}, ${checksText({ ...result.check })}${flags}`;
    }
    case 'idle':
      return `${(result.rssPerConnBytes / 1024).toFixed(1)} KiB/connection, ${si(result.connectsPerSec)} connects/s, ${result.failed} failed${flags}`;
    case 'churn':
      return `${si(result.cyclesPerSec)} cycles/s (${result.cycles} measured, ${result.failedCycles} failed), clients ${result.finalClients}/${result.baseline} after ${Math.round(result.msToBaseline)} ms, RSS ${bytesMiB(result.rssFirst)} → ${bytesMiB(result.rssLast)} (max ${bytesMiB(result.rssMax)}), ${checksText({ ...result.check })}${flags}`;
  }
}

const bytesMiB = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** One run: its servers (one peer, or one or two actorhub nodes), then the generator or the ops child. */
async function execute(
  root: string,
  spec: Spec,
  options: Options,
  s: Settings,
  taskset: boolean,
  clkTck: number,
  started: Date,
): Promise<{ result: JobResult; brokerDropped?: number }> {
  const core = (c: number): number | undefined => (taskset ? c : undefined);
  if (spec.scenario === 'publish') {
    const prefix = `bench-${started.getTime().toString(36)}-${process.pid}-publish-${spec.variant}-${spec.n}-r${spec.round}`;
    return executePublish(
      root,
      spec.variant ?? 'off',
      spec.n,
      s.publish,
      { brokers: options, prefix, counters: options.counters, clkTck },
      core,
    );
  }
  if (spec.scenario === 'ops') {
    const job = {
      clients: spec.n,
      warmupClients: s.ops.warmupClients,
      batches: s.ops.batches,
      batchSize: s.ops.batchSize,
      broadcasts: s.ops.broadcasts,
    };
    return { result: await runChild(root, ['--expose-gc', 'dist/bench/ops/main.js', JSON.stringify(job)], core(0)) };
  }
  const peer = PEERS.find((p) => p.id === spec.peer)!;
  const servers: Server[] = [];
  try {
    if (spec.scenario === 'cross-node' && spec.setup !== undefined && spec.setup !== 'single') {
      const setup = spec.setup;
      const url = setup === 'redis' ? options.redis : options.nats;
      await probeBroker(setup, url);
      // A fresh prefix per run: leftovers of an earlier run (or another user of the broker) stay apart.
      const prefix = `bench-${started.getTime().toString(36)}-${process.pid}-${spec.kind}-${spec.n}-r${spec.round}`;
      // Both nodes share core 0 (the generator keeps core 1; the broker is not pinned).
      for (const id of ['bench-node-1', 'bench-node-2'])
        servers.push(
          await startServer(root, { id: `${setup} ${id}`, args: nodeArgs(setup, url, prefix, id) }, core(0)),
        );
      const [one, two] = servers as [Server, Server];
      await waitForCluster([
        { port: one.port, id: 'bench-node-1' },
        { port: two.port, id: 'bench-node-2' },
      ]);
      const target = (sv: Server): Target => ({
        port: sv.port,
        path: peer.path,
        wire: peer.wire,
        serverPid: sv.pid,
        clkTck,
      });
      const result = await runGenerator(root, job(spec, target(one), options, s, target(two)), core(1));
      const dropped = (await Promise.all(servers.map((sv) => clusterStats(sv.port)))).reduce(
        (sum, v) => sum + v.broker.dropped,
        0,
      );
      return { result, brokerDropped: dropped };
    }
    const server = await startServer(root, peer, core(0));
    servers.push(server);
    const target: Target = { port: server.port, path: peer.path, wire: peer.wire, serverPid: server.pid, clkTck };
    return { result: await runGenerator(root, job(spec, target, options, s), core(1)) };
  } finally {
    await Promise.all(servers.map((sv) => sv.stop()));
  }
}

/** `saved`: what goes into the JSON file when it differs from what the reports render (--report-only). */
function writeReports(root: string, results: Results, docs: boolean, saved: Results = results): string[] {
  const written: string[] = [];
  const file = path.join(root, 'bench', 'results', `${results.mode === 'quick' ? 'quick' : 'latest'}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(saved, null, 1)}\n`);
  written.push(path.relative(root, file));
  if (docs) {
    const drawn = charts(results.summary, results.runs);
    const dir = path.join(root, 'docs', 'performance');
    mkdirSync(dir, { recursive: true });
    for (const c of drawn) {
      writeFileSync(path.join(dir, c.file), c.svg);
      written.push(path.relative(root, path.join(dir, c.file)));
    }
    // Sections measured by other scripts (npm run bench -- storm…) sit after this marker and are kept.
    const page = path.join(root, 'docs', 'performance.md');
    const before = existsSync(page) ? readFileSync(page, 'utf8') : '';
    const kept = before.indexOf(KEPT_MARKER);
    writeFileSync(page, markdown(results, drawn) + (kept === -1 ? '' : `\n${before.slice(kept)}`));
    written.push('docs/performance.md');
  }
  return written;
}

/** Everything from this line on in docs/performance.md is hand-written and survives a regeneration. */
const KEPT_MARKER = '<!-- measured by other scripts: npm run bench keeps everything below -->';

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'inspector') return runInspectorBench(argv.slice(1)); // in process, on its own
  const options = parseOptions(argv);
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const root = repoRoot();
  if (options.reportOnly) {
    const saved = JSON.parse(readFileSync(path.join(root, 'bench', 'results', 'latest.json'), 'utf8')) as Results;
    // Results written before a scenario existed lack its settings: the method text then shows the defaults (its tables say "not measured").
    const defaults = parseOptions([]) as Options;
    const results: Results = {
      ...saved,
      options: { ...defaults, ...saved.options },
      settings: { ...settingsFor({ ...defaults, quick: saved.mode === 'quick' }), ...saved.settings },
      summary: summarise(saved.runs),
    };
    process.stdout.write(`${textTables(results.summary)}\n`);
    const written = writeReports(root, results, options.docs, { ...saved, summary: results.summary });
    process.stdout.write(`\nwrote ${written.join(', ')}\n`);
    return 0;
  }
  for (const f of ['dist/src/server/cli.js', 'dist/bench/peers/raw-ws.js', 'dist/bench/load/main.js']) {
    if (!existsSync(path.join(root, f)))
      throw new Error(`${f} is missing: run \`npm run build\` first (npm run bench does)`);
  }

  const started = new Date();
  const taskset = hasTaskset();
  const machine = describeMachine(root, taskset);
  const settings = settingsFor(options);
  const clkTck = clockTicks();
  const notes: string[] = [];
  if (!taskset) notes.push('taskset was not found: server and generator were not pinned to separate cores.');
  if (options.counters === 'lib')
    notes.push('Counting recipients used the real client library (--counters lib), not the light raw counters.');
  const specs = plan(options, settings, machine.openFiles, notes);
  const log = (line: string): boolean => process.stderr.write(`${line}\n`);
  log(
    `actorhub bench: ${specs.length} runs (${options.quick ? 'quick' : 'full'}, ${options.rounds} round${options.rounds === 1 ? '' : 's'}); ${machine.cpus} cores, ${machine.cpuModel}, node ${machine.node}`,
  );

  const runs: RunRecord[] = [];
  let quietBudget = settings.quietBudgetMs;
  for (const [i, spec] of specs.entries()) {
    const who =
      spec.scenario === 'cross-node'
        ? `actorhub ${spec.setup === 'single' ? '1 node' : `2 nodes over ${spec.setup}`}`
        : spec.scenario === 'ops'
          ? 'hub machine'
          : spec.scenario === 'publish'
            ? publishServer(spec.variant ?? 'off').label
            : spec.peer;
    const what = `[${i + 1}/${specs.length}] ${spec.scenario}${spec.kind ? ` ${spec.kind}` : ''} N=${spec.n}${spec.scenario === 'fanout' ? ` ${bytes(spec.payload ?? 0)}` : ''}${spec.rate ? ` ${spec.rate} msg/s` : ''} ${who} r${spec.round}`;
    const quiet = await waitForQuiet(Math.min(settings.quietWaitMs, quietBudget));
    quietBudget = Math.max(0, quietBudget - quiet.waitedMs);
    if (quiet.load >= 0.25)
      log(`${what}: the machine is busy (${quiet.load.toFixed(2)} cores used by other processes); running anyway`);
    const t0 = performance.now();
    try {
      const { result, brokerDropped } = await execute(root, spec, options, settings, taskset, clkTck, started);
      runs.push({
        ...spec,
        quietWaitMs: Math.round(quiet.waitedMs),
        durationMs: Math.round(performance.now() - t0),
        result,
        brokerDropped,
      });
      log(`${what}: ${describe(result)}${brokerDropped ? `, broker dropped ${brokerDropped}` : ''}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      runs.push({
        ...spec,
        quietWaitMs: Math.round(quiet.waitedMs),
        durationMs: Math.round(performance.now() - t0),
        error: message,
      });
      log(`${what}: FAILED: ${message}`);
    }
  }

  const finished = new Date();
  const results: Results = {
    version: 1,
    mode: options.quick ? 'quick' : 'full',
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSec: (finished.getTime() - started.getTime()) / 1000,
    options,
    settings,
    machine,
    notes,
    runs,
    summary: summarise(runs),
  };
  process.stdout.write(`\n${textTables(results.summary)}\n`);
  if (notes.length) process.stdout.write(`\n${notes.join('\n')}\n`);
  const written = writeReports(root, results, options.docs);
  process.stdout.write(`\n${runs.length} runs in ${Math.round(results.durationSec)} s; wrote ${written.join(', ')}\n`);
  const sm = results.summary;
  const failedChecks = [
    ...sm.fanout,
    ...sm.latency,
    ...(sm.crossFanout ?? []),
    ...(sm.crossLatency ?? []),
    ...(sm.churn ?? []),
    ...(sm.publish ?? []),
  ].filter((r) => !checksPass(r.checks));
  const leaked = (sm.churn ?? []).filter((r) => r.returned < r.runs - r.errors.length);
  return runs.some((r) => r.error) || failedChecks.length || leaked.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
