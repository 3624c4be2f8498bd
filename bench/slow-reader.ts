/**
 * docs/reliability.md item 1: `npm run bench -- slow-reader [--quick]`. One client stops reading (a raw
 * socket that does the handshake and then never reads again: its TCP window fills) while N
 * healthy clients receive a broadcast stream at a fixed rate. The hub runs as a child process
 * through the CLI (relay protocol). Three runs, each with a fresh hub: no slow reader
 * (baseline), a slow reader under `--overflow close`, and one under `--overflow drop-oldest`.
 * Printed per run: server RSS (max, and its growth over the second half of the run), the
 * largest outbound queue the hub held (/stats), the slow reader's fate, the healthy clients'
 * latency percentiles (10 checker clients) and their ping and message counts.
 */
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { Checker, percentiles } from './load/checker.js';
import { makePayload } from './load/payload.js';
import { connectAll, RawClient, Tally } from './load/raw-client.js';
import { until, waitForClients } from './load/server-stats.js';
import { getStats, HOST, mib, printTable, sampleRss, startHubProcess } from './reliability/common.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    payload: { type: 'string' },
    'max-queue-bytes': { type: 'string', default: String(1024 * 1024) },
    rounds: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- slow-reader [options]
  --quick              200 clients, 8 s per run (default: 1000 clients, 30 s)
  --clients N          healthy clients
  --seconds S          length of each run's stream (after a 2 s warm-up)
  --rate R             broadcasts per second (default 10; --quick 20)
  --payload B          bytes per message (default 32768; --quick 65536): the kernel holds ~4 MiB
                       for a paused loopback socket before the hub's queue fills, so the stream
                       must carry well over that to each client
  --max-queue-bytes B  the hub's per-client outbound queue (default 1 MiB)
  --rounds R           the three runs are repeated R times, interleaved (default 3; --quick 1)`);
  process.exit(0);
}
const quick = values.quick;
const N = Number(values.clients ?? (quick ? 200 : 1000));
const SECONDS = Number(values.seconds ?? (quick ? 8 : 30));
const RATE = Number(values.rate ?? (quick ? 20 : 10));
const PAYLOAD = Number(values.payload ?? (quick ? 65536 : 32768));
const MAX_QUEUE_BYTES = Number(values['max-queue-bytes']);
const HIGH_WATER = 64 * 1024; // the hub's default writeHighWaterBytes
const ROUNDS = Number(values.rounds ?? (quick ? 1 : 3));
const CHECKERS = 10;
const WARMUP_MS = 2_000;
const PING_MS = 1_000;

/** A client that completes the upgrade, then never reads again: the kernel's buffers fill, then the hub's. */
function slowReader(port: number): Promise<{ socket: net.Socket; closedByPeer: () => boolean }> {
  return new Promise((resolve, reject) => {
    let head = '';
    let closed = false;
    const socket = net.connect(port, HOST, () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      resolve({ socket, closedByPeer: () => closed });
    };
    socket.on('data', onData);
  });
}

interface Healthy {
  checker?: Checker;
  pings: () => number;
  count: () => number;
  destroy(): void;
}

function openChecker(port: number, tally: Tally): Promise<Healthy> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/ws`, { perMessageDeflate: false });
    const checker = new Checker(PAYLOAD);
    let pings = 0;
    ws.on('ping', () => pings++);
    ws.on('message', (data) => {
      checker.onText(data.toString(), performance.now());
      tally.add();
    });
    ws.once('open', () =>
      resolve({ checker, pings: () => pings, count: () => checker.received, destroy: () => ws.terminate() }),
    );
    ws.once('error', reject);
  });
}

interface RunResult {
  label: string;
  rssMax: number;
  rssMid: number;
  rssEnd: number;
  queuePeakBytes: number;
  dropped: number;
  slowCloses: number;
  slowFate: string;
  p50: number;
  p99: number;
  p999: number;
  pingsPerHealthy: number;
  lost: number;
  outOfOrder: number;
  sent: number;
}

