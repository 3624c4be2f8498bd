/**
 * docs/performance.md#reconnect-storm-client-sdk: `npm run bench -- storm [--clients 5000] [--workers 4]`. N actorhub/client SDK clients
 * (Node's `ws`), spread over W worker processes (this script, started again with `--worker`), are
 * connected to the CLI hub (a child process) and subscribed, one topic per 50 clients. Then the
 * hub restarts: SIGTERM (every client gets 1001), and a new process on the same port as soon as
 * the old one has exited. Measured from the SIGTERM, on one clock (each process's
 * `performance.timeOrigin + performance.now()`): when each client saw the 1001, every attempt it
 * made, when its subscription is `subscribed` again, what the new hub refused (`rejectedUpgrades`
 * in its /stats: 503 full, 429 per-IP, 408 slow handshake), and how late each worker's event loop
 * ran (a saturated load generator makes attempts late: that is the generator, not the backoff).
 *
 * The check, the issue's: every client back and resubscribed, none refused by the new hub, and
 * all of them resubscribed within the backoff window (`maxDelayMs`) of the new hub listening. A
 * client's next attempt comes at most one window after its previous one (full jitter, 500 ms …
 * 20 s), so a client still out after that was held back by something else. Exit code 1 on a fail.
 *
 * Why workers: with all 5,000 clients (5,000 XState actors and sockets) in one process on a
 * shared 2-core machine, that process's event loop lagged by seconds, so its backoff timers fired
 * late and the first resubscription came 19 s after the new hub listened (docs/performance.md).
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createClient, type HubClient, type Subscription } from '../src/client/index.js';
import { clockTicks } from './harness.js';
import { cpuTicks } from './proc.js';
import { getStats, HOST, softFdLimit, spawnCli, type CliProcess } from './reliability/common.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '5000' },
    workers: { type: 'string', default: '4' },
    'min-delay': { type: 'string', default: '500' },
    'max-delay': { type: 'string', default: '20000' },
    out: { type: 'string' },
    worker: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- storm [options]
  --clients N     SDK clients (default 5000; the hub needs N + 200 open files, each worker N/W + 100)
  --workers W     processes the clients are spread over (default 4; 1 = all in one event loop)
  --min-delay MS  the clients' reconnect.minDelayMs (default 500, the SDK's default)
  --max-delay MS  the clients' reconnect.maxDelayMs (default 20000, the SDK's default)
  --out FILE      also write the raw figures (summary and per-client times) as JSON`);
  process.exit(0);
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const now = (): number => performance.timeOrigin + performance.now();
const BATCH = 250;

/** Parent → worker. */
type Order =
  | {
      readonly type: 'start';
      readonly url: string;
      readonly first: number;
      readonly count: number;
      readonly topics: number;
    }
  | { readonly type: 'close' };

/**
 * What one client saw of the restart (wall-clock ms): the 1001, each socket it opened after it,
 * when the last of them opened (the hub accepted the upgrade), resubscribed.
 */
interface ClientTimes {
  readonly lost: number;
  readonly attempts: readonly number[];
  readonly open: number;
  readonly back: number;
}

/** Worker → parent. */
type Report =
  | { readonly type: 'ready' }
  | {
      readonly type: 'done';
      readonly clients: readonly ClientTimes[];
      /** This worker's event-loop delay from the SIGTERM to the last client back (ms). */
      readonly lagP99: number;
      readonly lagMax: number;
    };

const reconnect = { minDelayMs: Number(values['min-delay']), maxDelayMs: Number(values['max-delay']) };

function whenSubscribed(sub: Subscription): Promise<number> {
  return new Promise((resolve) => {
    if (sub.state === 'subscribed') return resolve(now());
    const off = sub.on('state', (s) => s === 'subscribed' && (off(), resolve(now())));
  });
}

/** A worker: `count` clients, connected in batches, then timed through the restart. */
async function worker(): Promise<void> {
  const send = (r: Report): void => void process.send!(r);
  const order = await new Promise<Extract<Order, { type: 'start' }>>((resolve) =>
    process.once('message', (m: Order) => m.type === 'start' && resolve(m)),
  );
  const clients: HubClient[] = [];
  const subs: Subscription[] = [];
  /** Socket openings per client, wall-clock: every attempt opens one. */
  const opened: number[][] = [];
  /** When each client's latest socket opened. */
  const openAt: number[] = [];
  for (let i = 0; i < order.count; i += BATCH) {
    const batch: Promise<number>[] = [];
    for (let j = i; j < Math.min(order.count, i + BATCH); j++) {
      const times: number[] = [];
      opened.push(times);
      const index = j;
      class Counted extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols);
          times.push(now());
          this.once('open', () => (openAt[index] = now()));
        }
      }
      const c = createClient(order.url, { WebSocket: Counted, reconnect, pingIntervalMs: 0 });
      clients.push(c);
      const sub = c.subscribe(`storm:${(order.first + j) % order.topics}`, () => {});
      subs.push(sub);
      batch.push(whenSubscribed(sub));
    }
    await Promise.all(batch);
  }
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let lagging = false;
  const times = subs.map((sub, i) =>
    new Promise<number>((resolve) => {
      const off = sub.on('state', (s) => s === 'subscribing' && (off(), resolve(now())));
    }).then(async (lost) => {
      if (!lagging) {
        lagging = true; // from the first 1001 this process sees
        lag.enable();
      }
      const attemptsBefore = opened[i]!.filter((t) => t < lost).length;
      const back = await whenSubscribed(sub);
      return { lost, attempts: opened[i]!.slice(attemptsBefore), open: openAt[i]!, back };
    }),
  );
  send({ type: 'ready' });
  const clientsTimes = await Promise.all(times);
  lag.disable();
  send({ type: 'done', clients: clientsTimes, lagP99: lag.percentile(99) / 1e6, lagMax: lag.max / 1e6 });
  await new Promise<void>((resolve) => process.once('message', (m: Order) => m.type === 'close' && resolve()));
  for (const c of clients) c.close();
  process.disconnect();
}

