/**
 * Churn: a stable audience receives a broadcast stream at a fixed rate while `workers` loops
 * connect a light client, wait for its handshake, and leave (close frame, FIN or RST in
 * turn). After a warm-up, cycles are counted and the server's RSS is sampled; then the loops
 * stop and /stats must come back to the baseline (the stable audience), and every stable
 * subscriber must have received the whole stream once, in order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from '../proc.js';
import { HOST, openAudience } from './audience.js';
import { percentiles } from './checker.js';
import { makePayload } from './payload.js';
import { RawClient, Tally } from './raw-client.js';
import { statsClients, until } from './server-stats.js';
import { cpuReport, snapshot, windowBetween } from './window.js';
import type { ChurnJob, ChurnResult, Departure, RssSample } from '../types.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const LEAVE_TIMEOUT_MS = 5_000;

/** Least-squares slope of rss over t, in bytes per second. */
function slope(samples: readonly RssSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((s, p) => s + p.t, 0) / n;
  const mr = samples.reduce((s, p) => s + p.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.t - mt) * (p.rss - mr);
    den += (p.t - mt) ** 2;
  }
  return den > 0 ? (num / den) * 1000 : 0;
}

export async function runChurn(job: ChurnJob): Promise<ChurnResult> {
  const { target } = job;
  const audience = await openAudience(target, job.subscribers, job.checkers, job.payload, job.counters);
  const { tally, publisher, checkers } = audience;
  const baseline = await statsClients(HOST, target.port);

  // The stream: open loop at job.rate until stopped.
  let sent = 0;
  let streaming = true;
  const t0 = performance.now();
  const interval = 1000 / job.rate;
  const stream = (async () => {
    while (streaming) {
      const wait = t0 + sent * interval - performance.now();
      if (wait > 0) await sleep(wait);
      if (!streaming) break;
      publisher.send(makePayload(sent, job.payload, performance.now()));
      sent++;
    }
  })();

  // The churn: bounded loops; `measuring` says whether a finished cycle counts.
  const churnTally = new Tally();
  let churning = true;
  let measuring = false;
  let cycles = 0;
  let totalCycles = 0;
  let failedCycles = 0;
  const byKind: Record<Departure, number> = { close: 0, fin: 0, rst: 0 };
  let turn = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < job.maxCyclesPerWorker && churning; i++) {
      const kind = job.mix[turn++ % job.mix.length]!;
      const client = new RawClient(target.wire, churnTally);
      try {
        await client.connect(HOST, target.port, target.path, HANDSHAKE_TIMEOUT_MS);
      } catch {
        failedCycles++;
        client.destroy();
        continue;
      }
      const clean = await client.leave(kind, LEAVE_TIMEOUT_MS);
      totalCycles++;
      if (!clean) failedCycles++;
      else if (measuring) {
        cycles++;
        byKind[kind]++;
      }
    }
  };
  const loops = Promise.all(Array.from({ length: job.workers }, worker));

  await sleep(job.warmupMs);
  measuring = true;
  for (const c of checkers) c.recordFrom = sent;
  const a = snapshot(target.serverPid);
  const rss: RssSample[] = [];
  const sampleStart = performance.now();
  while (performance.now() - sampleStart < job.churnMs) {
    rss.push({ t: Math.round(performance.now() - sampleStart), rss: rssBytes(target.serverPid) });
    await sleep(Math.min(job.rssEveryMs, Math.max(0, job.churnMs - (performance.now() - sampleStart))));
  }
  rss.push({ t: Math.round(performance.now() - sampleStart), rss: rssBytes(target.serverPid) });
  const b = snapshot(target.serverPid);
  for (const c of checkers) c.recordTo = sent;
  const measuredCycles = cycles;
  const measuredByKind = { ...byKind };
  measuring = false;
  churning = false;
  await loops;

  // Back to the baseline?
  const stopped = performance.now();
  let finalClients = await statsClients(HOST, target.port);
  while (finalClients !== baseline && performance.now() - stopped < job.baselineTimeoutMs) {
    await sleep(20);
    finalClients = await statsClients(HOST, target.port);
  }
  const msToBaseline = performance.now() - stopped;

  streaming = false;
  await stream;
  await until(() => tally.total >= sent * job.subscribers, 15_000);
  await sleep(200);
  const check = audience.correctness(sent);
  audience.destroy();

  const w = windowBetween(a, b, target.clkTck);
  const values = rss.map((s) => s.rss);
  const first = values[0] ?? 0;
  return {
    scenario: 'churn',
    baseline,
    cycles: measuredCycles,
    cyclesByKind: measuredByKind,
    cyclesPerSec: measuredCycles / (w.ms / 1000),
    failedCycles,
    totalCycles,
    finalClients,
    returnedToBaseline: finalClients === baseline,
    msToBaseline,
    rss,
    rssFirst: first,
    rssLast: values[values.length - 1] ?? 0,
    rssMax: Math.max(...values),
    rssSlopeBytesPerSec: slope(rss),
    rssSpread: first > 0 ? (Math.max(...values) - Math.min(...values)) / first : 0,
    sent,
    cpu: cpuReport(w),
    check,
    latency: percentiles(checkers.map((c) => c.histogram)),
  };
}
