/**
 * docs/reliability.md item 3: `npm run bench -- soak [--cycles 100000 --concurrency 128]`. Connect/disconnect
 * cycles against a hub in a child process (bench/reliability/soak-hub.ts), with a mix of clean
 * closes, FINs, RSTs and half-open peers that only the heartbeat can reap (short ping
 * settings). Every client subscribes to a topic before it leaves. At the end, the hub's own
 * census (registered clients, topics, live actors, XState timers, active handles, listeners,
 * sockets) must be back at its baseline; RSS is sampled throughout and reported after warm-up.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from './proc.js';
import { connectAll } from './load/raw-client.js';
import { cycle, type Mode } from './reliability/cycle.js';
import { mib, printTable, repoRoot, slope } from './reliability/common.js';
import type { Census } from './reliability/soak-hub.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '128' },
    'ping-interval': { type: 'string', default: '250' },
    'pong-wait': { type: 'string', default: '1000' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- soak [options]
  --cycles N         connect/disconnect cycles (default 100000)
  --concurrency C    cycles in flight at most (default 128)
  --ping-interval MS the hub's heartbeat sweep (default 250)
  --pong-wait MS     silence after which the hub terminates a peer (default 1000)
Modes, by cycle number mod 10: 0–2 clean close, 3–5 FIN, 6–8 RST, 9 half-open.`);
  process.exit(0);
}
const CYCLES = Number(values.cycles);
const CONCURRENCY = Number(values.concurrency);
const PING_MS = Number(values['ping-interval']);
const PONG_WAIT_MS = Number(values['pong-wait']);
const WARMUP = 0.1; // the first 10% of cycles are warm-up for the RSS figures
const TOPICS = 50;
/** Heap kept per cycle after GC below which the soak calls memory flat (JIT code and caches settle in the first cycles). */
const RETAINED_BYTES_PER_CYCLE_OK = 64;

const modeOf = (i: number): Mode => {
  const r = i % 10;
  return r < 3 ? 'clean' : r < 6 ? 'fin' : r < 9 ? 'rst' : 'half-open';
};

