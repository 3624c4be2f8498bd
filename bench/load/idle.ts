/**
 * Idle connections: open N (light clients, at most `concurrency` handshakes in flight), time
 * until every handshake is done and /stats shows N, then let the server settle and read its
 * RSS: (RSS after - RSS before) / N.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { rssBytes } from '../proc.js';
import { HOST } from './audience.js';
import { connectAll, RawClient, Tally } from './raw-client.js';
import { statsClients, waitForClients } from './server-stats.js';
import { cpuReport, snapshot, windowBetween } from './window.js';
import type { IdleJob, IdleResult } from '../types.js';

export async function runIdle(job: IdleJob): Promise<IdleResult> {
  const { target } = job;
  await statsClients(HOST, target.port); // the HTTP side is warm before the baseline
  await sleep(job.settleMs);
  const rssBefore = rssBytes(target.serverPid);
  const tally = new Tally();
  let failed = 0;
  const a = snapshot(target.serverPid);
  const clients = await connectAll(job.connections, job.concurrency, async () => {
    const client = new RawClient(target.wire, tally);
    await client.connect(HOST, target.port, target.path, 30_000).catch(() => failed++);
    return client;
  });
  await waitForClients(HOST, target.port, job.connections - failed, 30_000, 5);
  const b = snapshot(target.serverPid);
  await sleep(job.settleMs);
  const rssAfter = rssBytes(target.serverPid);
  for (const c of clients) c.destroy();

  const w = windowBetween(a, b, target.clkTck);
  const ok = job.connections - failed;
  return {
    scenario: 'idle',
    connections: job.connections,
    failed,
    connectMs: w.ms,
    connectsPerSec: ok / (w.ms / 1000),
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssPerConnBytes: ok > 0 ? (rssAfter - rssBefore) / ok : 0,
    serverCpuMsPer1k: ok > 0 ? (w.serverCpuSeconds * 1000 * 1000) / ok : 0,
    cpu: cpuReport(w),
  };
}
