/**
 * How much one flooding client slows everyone else (`npm run bench -- flood`).
 *
 * The hub runs as the standalone server (a child process, pinned to core 0 when taskset
 * exists). This process holds the healthy clients: SUBSCRIBERS members of topic `bench` and one
 * publisher sending RATE messages/s to it, each stamped with performance.now(); every
 * subscriber records the latency of every message. A separate process (core 1) is the flooder:
 * it publishes to a topic nobody reads as fast as its socket takes, and reconnects whenever it
 * is closed. Scenarios: no flooder / flooder, with and without a rate limit. Each prints p50,
 * p99, max latency and the share of expected deliveries that arrived, plus the hub's counters.
 *
 * Scenarios run interleaved, `--rounds` times (the machine's other load drifts); every round is
 * printed, then the median of each column per scenario.
 *
 * Usage: npm run bench -- flood [--seconds 10] [--subscribers 50] [--rate 100] [--rounds 3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { hasTaskset, startServer, type Server } from './harness.js';
import { parseCli } from './cli.js';
import type { Peer } from './peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const RATE_LIMIT = ['--rate-messages', '1000', '--rate-messages-burst', '100'];
const children = new Set<ChildProcess>();
const servers = new Set<Server>();
// Interrupted: leave no hub or flooder behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    void Promise.all([...servers].map((s) => s.stop())).finally(() => process.exit(130));
  });
}

interface Scenario {
  readonly name: string;
  readonly flood: boolean;
  readonly hubArgs: readonly string[];
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'baseline, no limit', flood: false, hubArgs: [] },
  { name: 'flooder, no limit', flood: true, hubArgs: [] },
  { name: 'baseline, limit 1000/s', flood: false, hubArgs: RATE_LIMIT },
  { name: 'flooder, limit 1000/s', flood: true, hubArgs: RATE_LIMIT },
];

const open = (url: string): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

/** Sends a command with a ref and waits for its ack. */
const call = (ws: WebSocket, frame: object): Promise<void> =>
  new Promise((resolve, reject) => {
    const ref = Math.random().toString(36).slice(2);
    const onMessage = (data: Buffer): void => {
      const f = JSON.parse(data.toString()) as { type: string; ref?: string };
      if (f.ref !== ref) return;
      ws.off('message', onMessage);
      if (f.type === 'ack') resolve();
      else reject(new Error(data.toString()));
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ ...frame, ref }));
  });

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Result {
  readonly scenario: string;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly delivered: number;
  readonly expected: number;
  readonly hub: Record<string, number>;
}

async function runScenario(
  scenario: Scenario,
  seconds: number,
  subscribers: number,
  rate: number,
  pin: boolean,
): Promise<Result> {
  const peer = {
    id: 'actorhub',
    args: [
      'dist/src/server/cli.js',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'error',
      '--max-clients',
      '100000',
      ...scenario.hubArgs,
    ],
  } as unknown as Peer;
  const server: Server = await startServer(root, peer, pin ? 0 : undefined);
  servers.add(server);
  const url = `ws://127.0.0.1:${server.port}/ws`;
  let flooder: ChildProcess | undefined;
  const sockets: WebSocket[] = [];
  try {
    const latencies: number[] = [];
    let delivered = 0;
    for (let i = 0; i < subscribers; i++) {
      const ws = await open(url);
      sockets.push(ws);
      await call(ws, { type: 'subscribe', topic: 'bench' });
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        if (!text.startsWith('{"type":"message"')) return;
        const { data: body } = JSON.parse(text) as { data: { t: number } };
        latencies.push(performance.now() - body.t);
        delivered++;
      });
    }
    const publisher = await open(url);
    sockets.push(publisher);
    if (scenario.flood) {
      const args = [self, '--flooder', url];
      flooder = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...args] : args, {
        stdio: 'ignore',
      });
      children.add(flooder);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the flood reach full speed
    }
    // Publish RATE messages per second in 10 ms ticks, for `seconds`.
    let published = 0;
    const perTick = rate / 100;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.floor(((performance.now() - started) / 10) * perTick);
        while (published < due) {
          publisher.send(
            JSON.stringify({ type: 'publish', topic: 'bench', data: { t: performance.now(), s: published } }),
          );
          published++;
        }
        if (performance.now() - started >= seconds * 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const expected = published * subscribers;
    // Wait (bounded) for the stragglers.
    const deadline = performance.now() + 10_000;
    while (delivered < expected && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const stats = (await fetch(`http://127.0.0.1:${server.port}/stats`).then((r) => r.json())) as Record<
      string,
      number
    >;
    const sorted = Float64Array.from(latencies).sort();
    return {
      scenario: scenario.name,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      delivered,
      expected,
      hub: {
        messagesIn: stats.messagesIn ?? 0,
        rateLimited: stats.rateLimited ?? 0,
        rateLimitCloses: stats.rateLimitCloses ?? 0,
      },
    };
  } finally {
    flooder?.kill('SIGKILL');
    if (flooder) children.delete(flooder);
    for (const ws of sockets) ws.terminate();
    await server.stop();
    servers.delete(server);
  }
}