const pct = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (x: number): string => `${Math.round(x)} ms`;
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const spread = (xs: readonly number[]): string => {
  const s = sorted(xs);
  return `first ${ms(s[0]!)}, p50 ${ms(pct(s, 50))}, p99 ${ms(pct(s, 99))}, last ${ms(s.at(-1)!)}`;
};

async function main(): Promise<void> {
  const N = Number(values.clients);
  const W = Math.max(1, Math.min(N, Number(values.workers)));
  if (softFdLimit() < N + 200) throw new Error(`ulimit -n is ${softFdLimit()}: raise it to at least ${N + 200}`);
  const topics = Math.ceil(N / 50);
  let hub: CliProcess = await spawnCli([]);
  const port = hub.port;
  const url = `ws://${HOST}:${port}/ws`;
  console.log(`hub pid ${hub.pid} on ${port}; connecting ${N} SDK clients in ${W} worker processes…`);
  const self = fileURLToPath(import.meta.url);
  const workers = Array.from({ length: W }, (_, w) => {
    const first = Math.floor((w * N) / W);
    const count = Math.floor(((w + 1) * N) / W) - first;
    const child = fork(self, ['--worker', '--min-delay', values['min-delay'], '--max-delay', values['max-delay']], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const reports: Report[] = [];
    const waiters: (() => void)[] = [];
    child.on('message', (r: Report) => {
      reports.push(r);
      for (const f of waiters.splice(0)) f();
    });
    const next = <T extends Report['type']>(type: T): Promise<Extract<Report, { type: T }>> =>
      new Promise((resolve, reject) => {
        const look = (): void => {
          const r = reports.find((x) => x.type === type);
          if (r) resolve(r as Extract<Report, { type: T }>);
          else waiters.push(look);
        };
        child.once('exit', (code) => reject(new Error(`worker ${w} exited (${code}) before '${type}'`)));
        look();
      });
    child.send({ type: 'start', url, first, count, topics } satisfies Order);
    return { child, next };
  });
  // One worker after the other would be gentler, but they connect in batches of 250 anyway.
  await Promise.all(workers.map((w) => w.next('ready')));
  const before = await getStats(port);
  console.log(`${before.clients} clients connected and subscribed; restarting the hub (SIGTERM, then a new process)`);

  const t0 = now();
  const t0Local = performance.now();
  hub.child.kill('SIGTERM');
  const exit = await hub.exited;
  const exitedAfter = exit.at - t0Local;
  const workerTicks0 = workers.reduce((n, w) => n + cpuTicks(w.child.pid!), 0);
  hub = await spawnCli(['--port', String(port)]);
  const listening = now() - t0;
  const hubTicks0 = cpuTicks(hub.pid);
  // The new hub's responsiveness during the storm: GET /stats from this (otherwise idle) process.
  const statsRtt: number[] = [];
  let storming = true;
  const probe = (async () => {
    while (storming) {
      const sent = performance.now();
      await getStats(port).catch(() => undefined);
      statsRtt.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const done = await Promise.all(workers.map((w) => w.next('done')));
  const stormEnd = now() - t0;
  const hubCpu = (cpuTicks(hub.pid) - hubTicks0) / clockTicks() / ((stormEnd - listening) / 1000);
  const workersCpu =
    (workers.reduce((n, w) => n + cpuTicks(w.child.pid!), 0) - workerTicks0) / clockTicks() / (stormEnd / 1000);
  storming = false;
  await probe;
  const after = await getStats(port);
  for (const w of workers) w.child.send({ type: 'close' } satisfies Order);
  await Promise.all(workers.map((w) => new Promise((resolve) => w.child.once('exit', resolve))));
  hub.child.kill('SIGTERM');
  await hub.exited;

  const clients = done.flatMap((d) => d.clients);
  const rel = (t: number): number => t - t0;
  const lost = clients.map((c) => rel(c.lost));
  const back = sorted(clients.map((c) => rel(c.back)));
  const attemptsAll = clients.flatMap((c) => c.attempts.map(rel));
  // Each client's successful attempt is its last; the ones before met no hub, or a refusing one.
  const failed = clients.reduce((s, c) => s + c.attempts.length - 1, 0);
  const duringOutage = attemptsAll.filter((t) => t < listening).length;
  // The backoff at work once the hub is back: how long after listening each client tried.
  const firstAfterListening = clients.map((c) => {
    const t = c.attempts.map(rel).find((a) => a >= listening);
    return t === undefined ? NaN : t - listening;
  });
  // The handshake and the subscribe: from the attempt that succeeded to subscribed.
  const lastAttemptToOpen = clients.map((c) => c.open - c.attempts.at(-1)!);
  const openToBack = clients.map((c) => c.back - c.open);
  const refused = Number(after.rejectedUpgrades ?? 0);
  const allAfterListening = back.at(-1)! - listening;
  const checks = [
    { what: `every client back and resubscribed (${back.length}/${N})`, ok: back.length === N && after.clients === N },
    { what: `none refused by the new hub (${refused})`, ok: refused === 0 },
    {
      what: `all resubscribed within the backoff window of the new hub listening (${ms(allAfterListening)} ≤ ${ms(reconnect.maxDelayMs)})`,
      ok: allAfterListening <= reconnect.maxDelayMs,
    },
  ];
  const lagMax = Math.max(...done.map((d) => d.lagMax));
  const lagP99 = Math.max(...done.map((d) => d.lagP99));

  console.log('');
  console.log(
    `reconnect storm: ${N} SDK clients in ${W} processes, backoff ${reconnect.minDelayMs}…${reconnect.maxDelayMs} ms (full jitter)`,
  );
  console.log(`  old hub exited after           ${ms(exitedAfter)} (SIGTERM → exit ${exit.code})`);
  console.log(`  new hub listening after        ${ms(listening)}`);
  console.log(`  1001 seen by the clients       ${spread(lost)}`);
  console.log(
    `  attempts                       ${attemptsAll.length} (${failed} failed; ${duringOutage} before the new hub listened)`,
  );
  console.log(
    `  first attempt after listening  ${spread(firstAfterListening.filter((x) => !Number.isNaN(x)))} (after listening)`,
  );
  console.log(`  that attempt → socket open     ${spread(lastAttemptToOpen)} (the upgrade)`);
  console.log(`  open → resubscribed            ${spread(openToBack)} (welcome, subscribe, ack)`);
  console.log(`  resubscribed: first            ${ms(back[0]!)} (${ms(back[0]! - listening)} after listening)`);
  console.log(`                p50              ${ms(pct(back, 50))}`);
  console.log(`                p90              ${ms(pct(back, 90))}`);
  console.log(`                p99              ${ms(pct(back, 99))}`);
  console.log(
    `                all (${back.length})       ${ms(back.at(-1)!)} (${ms(allAfterListening)} after listening)`,
  );
  console.log(`  clients on the new hub         ${after.clients}`);
  console.log(`  refused by the new hub         ${refused} ${JSON.stringify(after.rejectedByStatus)}`);
  console.log(`  generator event-loop delay     p99 ${ms(lagP99)}, max ${ms(lagMax)} (worst worker)`);
  console.log(`  generator CPU                  ${workersCpu.toFixed(2)} cores (SIGTERM → all back, ${W} processes)`);
  console.log(`  new hub CPU                    ${hubCpu.toFixed(2)} cores (listening → all back)`);
  console.log(`  new hub GET /stats round trip  ${spread(statsRtt)} (every 250 ms during the storm)`);
  for (const c of checks) console.log(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.what}`);

  if (values.out) {
    const r = (x: number): number => Math.round(x);
    writeFileSync(
      values.out,
      JSON.stringify({
        date: new Date(t0).toISOString(),
        node: process.version,
        clients: N,
        workers: W,
        reconnect,
        exitedAfterMs: r(exitedAfter),
        listeningAfterMs: r(listening),
        refused,
        rejectedByStatus: after.rejectedByStatus,
        lagP99Ms: r(lagP99),
        lagMaxMs: r(lagMax),
        generatorCpuCores: Number(workersCpu.toFixed(2)),
        hubCpuCores: Number(hubCpu.toFixed(2)),
        statsRoundTripMs: statsRtt.map(r),
        checks,
        // Per client (one column each, client i at index i), ms after the SIGTERM: the 1001, each
        // socket opened, when the last one opened, resubscribed. One line: 5,000 clients.
        perClient: {
          lost: clients.map((c) => r(rel(c.lost))),
          attempts: clients.map((c) => c.attempts.map((a) => r(rel(a)))),
          open: clients.map((c) => r(rel(c.open))),
          back: clients.map((c) => r(rel(c.back))),
        },
      }) + '\n',
    );
    console.log(`  raw figures                    ${values.out}`);
  }
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

if (values.worker) await worker();
else await main();
