/**
 * Latency at a fixed rate: one publisher sends on a fixed schedule (open loop: k at
 * t0 + k / rate, whatever the server does); the checkers record send-to-receive latency of
 * every message after the warm-up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openAudience } from './audience.js';
import { byNode, percentiles } from './checker.js';
import { makePayload } from './payload.js';
import { until } from './server-stats.js';
import { cpuReport, snapshot, windowBetween, type Snapshot } from './window.js';
import type { LatencyJob, LatencyResult } from '../types.js';

export async function runLatency(job: LatencyJob): Promise<LatencyResult> {
  const audience = await openAudience(job.target, job.recipients, job.checkers, job.payload, job.counters, job.second);
  const { tally, publisher, checkers } = audience;
  const servers = job.second ? [job.target.serverPid, job.second.serverPid] : job.target.serverPid;
  const interval = 1000 / job.rate;
  const warm = Math.round(job.warmupMs / interval);
  const total = warm + Math.round(job.measureMs / interval);
  for (const c of checkers) {
    c.recordFrom = warm;
    c.recordTo = total;
  }

  const t0 = performance.now();
  let a: Snapshot | undefined;
  let totalA = 0;
  for (let k = 0; k < total; k++) {
    const wait = t0 + k * interval - performance.now();
    if (wait > 0) await sleep(wait);
    if (k === warm) {
      a = snapshot(servers);
      totalA = tally.total;
    }
    publisher.send(makePayload(k, job.payload, performance.now()));
  }
  await until(() => tally.total >= total * job.recipients, 15_000);
  const b = snapshot(servers);
  const deliveries = tally.total - totalA;
  await sleep(200);
  const check = audience.correctness(total);
  audience.destroy();

  const w = windowBetween(a ?? b, b, job.target.clkTck);
  return {
    scenario: 'latency',
    connectMs: audience.connectMs,
    sent: total,
    achievedRate: (total - warm) / (w.ms / 1000),
    cpu: cpuReport(w),
    serverNsPerDelivery: deliveries > 0 ? (w.serverCpuSeconds * 1e9) / deliveries : 0,
    latency: percentiles(checkers.map((c) => c.histogram)),
    ...(job.second ? { latencyByNode: byNode(audience) } : {}),
    check,
  };
}
