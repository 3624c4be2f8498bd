/**
 * The benchmark suite of issue 5: `npm run bench [-- --quick]`. Runs the scenarios against
 * every peer (fresh processes, interleaved rounds), prints the tables, writes
 * bench/results/latest.json (quick.json for --quick) and regenerates docs/performance.md and
 * docs/performance/*.svg.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicks, hasTaskset, runGenerator, startServer, waitForQuiet, type Server } from './harness.js';
import { describeMachine } from './machine.js';
import { runInspectorBench } from './inspector.js';
import { HELP, parseOptions, settingsFor, type Options, type Scenario, type Settings } from './plan.js';
import { PEERS, type PeerId } from './peers.js';
import { charts } from './report/charts.js';
import { bytes, pct, si } from './report/format.js';
import { markdown } from './report/markdown.js';
import { checksText, textTables } from './report/tables.js';
import type { Results } from './results.js';
import { bothSaturated, checksPass, generatorBound, noisy, summarise, type RunRecord } from './summary.js';
import type { Job, JobResult, Target } from './types.js';

interface Spec {
  readonly scenario: Scenario;
  readonly peer: PeerId;
  readonly round: number;
  readonly n: number;
  readonly payload?: number;
  readonly rate?: number;
}

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
      for (const payload of s.fanout.payloads) rounds((round, peer) => specs.push({ scenario: 'fanout', peer, round, n, payload }));
    }
  }
  if (options.only.includes('latency') && fits(s.latency.recipients, 'latency')) {
    for (const rate of s.latency.rates) rounds((round, peer) => specs.push({ scenario: 'latency', peer, round, n: s.latency.recipients, payload: s.latency.payload, rate }));
  }
  if (options.only.includes('idle')) {
    for (const n of s.idle.sizes.filter((n) => fits(n, 'idle'))) rounds((round, peer) => specs.push({ scenario: 'idle', peer, round, n }));
  }
  return specs;
}

function job(spec: Spec, target: Target, options: Options, s: Settings): Job {
  switch (spec.scenario) {
    case 'fanout':
      return { scenario: 'fanout', target, recipients: spec.n, payload: spec.payload ?? 64, counters: options.counters, ...s.fanout };
    case 'latency':
      return { scenario: 'latency', target, counters: options.counters, ...s.latency, rate: spec.rate ?? 100 };
    case 'idle':
      return { scenario: 'idle', target, connections: spec.n, concurrency: s.idle.concurrency, settleMs: s.idle.settleMs };
  }
}

function describe(result: JobResult): string {
  const cpu = `server ${pct(result.cpu.server)} (core ${pct(result.cpu.cores[0]?.busy ?? Number.NaN)}), generator ${pct(result.cpu.generator)} (core ${pct(result.cpu.cores[1]?.busy ?? Number.NaN)})`;
  const flags = `${generatorBound(result.cpu) ? ' GENERATOR-BOUND' : bothSaturated(result.cpu) ? ' (both cores saturated)' : ''}${noisy(result.cpu) ? ` NOISY (others ${pct(result.cpu.others)})` : ''}`;
  switch (result.scenario) {
    case 'fanout':
      return `${si(result.deliveriesPerSec)} deliveries/s, ${cpu}, ${checksText({ ...result.check })}${flags}`;
    case 'latency':
      return `p50 ${result.latency.p50.toFixed(2)} ms, p99 ${result.latency.p99.toFixed(2)} ms, max ${result.latency.max.toFixed(2)} ms, ${cpu}, ${checksText({ ...result.check })}${flags}`;
    case 'idle':
      return `${(result.rssPerConnBytes / 1024).toFixed(1)} KiB/connection, ${si(result.connectsPerSec)} connects/s, ${result.failed} failed${flags}`;
  }
}

function writeReports(root: string, results: Results, docs: boolean): string[] {
  const written: string[] = [];
  const file = path.join(root, 'bench', 'results', `${results.mode === 'quick' ? 'quick' : 'latest'}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
  written.push(path.relative(root, file));
  if (docs) {
    const drawn = charts(results.summary);
    const dir = path.join(root, 'docs', 'performance');
    mkdirSync(dir, { recursive: true });
    for (const c of drawn) {
      writeFileSync(path.join(dir, c.file), c.svg);
      written.push(path.relative(root, path.join(dir, c.file)));
    }
    writeFileSync(path.join(root, 'docs', 'performance.md'), markdown(results, drawn));
    written.push('docs/performance.md');
  }
  return written;
}

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
    const results: Results = { ...saved, summary: summarise(saved.runs) };
    process.stdout.write(`${textTables(results.summary)}\n`);
    const written = writeReports(root, results, options.docs);
    process.stdout.write(`\nwrote ${written.join(', ')}\n`);
    return 0;
  }
  for (const f of ['dist/src/cli.js', 'dist/bench/peers/raw-ws.js', 'dist/bench/load/main.js']) {
    if (!existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm run bench does)`);
  }

  const started = new Date();
  const taskset = hasTaskset();
  const machine = describeMachine(root, taskset);
  const settings = settingsFor(options);
  const clkTck = clockTicks();
  const notes: string[] = [];
  if (!taskset) notes.push('taskset was not found: server and generator were not pinned to separate cores.');
  if (options.counters === 'lib') notes.push('Counting recipients used the real client library (--counters lib), not the light raw counters.');
  const specs = plan(options, settings, machine.openFiles, notes);
  const log = (line: string): boolean => process.stderr.write(`${line}\n`);
  log(`actorhub bench: ${specs.length} runs (${options.quick ? 'quick' : 'full'}, ${options.rounds} round${options.rounds === 1 ? '' : 's'}); ${machine.cpus} cores, ${machine.cpuModel}, node ${machine.node}`);

  const runs: RunRecord[] = [];
  let quietBudget = settings.quietBudgetMs;
  for (const [i, spec] of specs.entries()) {
    const peer = PEERS.find((p) => p.id === spec.peer)!;
    const what = `[${i + 1}/${specs.length}] ${spec.scenario} N=${spec.n}${spec.scenario === 'fanout' ? ` ${bytes(spec.payload ?? 0)}` : ''}${spec.rate ? ` ${spec.rate} msg/s` : ''} ${peer.id} r${spec.round}`;
    const quiet = await waitForQuiet(Math.min(settings.quietWaitMs, quietBudget));
    quietBudget = Math.max(0, quietBudget - quiet.waitedMs);
    if (quiet.load >= 0.25) log(`${what}: the machine is busy (${quiet.load.toFixed(2)} cores used by other processes); running anyway`);
    let server: Server | undefined;
    const t0 = performance.now();
    try {
      server = await startServer(root, peer, taskset ? 0 : undefined);
      const target: Target = { port: server.port, path: peer.path, wire: peer.wire, serverPid: server.pid, clkTck };
      const result = await runGenerator(root, job(spec, target, options, settings), taskset ? 1 : undefined);
      runs.push({ ...spec, quietWaitMs: Math.round(quiet.waitedMs), durationMs: Math.round(performance.now() - t0), result });
      log(`${what}: ${describe(result)}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      runs.push({ ...spec, quietWaitMs: Math.round(quiet.waitedMs), durationMs: Math.round(performance.now() - t0), error: message });
      log(`${what}: FAILED: ${message}`);
    } finally {
      await server?.stop();
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
  const failedChecks = [...results.summary.fanout, ...results.summary.latency].filter((r) => !checksPass(r.checks));
  return runs.some((r) => r.error) || failedChecks.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
