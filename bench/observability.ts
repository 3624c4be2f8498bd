/**
 * What observability costs: the fan-out timer per dispatch (vs prom-client's own observe),
 * and a /metrics scrape with N connected clients. Real ws clients over loopback, in-process.
 * Usage: npm run bench -- observability [--clients 1000]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Histogram, Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { createHub } from '../src/hub.js';
import { TimeHistogram } from '../src/observability/metrics/fanout.js';
import { parseCli } from './cli.js';

const values = parseCli('npm run bench -- observability [options]', {
  clients: { type: 'string', default: '1000', describe: 'connected clients during the /metrics scrape' },
});
const clients = Number(values.clients);
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function perOp(label: string, n: number, f: (i: number) => void): void {
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  console.log(`${label.padEnd(52)} median ${median(rounds).toFixed(0)} ns/op (5 rounds of ${n})`);
}

const plain = new TimeHistogram();
const prom = new Histogram({ name: 'x', help: 'x', buckets: [...plain.bounds], registers: [new Registry()] });
perOp('TimeHistogram.observe + 2 × performance.now()', 1_000_000, () => {
  const t = performance.now();
  plain.observe((performance.now() - t) / 1000);
});
perOp('prom-client Histogram.observe + 2 × performance.now()', 1_000_000, () => {
  const t = performance.now();
  prom.observe((performance.now() - t) / 1000);
});

const hub = createHub({ protocol: 'relay', logger: quiet, maxClients: clients + 10 });
const server = http.createServer();
hub.attach(server);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;

const sockets: WebSocket[] = [];
let received = 0;
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(url);
  ws.on('message', () => received++);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  sockets.push(ws);
}

const scrapes: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  await hub.metrics.metrics();
  scrapes.push(performance.now() - t);
}
console.log(`scrape (hub.metrics.metrics()) at ${clients} clients: median ${median(scrapes).toFixed(2)} ms over 50`);

const broadcasts = 500;
for (let i = 0; i < broadcasts; i++) {
  hub.broadcast('x'.repeat(64));
  if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
}
while (received < broadcasts * clients) await new Promise((resolve) => setImmediate(resolve));
const h = await hub.metrics.getSingleMetricAsString('actorhub_fanout_seconds');
const count = Number(/actorhub_fanout_seconds_count\{kind="broadcast"\} (\S+)/.exec(h)![1]);
const sum = Number(/actorhub_fanout_seconds_sum\{kind="broadcast"\} (\S+)/.exec(h)![1]);
console.log(
  `fan-out of ${broadcasts} broadcasts to ${clients} clients: mean ${((sum / count) * 1e6).toFixed(0)} µs per dispatch (${((sum / count / clients) * 1e9).toFixed(0)} ns per recipient), from actorhub_fanout_seconds`,
);

for (const ws of sockets) ws.terminate();
await hub.close({ timeoutMs: 500 });
server.close();