/**
 * The flooder process: publish to a topic nobody reads, as fast as TCP takes it; reconnect when
 * closed. Frames are masked once (zero key, valid per RFC 6455) and written in batches straight
 * to the socket, so the flooder spends its CPU on the hub, not on framing.
 */
function flood(url: string): void {
  const payload = Buffer.from(JSON.stringify({ type: 'publish', topic: 'flood', data: 'x'.repeat(64) }));
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame));
  const connectOnce = (): void => {
    const ws = new WebSocket(url);
    let closed = false;
    const pump = (): void => {
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      while (!closed && socket.writableLength < 1 << 20) socket.write(batch);
      if (!closed) socket.once('drain', pump);
    };
    ws.once('open', pump);
    ws.on('error', () => undefined);
    ws.once('close', () => {
      closed = true;
      setTimeout(connectOnce, 10);
    });
  };
  connectOnce();
}

async function main(): Promise<void> {
  const values = parseCli('npm run bench -- flood [options]', {
    flooder: { type: 'string' },
    seconds: { type: 'string', default: '10', describe: 'length of each scenario' },
    subscribers: { type: 'string', default: '50', describe: 'healthy members of the topic' },
    rate: { type: 'string', default: '100', describe: "the healthy publisher's messages per second" },
    rounds: { type: 'string', default: '3', describe: 'the scenarios are repeated this many times, interleaved' },
  });
  if (values.flooder) return flood(values.flooder);
  const seconds = Number(values.seconds);
  const subscribers = Number(values.subscribers);
  const rate = Number(values.rate);
  const rounds = Number(values.rounds);
  const pin = hasTaskset();
  process.stdout.write(
    `flood bench: ${subscribers} subscribers, 1 publisher at ${rate} msg/s, ${seconds} s per scenario, ` +
      `hub ${pin ? 'on core 0, clients and flooder on core 1' : 'unpinned (no taskset)'}, ${rounds} rounds, load average ${loadavg()[0]!.toFixed(1)}\n\n`,
  );
  const header =
    'scenario                   p50 ms   p99 ms   max ms   delivered             hub messagesIn  rateLimited  1008 closes\n';
  const line = (r: Result): string =>
    `${r.scenario.padEnd(24)} ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}  ${r.max.toFixed(1).padStart(7)}   ` +
    `${`${r.delivered}/${r.expected}`.padEnd(21)} ${String(r.hub.messagesIn).padStart(14)} ${String(r.hub.rateLimited).padStart(12)} ${String(r.hub.rateLimitCloses).padStart(12)}\n`;
  process.stdout.write(header);
  const all: Result[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of SCENARIOS) {
      const r = await runScenario(scenario, seconds, subscribers, rate, pin);
      all.push(r);
      process.stdout.write(`${String(round)} ${line(r)}`);
    }
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`\nmedian over ${rounds} rounds (load average now ${loadavg()[0]!.toFixed(1)})\n${header}`);
  for (const scenario of SCENARIOS) {
    const rs = all.filter((r) => r.scenario === scenario.name);
    const pick = (f: (r: Result) => number): number => median(rs.map(f));
    process.stdout.write(
      `  ${line({
        scenario: scenario.name,
        p50: pick((r) => r.p50),
        p99: pick((r) => r.p99),
        max: pick((r) => r.max),
        delivered: pick((r) => r.delivered),
        expected: pick((r) => r.expected),
        hub: {
          messagesIn: pick((r) => r.hub.messagesIn!),
          rateLimited: pick((r) => r.hub.rateLimited!),
          rateLimitCloses: pick((r) => r.hub.rateLimitCloses!),
        },
      })}`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`flood bench failed: ${String(error)}\n`);
  process.exit(1);
});
