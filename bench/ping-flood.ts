/**
 * What one peer that floods pings and never reads costs the server (`npm run bench -- ping-flood`,
 * docs/security.md#control-frames).
 *
 * The standalone server runs as a child process (core 0 when taskset exists). This process
 * holds a bystander (JSON protocol, one `ping` command every 50 ms, round trip timed) and the
 * flooder: a raw TCP socket that completes the handshake, stops reading, and writes 125-byte
 * ping frames as fast as TCP takes them for `--seconds`. The server's RSS is sampled every
 * 250 ms. Scenarios: the server's defaults, and `--rate-control-frames unlimited` (the writer's
 * bound alone). `--cli` points at another build (for example the one of an older commit) to
 * compare in the same run. Bounded: the flood stops after `--seconds` or once the server's RSS
 * passes `--max-rss-mib`, and every process is stopped.
 *
 * Usage: node dist/bench/ping-flood.js [--seconds 10] [--rounds 1] [--scenarios defaults,unlimited]
 *        [--cli dist/src/server/cli.js] [--label 'this build'] [--max-rss-mib 1536]
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { hasTaskset, startServer, type Server } from './harness.js';
import { parseCli } from './cli.js';
import { rssBytes } from './proc.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const values = parseCli('npm run bench -- ping-flood [options]', {
  seconds: { type: 'string', default: '10', describe: 'length of each flood' },
  rounds: { type: 'string', default: '1', describe: 'the scenarios are repeated this many times' },
  cli: { type: 'string', default: 'dist/src/server/cli.js', describe: 'the server to run (another build to compare)' },
  label: { type: 'string', default: 'this build', describe: 'its name in the output' },
  // An older build does not know --rate-control-frames: run it with --scenarios defaults.
  scenarios: { type: 'string', default: 'defaults,unlimited', describe: 'comma-separated: defaults, unlimited' },
  'max-rss-mib': { type: 'string', default: '1536', describe: "the flood stops once the server's RSS passes this" },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const MAX_RSS = Number(values['max-rss-mib']) * 1024 * 1024;

const servers = new Set<Server>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all([...servers].map((s) => s.stop())).finally(() => process.exit(130)));
}

/** A masked client ping frame with a 125-byte payload (the largest a control frame may carry). */
const PING = (() => {
  const mask = randomBytes(4);
  const payload = Buffer.alloc(125, 0x61);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
  return Buffer.concat([Buffer.from([0x89, 0x80 | 125]), mask, payload]);
})();
const BATCH = Buffer.concat(Array.from({ length: 500 }, () => PING));

/** Handshake on a bare socket, then stop reading: the server's pongs pile up wherever it keeps them. */
function connectFlooder(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    let head = '';
    socket.on('error', () => undefined); // a reset after the server cuts it off is an outcome, not a failure
    socket.once('error', reject);
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) return reject(new Error(head.split('\r\n')[0]));
      socket.pause();
      resolve(socket);
    });
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

interface Outcome {
  readonly scenario: string;
  readonly baseRssMiB: number;
  readonly peakRssMiB: number;
  readonly pingsMiB: number;
  readonly flooderCut: string;
  readonly p50: number;
  readonly p99: number;
  readonly answered: number;
}

async function run(scenario: string, extraArgs: readonly string[]): Promise<Outcome> {
  const args = [values.cli, '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent', ...extraArgs];
  const server = await startServer(root, { id: scenario, args }, hasTaskset() ? 0 : undefined);
  servers.add(server);
  try {
    const bystander = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve, reject) => (bystander.once('open', resolve), bystander.once('error', reject)));
    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    bystander.on('message', (data: Buffer) => {
      const ref = (JSON.parse(data.toString()) as { ref?: number }).ref;
      const t = ref === undefined ? undefined : sentAt.get(ref);
      if (t !== undefined) rtts.push(performance.now() - t);
    });
    await new Promise((resolve) => setTimeout(resolve, 500)); // settle after start-up
    const baseRss = rssBytes(server.pid);
    let peakRss = baseRss;
    const flooder = await connectFlooder(server.port);
    flooder.setMaxListeners(0); // the write loop below races a few one-shot listeners per wait
    let cut = 'still open';
    const t0 = performance.now();
    flooder.once('close', () => (cut = `closed by the server after ${((performance.now() - t0) / 1000).toFixed(1)} s`));
    let ref = 0;
    const probe = setInterval(() => {
      sentAt.set(++ref, performance.now());
      bystander.send(JSON.stringify({ type: 'ping', ref }));
    }, 50);
    const sample = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(server.pid))), 250);
    let written = 0;
    const deadline = t0 + SECONDS * 1000;
    while (performance.now() < deadline && !flooder.destroyed && peakRss < MAX_RSS) {
      written += BATCH.length;
      if (!flooder.write(BATCH))
        await Promise.race([
          new Promise((resolve) => flooder.once('drain', resolve)),
          new Promise((resolve) => flooder.once('close', resolve)),
          new Promise((resolve) => setTimeout(resolve, 250)), // re-check the deadline and the RSS
        ]);
    }
    if (peakRss >= MAX_RSS) cut = `stopped by this bench at ${values['max-rss-mib']} MiB`;
    clearInterval(probe);
    clearInterval(sample);
    peakRss = Math.max(peakRss, rssBytes(server.pid));
    flooder.destroy();
    bystander.terminate();
    const sorted = [...rtts].sort((a, b) => a - b);
    return {
      scenario,
      baseRssMiB: baseRss / 2 ** 20,
      peakRssMiB: peakRss / 2 ** 20,
      pingsMiB: written / 2 ** 20,
      flooderCut: cut,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      answered: rtts.length / Math.max(1, ref),
    };
  } finally {
    await server.stop();
    servers.delete(server);
  }
}

const ALL: Record<string, readonly [string, readonly string[]]> = {
  defaults: ['defaults', []],
  unlimited: ['--rate-control-frames unlimited', ['--rate-control-frames', 'unlimited']],
};
const SCENARIOS = values.scenarios.split(',').map((name) => {
  const s = ALL[name.trim()];
  if (!s) throw new Error(`unknown scenario ${name} (known: ${Object.keys(ALL).join(', ')})`);
  return s;
});

console.log(
  `ping flood, ${values.label} (${values.cli}), ${SECONDS} s per run, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  '| scenario | RSS before → peak (MiB) | pings written (MiB) | flooder | bystander RTT p50 / p99 (ms) | answered |',
);
console.log('|---|---|---|---|---|---|');
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, extra] of SCENARIOS) {
    const o = await run(name, extra);
    console.log(
      `| ${o.scenario} | ${o.baseRssMiB.toFixed(0)} → ${o.peakRssMiB.toFixed(0)} | ${o.pingsMiB.toFixed(0)} | ${o.flooderCut} | ${o.p50.toFixed(1)} / ${o.p99.toFixed(1)} | ${(o.answered * 100).toFixed(0)} % |`,
    );
  }
}