async function main(): Promise<void> {
  const child = fork(
    path.join(repoRoot(), 'dist/bench/reliability/soak-hub.js'),
    [JSON.stringify({ pingIntervalMs: PING_MS, pongWaitMs: PONG_WAIT_MS })],
    {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const replies: ((c: Census) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { type: string; port?: number; census?: Census }) => {
      if (m.type === 'listening') resolve(m.port!);
      if (m.type === 'census') replies.shift()?.(m.census!);
    });
    child.once('exit', (code) => reject(new Error(`the soak hub exited (${code})`)));
  });
  const census = (gc: boolean): Promise<Census> =>
    new Promise((resolve) => {
      replies.push(resolve);
      child.send({ type: 'census', gc });
    });

  const baseline = await census(true);
  const counts: Record<Mode, number> = { clean: 0, fin: 0, rst: 0, 'half-open': 0 };
  const reaped: number[] = [];
  let done = 0;
  let failures = 0;
  const errors = new Map<string, number>();
  const samples: { cycles: number; t: number; rss: number }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(
    () => samples.push({ cycles: done, t: performance.now() - t0, rss: rssBytes(child.pid!) }),
    500,
  );
  let lastPrint = 0;

  await connectAll(CYCLES, CONCURRENCY, async (i) => {
    const mode = modeOf(i);
    try {
      const outcome = await cycle(port, mode, `soak:${i % TOPICS}`, 30_000);
      counts[mode]++;
      if (outcome.reapedMs !== undefined) reaped.push(outcome.reapedMs);
    } catch (error) {
      failures++;
      const key = (error as Error).message.replace(/\d+/g, 'N');
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    done++;
    if (done - lastPrint >= CYCLES / 10) {
      lastPrint = done;
      process.stderr.write(
        `  ${done} cycles, ${((performance.now() - t0) / 1000).toFixed(0)} s, server RSS ${mib(rssBytes(child.pid!))}\n`,
      );
    }
  });
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  // Let the hub finish what the last cycles started (RSTs and FINs it has not processed yet).
  let after = await census(false);
  for (
    let i = 0;
    i < 100 && (after.registered > baseline.registered || after.serverSockets > baseline.serverSockets);
    i++
  ) {
    await sleep(50);
    after = await census(false);
  }
  after = await census(true);

  const warm = samples.filter((s) => s.cycles >= CYCLES * WARMUP);
  const rssSlope = slope(warm.map((s) => ({ x: s.cycles, y: s.rss }))) * 10_000;
  const resources = new Set([...Object.keys(baseline.resources), ...Object.keys(after.resources)]);
  const row = (what: string, a: number, b: number) => [what, a, b, b === a ? 'yes' : 'NO'];
  console.log(
    `\nsoak: ${CYCLES} cycles in ${elapsed.toFixed(1)} s (${(CYCLES / elapsed).toFixed(0)}/s), concurrency ${CONCURRENCY}, ` +
      `ping every ${PING_MS} ms, pong wait ${PONG_WAIT_MS} ms; ${failures} failed cycles` +
      (errors.size ? ` (${[...errors].map(([k, n]) => `${n}× ${k}`).join('; ')})` : ''),
  );
  console.log(
    `modes: ${Object.entries(counts)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ')}`,
  );
  reaped.sort((a, b) => a - b);
  if (reaped.length) {
    console.log(
      `half-open peers reaped by the heartbeat after ${reaped[Math.floor(reaped.length / 2)]!.toFixed(0)} ms median, ${reaped.at(-1)!.toFixed(0)} ms max`,
    );
  }
  console.log('');
  printTable([
    ['hub census', 'baseline', 'after', 'back to baseline'],
    row('registered clients', baseline.registered, after.registered),
    row('topics', baseline.topics, after.topics),
    row('live actors (created during the soak)', baseline.actorsAlive, after.actorsAlive),
    row('XState scheduled timers', baseline.xstateTimers, after.xstateTimers),
    ...[...resources]
      .sort()
      .map((r) => row(`active handles: ${r}`, baseline.resources[r] ?? 0, after.resources[r] ?? 0)),
    row('server listeners', baseline.serverListeners, after.serverListeners),
    row('process listeners', baseline.processListeners, after.processListeners),
    row('server sockets', baseline.serverSockets, after.serverSockets),
  ]);
  console.log(
    `\nactors created during the soak: ${after.actorsCreated} (${(after.actorsCreated / CYCLES).toFixed(2)} per cycle)`,
  );
  console.log(
    `hub stats: connections ${after.stats.connectionsTotal}, heartbeat timeouts ${after.stats.heartbeatTimeouts}, rejected upgrades ${after.stats.rejectedUpgrades}`,
  );
  const maxRss = Math.max(...warm.map((s) => s.rss));
  console.log(
    `server RSS: baseline ${mib(baseline.rss)}; after warm-up (${Math.round(CYCLES * WARMUP)} cycles) first ${mib(warm[0]?.rss ?? 0)}, ` +
      `last ${mib(warm.at(-1)?.rss ?? 0)}, max ${mib(maxRss)}, slope ${(rssSlope / 1024).toFixed(1)} KiB per 10k cycles ` +
      `(${warm.length} samples)`,
  );
  console.log(
    `after GC: heap used ${mib(after.heapUsed)} (baseline ${mib(baseline.heapUsed)}), heap total ${mib(after.heapTotal)} (${mib(baseline.heapTotal)}), ` +
      `external ${mib(after.external)} (${mib(baseline.external)}), array buffers ${mib(after.arrayBuffers)} (${mib(baseline.arrayBuffers)})`,
  );
  const clean =
    after.registered === baseline.registered &&
    after.topics === baseline.topics &&
    after.actorsAlive === baseline.actorsAlive &&
    after.xstateTimers === baseline.xstateTimers &&
    after.serverListeners === baseline.serverListeners &&
    after.processListeners === baseline.processListeners &&
    after.serverSockets === baseline.serverSockets &&
    [...resources].every((r) => (baseline.resources[r] ?? 0) === (after.resources[r] ?? 0));
  // Counts can all be back while memory is still retained: the heap after GC tells.
  const retainedPerCycle = (after.heapUsed - baseline.heapUsed) / CYCLES;
  console.log(
    `heap retained after GC: ${mib(after.heapUsed - baseline.heapUsed)} over ${CYCLES} cycles = ${retainedPerCycle.toFixed(0)} B per cycle` +
      (retainedPerCycle > RETAINED_BYTES_PER_CYCLE_OK
        ? ' — GROWS with the number of connections served (see docs/reliability.md, item 3)'
        : ''),
  );
  console.log(
    `\nleaks: ${clean ? 'none in the counts (every count back to its baseline)' : 'FOUND in the counts (see the table)'}; failed cycles: ${failures}`,
  );
  console.log(
    `RESULT ${JSON.stringify({ CYCLES, CONCURRENCY, elapsed, failures, counts, baseline, after, rss: warm.map((s) => [s.cycles, s.rss]) })}`,
  );
  child.send({ type: 'close' });
  await new Promise((resolve) => child.once('exit', resolve));
  process.exitCode = clean && failures === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
