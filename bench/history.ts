/**
 * npm run bench -- history — the product's default path and what history costs (issue 13):
 *  1. JSON `publish` to a topic of N subscribers (1,000 and 5,000): actorhub with history off,
 *     with history on (in memory), with history on over Redis (one node: the cluster path, every
 *     publish through the Lua script and back through pub/sub) and over NATS (JetStream: appended
 *     under expected-last-subject-sequence, back through the node's ordered consumer), against raw `ws` (a loop over
 *     its clients) and socket.io rooms (`io.to(room).emit`), in the same run, rounds interleaved.
 *  2. Time to recover 1,000 missed messages (subscribe with `since` → the 1,000th replayed).
 *  3. Memory of 10k topics × 100 messages in the in-memory store (a child with --expose-gc).
 * Every server is its own process; the subscribers are light clients in this one (they only
 * count frames). The machine is shared: read ratios taken within a round, not absolute figures.
 * Options: --rounds 3 --sizes 1000,5000 --messages 300 --redis redis://127.0.0.1:6379 --nats nats://127.0.0.1:4222
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { io as ioClient, type Socket } from 'socket.io-client';
import { RawClient, Tally } from './load/raw-client.js';
import { memoryHistory } from '../src/history/memory.js';
import { natsHistoryStream } from '../src/history/nats.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '1000,5000' },
    messages: { type: 'string', default: '300' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    'memory-child': { type: 'boolean', default: false },
  },
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAYLOAD = JSON.stringify({ n: 0, text: 'x'.repeat(40) }); // 64 bytes of data
const BATCH = 30;

interface Target {
  readonly id: string;
  readonly args: string[];
  readonly wire: 'ws' | 'socketio';
  readonly path: string;
  join(c: RawClient): void;
  publisher(port: number): Promise<{ publish(): void; close(): void }>;
}

const wsPublisher =
  (frame: string) =>
  async (port: number): Promise<{ publish(): void; close(): void }> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    return { publish: () => ws.send(frame), close: () => ws.close() };
  };

const actorhub = (id: string, extra: string[]): Target => ({
  id,
  args: ['dist/src/server/cli.js', '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent', ...extra],
  wire: 'ws',
  path: '/ws',
  join: (c) => c.sendText('{"type":"subscribe","topic":"t"}'),
  publisher: wsPublisher(`{"type":"publish","topic":"t","data":${PAYLOAD}}`),
});

const prefix = `bh${process.pid}`;
const TARGETS: Target[] = [
  {
    id: 'raw ws',
    args: ['dist/bench/peers/raw-ws.js', '--port', '0', '--host', '127.0.0.1'],
    wire: 'ws',
    path: '/ws',
    join: () => undefined,
    publisher: wsPublisher(PAYLOAD),
  },
  {
    id: 'socket.io rooms',
    args: ['dist/bench/peers/socketio-rooms.js', '--port', '0', '--host', '127.0.0.1'],
    wire: 'socketio',
    path: '/socket.io/?EIO=4&transport=websocket',
    join: (c) => c.sendText('42["join","t"]'),
    async publisher(port) {
      const socket: Socket = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
      await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
      const data = JSON.parse(PAYLOAD) as unknown;
      return { publish: () => void socket.emit('publish', 't', data), close: () => void socket.close() };
    },
  },
  actorhub('actorhub json, history off', []),
  actorhub('actorhub json, history on', ['--history-size', '100']),
  actorhub('actorhub json, history on, Redis', [
    '--history-size',
    '100',
    '--redis',
    values.redis,
    '--cluster-prefix',
    prefix,
  ]),
  actorhub('actorhub json, history on, NATS', [
    '--history-size',
    '100',
    '--nats',
    values.nats,
    '--cluster-prefix',
    prefix,
  ]),
];

async function start(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { proc, port };
}

const until = (tally: Tally, total: number, ms: number): Promise<boolean> =>
  tally.total >= total
    ? Promise.resolve(true)
    : new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        tally.wakeAt = total;
        tally.wake = () => {
          clearTimeout(timer);
          tally.wakeAt = Number.POSITIVE_INFINITY;
          resolve(true);
        };
      });

/** Deliveries per second of `messages` publishes to a topic of n subscribers. */
async function fanout(target: Target, n: number, messages: number): Promise<number> {
  const { proc, port } = await start(target.args);
  const tally = new Tally();
  const clients: RawClient[] = [];
  try {
    for (let i = 0; i < n; i += 200) {
      const batch = Array.from({ length: Math.min(200, n - i) }, () => new RawClient(target.wire, tally));
      await Promise.all(batch.map((c) => c.connect('127.0.0.1', port, target.path, 30_000)));
      clients.push(...batch);
    }
    for (const c of clients) target.join(c);
    const publisher = await target.publisher(port);
    // Warm up until every subscriber receives (joins take effect asynchronously).
    for (let k = 0; ; k++) {
      const base = tally.total;
      publisher.publish();
      await until(tally, base + n, 2_000);
      if (tally.total - base >= n || k > 20) break;
    }
    await new Promise((r) => setTimeout(r, 200));
    const base = tally.total;
    const t0 = performance.now();
    for (let sent = 0; sent < messages;) {
      for (let i = 0; i < BATCH && sent < messages; i++, sent++) publisher.publish();
      if (!(await until(tally, base + sent * n, 60_000))) throw new Error(`${target.id}: deliveries stalled`);
    }
    const seconds = (performance.now() - t0) / 1000;
    publisher.close();
    return (messages * n) / seconds;
  } finally {
    for (const c of clients) void c.leave('rst', 100);
    proc.kill('SIGKILL');
  }
}