async function run(label: string, withSlow: boolean, policy: 'close' | 'drop-oldest'): Promise<RunResult> {
  const server = await startHubProcess([
    '--protocol',
    'relay',
    '--overflow',
    policy,
    '--max-queue-bytes',
    String(MAX_QUEUE_BYTES),
    '--max-queue-messages',
    '100000', // bound by bytes only, so the figure reads against one number
    '--ping-interval',
    String(PING_MS),
    '--pong-wait',
    String((SECONDS + 60) * 1000), // the paused reader must meet its overflow policy, not the heartbeat
    '--max-payload',
    String(Math.max(65536, PAYLOAD * 2)),
  ]);
  try {
    const tally = new Tally();
    const publisher = await new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://${HOST}:${server.port}/ws`, { perMessageDeflate: false });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    // The slow reader registers first: every broadcast reaches it before the healthy ones.
    const slow = withSlow ? await slowReader(server.port) : undefined;
    const every = Math.floor(N / CHECKERS);
    const healthy = await connectAll(N, 50, async (i): Promise<Healthy> => {
      if (i % every === 0 && i / every < CHECKERS) return openChecker(server.port, tally);
      const raw = new RawClient('ws', tally);
      await raw.connect(HOST, server.port, '/ws', 30_000);
      return { pings: () => 0, count: () => raw.count, destroy: () => raw.destroy() };
    });
    await waitForClients(HOST, server.port, N + 1 + (slow ? 1 : 0), 30_000);
    const checkers = healthy.flatMap((h) => (h.checker ? [h.checker] : []));
    const pingsBefore = healthy.map((h) => h.pings());

    const rss = sampleRss(server.pid, 250);
    const interval = 1000 / RATE;
    const warm = Math.round(WARMUP_MS / interval);
    const total = warm + Math.round((SECONDS * 1000) / interval);
    for (const c of checkers) {
      c.recordFrom = warm;
      c.recordTo = total;
    }
    const t0 = performance.now();
    for (let k = 0; k < total; k++) {
      const wait = t0 + k * interval - performance.now();
      if (wait > 0) await sleep(wait);
      publisher.send(makePayload(k, PAYLOAD, performance.now()));
    }
    await until(() => tally.total >= total * N, 30_000);
    rss.stop();
    const elapsed = (performance.now() - t0) / 1000;
    const stats = await getStats(server.port);

    let lost = 0;
    for (const h of healthy) lost += Math.max(0, total - h.count());
    const checkerPings = healthy.flatMap((h, i) => (h.checker ? [h.pings() - pingsBefore[i]!] : []));
    const lat = percentiles(checkers.map((c) => c.histogram));
    const inRun = rss.samples.filter((s) => s.t >= WARMUP_MS);
    const mid = inRun.filter((s) => s.t <= WARMUP_MS + (SECONDS * 1000) / 2).at(-1) ?? inRun[0]!;
    const slowFate = !slow
      ? '—'
      : Number(stats.slowConsumerCloses) > 0
        ? 'closed (4008)'
        : slow.closedByPeer()
          ? 'closed (other)'
          : `kept, ${stats.dropped} dropped`;
    for (const h of healthy) h.destroy();
    publisher.terminate();
    slow?.socket.destroy();
    return {
      label,
      rssMax: Math.max(...inRun.map((s) => s.rss)),
      rssMid: mid.rss,
      rssEnd: inRun.at(-1)!.rss,
      queuePeakBytes: Number(stats.queuePeakBytes ?? 0),
      dropped: Number(stats.dropped ?? 0),
      slowCloses: Number(stats.slowConsumerCloses ?? 0),
      slowFate,
      p50: lat.p50,
      p99: lat.p99,
      p999: lat.p999,
      pingsPerHealthy: checkerPings.reduce((s, p) => s + p, 0) / Math.max(1, checkerPings.length) / elapsed,
      lost,
      outOfOrder: checkers.reduce((s, c) => s + c.outOfOrder + c.duplicates + c.corrupt, 0),
      sent: total,
    };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const limit = MAX_QUEUE_BYTES + HIGH_WATER + PAYLOAD;
  console.log(
    `slow reader: ${N} healthy clients, ${RATE} msg/s × ${PAYLOAD} B for ${SECONDS} s (+${WARMUP_MS / 1000} s warm-up), ` +
      `${mib(RATE * PAYLOAD * SECONDS)} per client over the run; per-client limit ${mib(limit)} (queue ${mib(MAX_QUEUE_BYTES)} + socket high-water ${mib(HIGH_WATER)} + one frame)`,
  );
  const configs = [
    ['no slow reader', false, 'close'],
    ['slow reader, --overflow close', true, 'close'],
    ['slow reader, --overflow drop-oldest', true, 'drop-oldest'],
  ] as const;
  const results: (RunResult & { round: number })[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [label, slow, policy] of configs) results.push({ ...(await run(label, slow, policy)), round });
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const baseOf = (round: number) => results.find((r) => r.round === round && r.label === configs[0][0])!;
  printTable([
    [
      'run',
      'round',
      'RSS max',
      'RSS mid→end',
      'vs baseline max',
      'queue peak',
      'slow reader',
      'p50 ms',
      'p99 ms',
      'p99 vs base',
      'pings/s/healthy',
      'lost',
      'disorder',
    ],
    ...results.map((r) => {
      const base = baseOf(r.round);
      return [
        r.label,
        r.round,
        mib(r.rssMax),
        `${mib(r.rssMid)}→${mib(r.rssEnd)}`,
        `${r.rssMax >= base.rssMax ? '+' : ''}${mib(r.rssMax - base.rssMax)}`,
        mib(r.queuePeakBytes),
        r.slowFate,
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        `${(r.p99 / base.p99).toFixed(2)}×`,
        r.pingsPerHealthy.toFixed(2),
        r.lost,
        r.outOfOrder,
      ];
    }),
  ]);
  const medianP99 = (label: string): number => median(results.filter((r) => r.label === label).map((r) => r.p99));
  const baseP99 = medianP99(configs[0][0]);
  console.log('');
  for (const [label] of configs.slice(1)) {
    const rssOver = median(results.filter((r) => r.label === label).map((r) => r.rssMax - baseOf(r.round).rssMax));
    console.log(
      `${label}: median p99 ${medianP99(label).toFixed(2)} ms = ${(medianP99(label) / baseP99).toFixed(2)}× the baseline's ${baseP99.toFixed(2)} ms (target ≤ 1.2×); median RSS max over the baseline ${mib(rssOver)}`,
    );
  }
  const bounded = results.every((r) => r.queuePeakBytes <= MAX_QUEUE_BYTES);
  console.log(
    `queue peak ≤ ${mib(MAX_QUEUE_BYTES)} in every run: ${bounded ? 'yes' : 'NO'}; healthy clients lost ${results.reduce((s, r) => s + r.lost, 0)} messages, ${results.reduce((s, r) => s + r.outOfOrder, 0)} out of order`,
  );
  console.log(
    `load average during the script: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (1/5/15 min; the machine has ${cpus().length} cores)`,
  );
  console.log(`RESULT ${JSON.stringify({ N, RATE, PAYLOAD, SECONDS, MAX_QUEUE_BYTES, results })}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
