/**
 * Fan-out: one publisher, N recipients, as fast as the server goes with at most `window`
 * messages in flight (the publisher sends k once (k - window + 1) × N deliveries arrived).
 * deliveries/s is counted over the measurement window, after a warm-up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openAudience } from './audience.js';
import { byNode, percentiles } from './checker.js';
import { makePayload } from './payload.js';
import { until } from './server-stats.js';
import { cpuReport, snapshot, windowBetween } from './window.js';
import type { FanoutJob, FanoutResult } from '../types.js';

export async function runFanout(job: FanoutJob): Promise<FanoutResult> {
  const audience = await openAudience(
    job.target,
    job.recipients,
    job.checkers,
    job.payload,
    job.counters,
    job.second,
    job.topic,
  );
  const { tally, publish, checkers } = audience;
  const servers = job.second ? [job.target.serverPid, job.second.serverPid] : job.target.serverPid;
  const n = job.recipients;
  let sent = 0;
  let sending = true;

  const pump = (): void => {
    tally.wakeAt = Number.POSITIVE_INFINITY;
    if (!sending) return;
    const limit = job.window * n;
    while (sent * n - tally.total < limit) {
      publish(makePayload(sent, job.payload, performance.now()));
      sent++;
    }
    tally.wakeAt = (sent - job.window) * n + 1;
  };
  tally.wake = pump;
  pump();

  await sleep(job.warmupMs);
  const a = snapshot(servers);
  const totalA = tally.total;
  const sentA = sent;
  for (const c of checkers) c.recordFrom = sent;
  await sleep(job.measureMs);
  const b = snapshot(servers);
  const totalB = tally.total;
  const sentB = sent;
  for (const c of checkers) c.recordTo = sent;
  sending = false;
  tally.wakeAt = Number.POSITIVE_INFINITY;

  await until(() => tally.total >= sent * n, 15_000);
  await sleep(200); // late duplicates or echoes would show up here
  const check = audience.correctness(sent);
  audience.destroy();

  const w = windowBetween(a, b, job.target.clkTck);
  const deliveries = totalB - totalA;
  return {
    scenario: 'fanout',
    connectMs: audience.connectMs,
    windowMs: w.ms,
    sent,
    deliveries,
    deliveriesPerSec: deliveries / (w.ms / 1000),
    messagesPerSec: (sentB - sentA) / (w.ms / 1000),
    cpu: cpuReport(w),
    serverNsPerDelivery: deliveries > 0 ? (w.serverCpuSeconds * 1e9) / deliveries : 0,
    latency: percentiles(checkers.map((c) => c.histogram)),
    ...(job.second ? { latencyByNode: byNode(audience) } : {}),
    check,
  };
}