/** ms from `subscribe` with `since` to the 1,000th replayed message. */
async function recovery(extra: string[]): Promise<number> {
  const { proc, port } = await start(actorhub('', ['--history-size', '1000', ...extra]).args);
  try {
    const open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const frames: Record<string, unknown>[] = [];
      let waiter: (() => void) | undefined;
      ws.on('message', (d) => {
        frames.push(JSON.parse(d.toString()) as Record<string, unknown>);
        waiter?.();
      });
      await new Promise((resolve) => ws.once('open', resolve));
      const next = (pred: (f: Record<string, unknown>) => boolean) =>
        new Promise<Record<string, unknown>>((resolve) => {
          const check = () => {
            const f = frames.find(pred);
            if (f) {
              waiter = undefined;
              resolve(f);
            }
          };
          waiter = check;
          check();
        });
      return { ws, next };
    };
    const sub = await open();
    sub.ws.send('{"type":"subscribe","topic":"r","ref":1}');
    const ack = await sub.next((f) => f.type === 'ack');
    const { epoch, offset } = ack.result as { epoch: string; offset: number };
    sub.ws.close();
    const pub = await open();
    for (let i = 0; i < 1000; i++) pub.ws.send(`{"type":"publish","topic":"r","data":${PAYLOAD},"ref":${i}}`);
    await pub.next((f) => f.type === 'ack' && f.ref === 999);
    const back = await open();
    const t0 = performance.now();
    back.ws.send(JSON.stringify({ type: 'subscribe', topic: 'r', since: { epoch, offset }, ref: 1 }));
    await back.next((f) => f.type === 'message' && f.offset === offset + 1000);
    const ms = performance.now() - t0;
    pub.ws.close();
    back.ws.close();
    return ms;
  } finally {
    proc.kill('SIGKILL');
  }
}

function memoryChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = memoryHistory({ size: 100, ttlMs: 3_600_000, maxStreams: 10_000 });
  for (let t = 0; t < 10_000; t++) {
    for (let i = 0; i < 100; i++)
      store.append(`topic:${t}`, { from: 'c0ffee00-1234', data: `{"n":${i},"text":"${'x'.repeat(40)}"}` });
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(JSON.stringify({ heapBytes: after - before, ...store.stats() }));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (values['memory-child']) return memoryChild();
  const rounds = Number(values.rounds);
  const sizes = values.sizes.split(',').map(Number);
  const messages = Number(values.messages);
  const results = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const n of sizes) {
      for (const target of TARGETS) {
        const rate = await fanout(target, n, messages);
        const key = `${n}\t${target.id}`;
        results.set(key, [...(results.get(key) ?? []), rate]);
        process.stderr.write(`round ${r + 1} n=${n} ${target.id}: ${Math.round(rate)} deliveries/s\n`);
      }
    }
  }
  console.log(`\nJSON publish to a topic, ${messages} messages of 64 B, median of ${rounds} rounds (deliveries/s):`);
  for (const n of sizes) {
    const raw = median(results.get(`${n}\traw ws`)!);
    const off = median(results.get(`${n}\tactorhub json, history off`)!);
    for (const target of TARGETS) {
      const m = median(results.get(`${n}\t${target.id}`)!);
      console.log(
        `  n=${n}  ${target.id.padEnd(34)} ${String(Math.round(m)).padStart(9)}  ${(m / raw).toFixed(2)}× raw ws  ${(m / off).toFixed(2)}× history off`,
      );
    }
  }
  const local: number[] = [];
  const redis: number[] = [];
  const nats: number[] = [];
  for (let i = 0; i < 5; i++) {
    local.push(await recovery([]));
    redis.push(await recovery(['--redis', values.redis, '--cluster-prefix', `${prefix}r${i}`]));
    nats.push(await recovery(['--nats', values.nats, '--cluster-prefix', `${prefix}n${i}`]));
  }
  console.log(`\nRecover 1,000 missed messages (subscribe with since → the 1,000th replayed), median of 5:`);
  console.log(
    `  one node, in memory: ${median(local).toFixed(1)} ms   over Redis: ${median(redis).toFixed(1)} ms   over NATS: ${median(nats).toFixed(1)} ms`,
  );
  // The shared NATS keeps streams after their messages expire: delete this run's own.
  const nc = await connectNats({ servers: values.nats });
  const jsm = await jetstreamManager(nc);
  for (const p of [prefix, ...Array.from({ length: 5 }, (_, i) => `${prefix}n${i}`)])
    await jsm.streams.delete(natsHistoryStream(p)).catch(() => undefined);
  await nc.close();
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--memory-child'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => child.once('exit', resolve));
  const mem = JSON.parse(out) as { heapBytes: number; messages: number; bytes: number };
  console.log(`\nMemory, 10k topics × 100 messages (64 B data, a 13-char sender id), in-memory store:`);
  console.log(
    `  heap ${(mem.heapBytes / 2 ** 20).toFixed(1)} MiB for ${mem.messages} messages (${Math.round(mem.heapBytes / mem.messages)} B each; the store's own estimate ${(mem.bytes / 2 ** 20).toFixed(1)} MiB)`,
  );
}

await main();
process.exit(0);
