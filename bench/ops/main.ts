/**
 * Hub operations in-process, a process of its own per size (so one size's heap does not
 * carry into the next): node --expose-gc dist/bench/ops/main.js '<OpsJob as JSON>'.
 * Fills the hub with N clients, then times batches of REGISTER and UNREGISTER at that size,
 * repeated BROADCASTs to all N, and finally the shutdown. Prints "RESULT <json>".
 */
import { toPromise } from 'xstate';
import { fakeHub } from './fake-hub.js';
import type { OpsResult } from '../types.js';

export interface OpsJob {
  readonly clients: number;
  /** Clients of a throwaway hub run first, so that every size is measured with warm (JIT-compiled) code. */
  readonly warmupClients: number;
  readonly batches: number;
  readonly batchSize: number;
  readonly broadcasts: number;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const summary = (values: readonly number[]) => {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  const mean = v.reduce((sum, x) => sum + x, 0) / v.length;
  return { median: v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2, min: v[0]!, max: v[v.length - 1]!, mean };
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Every operation measured below, on a hub of its own: the same warm-up whatever N is. */
async function warmUp(clients: number): Promise<void> {
  const hub = fakeHub(clients);
  for (let i = 0; i < clients; i++) hub.register(`w${i}`);
  for (let i = 0; i < clients / 2; i++) hub.actor.send({ type: 'hub.unregister', id: `w${i}` });
  await nextTurn();
  for (let i = 0; i < clients / 2; i++) hub.register(`v${i}`);
  for (let k = 0; k < 5; k++) hub.actor.send({ type: 'hub.broadcast', data: 'x'.repeat(64) });
  hub.actor.send({ type: 'hub.shutdown' });
  await toPromise(hub.actor);
}

async function run(job: OpsJob): Promise<OpsResult> {
  await warmUp(job.warmupClients);
  gc();
  const n = job.clients;
  const hub = fakeHub(n + job.batchSize + 10);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const fillStart = performance.now();
  for (let i = 0; i < n; i++) hub.register(`c${i}`);
  const fillMs = performance.now() - fillStart;
  check(hub.count() === n, `filled ${hub.count()} clients, expected ${n}`);

  // REGISTER then UNREGISTER a batch of extra clients at size N, back to back: the mean over
  // all batches includes the garbage collection they cause, as a live hub would pay it. (A forced
  // full GC before each batch, as this did before, charged the next batch for V8 sweeping the
  // whole old generation afterwards: ~3× at 50k clients, a cost no live hub pays per register.)
  gc();
  const register: number[] = [];
  const unregister: number[] = [];
  for (let b = 0; b < job.batches; b++) {
    let t = performance.now();
    for (let i = 0; i < job.batchSize; i++) hub.register(`x${b}-${i}`);
    register.push(((performance.now() - t) * 1000) / job.batchSize);
    check(hub.count() === n + job.batchSize, `after a register batch: ${hub.count()} clients`);
    t = performance.now();
    for (let i = 0; i < job.batchSize; i++) hub.actor.send({ type: 'hub.unregister', id: `x${b}-${i}` });
    unregister.push(((performance.now() - t) * 1000) / job.batchSize);
    check(hub.count() === n, `after an unregister batch: ${hub.count()} clients`);
    // A turn of the event loop, as a live hub has between batches: the departure queue hands
    // over the unregistered clients' own departures (no-ops by now) and lets go of them.
    await nextTurn();
  }

  // BROADCAST to all N: the loop over the registry, one writer event per recipient. Back to
  // back, like the batches above: a forced GC before each made it 100–1200 ns/recipient at
  // random, the sweeping again (without: ~150 at 1k, ~60 at 50k).
  const broadcast: number[] = [];
  for (let k = 0; k < job.broadcasts; k++) {
    const before = hub.received();
    const t = performance.now();
    hub.actor.send({ type: 'hub.broadcast', data: 'x'.repeat(64) });
    broadcast.push(((performance.now() - t) * 1e6) / n);
    check(hub.received() - before === n, `a broadcast reached ${hub.received() - before} of ${n} writers`);
  }

  const heapUsedBytes = process.memoryUsage().heapUsed;
  gc();
  const t = performance.now();
  const shutdownCpu0 = process.cpuUsage();
  hub.actor.send({ type: 'hub.shutdown' });
  await toPromise(hub.actor);
  const shutdownMs = performance.now() - t;
  const shutdownCpu = process.cpuUsage(shutdownCpu0);
  check(
    hub.actor.getSnapshot().value === 'stopped' && hub.count() === 0,
    `after shutdown: ${hub.count()} clients, state ${String(hub.actor.getSnapshot().value)}`,
  );

  const cpu = process.cpuUsage(cpu0);
  return {
    scenario: 'ops',
    cpuShare: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0),
    clients: n,
    registerUs: summary(register),
    unregisterUs: summary(unregister),
    broadcastNs: summary(broadcast),
    shutdownMs,
    shutdownCpuMs: (shutdownCpu.user + shutdownCpu.system) / 1000,
    fillUsPerClient: (fillMs * 1000) / n,
    heapUsedBytes,
    batches: job.batches,
    batchSize: job.batchSize,
  };
}

const finish = (body: unknown, code: number): void => {
  process.stdout.write(`RESULT ${JSON.stringify(body)}\n`, () => process.exit(code));
};

run(JSON.parse(process.argv[2] ?? '') as OpsJob).then(
  (result) => finish(result, 0),
  (error: unknown) => finish({ error: error instanceof Error ? error.message : String(error) }, 1),
);
