/**
 * Issue 14: `npm run bench -- storm [--clients 5000]`. N actorhub/client SDK clients (this
 * process, Node's `ws`) are connected to the CLI hub (a child process) and subscribed, one topic
 * per 50 clients. Then the hub restarts: SIGTERM (every client gets 1001), and a new process on
 * the same port as soon as the old one has exited. Measured from the SIGTERM: when each client's
 * subscription is `subscribed` again, and what the new hub refused (`rejectedUpgrades` in its
 * /stats: 503 full, 429 per-IP, 408 slow handshake). The SDK's default backoff (full jitter,
 * 500 ms … 20 s) spreads them; a refused or failed attempt only doubles a client's window.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { createClient, type HubClient, type Subscription } from '../src/client/index.js';
import { getStats, HOST, softFdLimit, spawnCli, type CliProcess } from './reliability/common.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '5000' },
    'min-delay': { type: 'string', default: '500' },
    'max-delay': { type: 'string', default: '20000' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- storm [options]
  --clients N     SDK clients (default 5000; needs 2N + 200 open files)
  --min-delay MS  the clients' reconnect.minDelayMs (default 500, the SDK's default)
  --max-delay MS  the clients' reconnect.maxDelayMs (default 20000, the SDK's default)`);
  process.exit(0);
}
const N = Number(values.clients);
const reconnect = { minDelayMs: Number(values['min-delay']), maxDelayMs: Number(values['max-delay']) };
if (softFdLimit() < N + 200) throw new Error(`ulimit -n is ${softFdLimit()}: raise it to at least ${N + 200}`);

const pct = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (x: number): string => `${Math.round(x)} ms`;

function whenSubscribed(sub: Subscription): Promise<number> {
  return new Promise((resolve) => {
    if (sub.state === 'subscribed') return resolve(performance.now());
    const off = sub.on('state', (s) => s === 'subscribed' && (off(), resolve(performance.now())));
  });
}

async function main(): Promise<void> {
  let hub: CliProcess = await spawnCli([]);
  const port = hub.port;
  const url = `ws://${HOST}:${port}/ws`;
  console.log(`hub pid ${hub.pid} on ${port}; connecting ${N} SDK clients…`);
  const clients: HubClient[] = [];
  const opened: number[] = [];
  const subs: Subscription[] = [];
  // The first connection in batches (a cold start is not what is measured here).
  for (let i = 0; i < N; i += 250) {
    const batch: Promise<number>[] = [];
    for (let j = i; j < Math.min(N, i + 250); j++) {
      // Counts this client's sockets: every attempt opens one.
      const index = j;
      class Counted extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols);
          opened[index] = (opened[index] ?? 0) + 1;
        }
      }
      const c = createClient(url, { WebSocket: Counted, reconnect, pingIntervalMs: 0 });
      clients.push(c);
      const sub = c.subscribe(`storm:${j % Math.ceil(N / 50)}`, () => {});
      subs.push(sub);
      batch.push(whenSubscribed(sub));
    }
    await Promise.all(batch);
  }
  const before = await getStats(port);
  console.log(`${before.clients} clients connected and subscribed; restarting the hub (SIGTERM, then a new process)`);

  const openedBefore = [...opened];
  const back = subs.map((sub) =>
    new Promise<void>((resolve) => {
      const off = sub.on('state', (s) => s === 'subscribing' && (off(), resolve()));
    }).then(() => whenSubscribed(sub)),
  );
  const t0 = performance.now();
  hub.child.kill('SIGTERM');
  const exit = await hub.exited;
  const exitedAfter = exit.at - t0;
  hub = await spawnCli(['--port', String(port)]);
  const listeningAfter = performance.now() - t0;
  const times = (await Promise.all(back)).map((t) => t - t0).sort((a, b) => a - b);
  const after = await getStats(port);
  // Sockets opened since the restart, less the one that succeeded: attempts that met no hub.
  const attempts = clients.map((_, i) => opened[i]! - openedBefore[i]! - 1);
  const failedAttempts = attempts.reduce((a, b) => a + b, 0);

  console.log('');
  console.log(
    `reconnect storm: ${N} SDK clients, backoff ${reconnect.minDelayMs}…${reconnect.maxDelayMs} ms (full jitter)`,
  );
  console.log(`  old hub exited after           ${ms(exitedAfter)} (SIGTERM → exit ${exit.code})`);
  console.log(`  new hub listening after        ${ms(listeningAfter)}`);
  console.log(`  resubscribed: first            ${ms(times[0]!)}`);
  console.log(`                p50              ${ms(pct(times, 50))}`);
  console.log(`                p90              ${ms(pct(times, 90))}`);
  console.log(`                p99              ${ms(pct(times, 99))}`);
  console.log(`                all (${times.length})       ${ms(times.at(-1)!)}`);
  console.log(`  clients on the new hub         ${after.clients}`);
  console.log(
    `  refused by the new hub         ${String(after.rejectedUpgrades)} ${JSON.stringify(after.rejectedByStatus)}`,
  );
  console.log(
    `  failed attempts                ${failedAttempts} (clients with ≥1: ${attempts.filter((a) => a > 0).length})`,
  );
  for (const c of clients) c.close();
  hub.child.kill('SIGTERM');
  await hub.exited;
}

await main();
