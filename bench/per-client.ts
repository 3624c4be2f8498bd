/**
 * What one connection costs, actorhub vs raw ws, in the same run (docs/performance.md's idle and close()
 * targets), measured with counts rather than wall time where it can:
 *
 * - **retained heap per connection**: the server (a child process run with --expose-gc) is
 *   garbage-collected before and after N idle connections: (heapUsed after − before) / N, plus
 *   external memory and RSS per connection for comparison with `npm run bench`;
 * - **connects/s** and **server CPU µs per connect** (process.cpuUsage of the server), peers
 *   interleaved (raw, hub, raw, hub, …), medians over the rounds; server pinned to core 0 and
 *   this generator to core 1 when `taskset` exists;
 * - **in-process hub operations** with fake sockets: bytes per registered client, µs per
 *   REGISTER/UNREGISTER at 1k and at N, and `close()` time with N clients.
 *
 * - **with topics** (`--only topics`): the JSON hub with N clients idle, then each in the same
 *   100 topics of 128 characters (shared), then each in 100 topics of its own (distinct: the
 *   worst case for the hub's memory); heap per client after GC, and per membership.
 *
 * Run: npm run bench -- per-client [--connections 10000 --rounds 3 --close-clients 50000]
 *      npm run bench -- per-client --only topics [--topic-clients 2000]
 *      add --cpu-prof DIR to write a CPU profile of every server (and of the close() run).
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import type { ActorRefFrom } from 'xstate';
import type { HubMachine } from '../machines/hub.machine.js';
import { createHub } from '../src/hub.js';
import type { Connection, ConnectionHandlers } from '../machines/connection.js';
import { consoleLogger } from '../src/observability/logger.js';
import { parseCli } from './cli.js';
import { connectAll, RawClient, Tally } from './load/raw-client.js';

const values = parseCli('npm run bench -- per-client [options]', {
  serve: { type: 'string' },
  'close-run': { type: 'boolean', default: false },
  connections: { type: 'string', default: '10000', describe: 'idle connections per server' },
  rounds: { type: 'string', default: '3', describe: 'peers interleaved this many times; medians over them' },
  concurrency: { type: 'string', default: '100', describe: 'connects in flight at once' },
  'close-clients': { type: 'string', default: '50000', describe: 'clients of the in-process close() run' },
  'cpu-prof': { type: 'string', describe: 'write a CPU profile of every server into this directory' },
  only: { type: 'string', describe: 'topics: only the memory-with-topics measurement' },
  'topic-clients': { type: 'string', default: '2000', describe: 'clients of the --only topics run' },
});

type Kind = 'raw' | 'hub' | 'json';
interface Sample {
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
  readonly cpuMicros: number;
  readonly clients: number;
  /** Topic memberships (json hub only). */
  readonly memberships: number;
}
type Request = { id: number; op: 'sample'; gc: boolean };

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) collect();
};

const silent = consoleLogger('silent');

// ---------------------------------------------------------------- server child (--serve raw|hub)

function serve(kind: Kind): void {
  const server = http.createServer((_req, res) => void res.writeHead(404).end());
  let size: () => number;
  let memberships: () => number = () => 0;
  if (kind === 'raw') {
    // The same peer as bench/peers/raw-ws.ts.
    const clients = new Set<WebSocket>();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
    wss.on('connection', (ws) => {
      clients.add(ws);
      ws.on('message', (data, isBinary) => {
        for (const client of clients)
          if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      });
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
    size = () => clients.size;
  } else {
    const hub = createHub({ protocol: kind === 'json' ? 'json' : 'relay', logger: silent });
    hub.attach(server);
    size = () => hub.size;
    const actor = hub.actor as unknown as ActorRefFrom<HubMachine>;
    memberships = () => {
      let sum = 0;
      for (const [, n] of actor.getSnapshot().context.topics.topics()) sum += n;
      return sum;
    };
  }
  process.on('message', (m: Request) => {
    if (m.gc) gc();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const sample: Sample = {
      heapUsed: mem.heapUsed,
      external: mem.external,
      rss: mem.rss,
      cpuMicros: cpu.user + cpu.system,
      clients: size(),
      memberships: memberships(),
    };
    process.send!({ id: m.id, sample });
  });
  process.on('SIGTERM', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  });
}

// ---------------------------------------------------------------- in-process hub operations (--close-run)

/** A socket stand-in: a close or terminate is answered by the "peer" on the next turn of the loop. */
class FakeConnection implements Connection {
  readonly remoteAddress = '127.0.0.1';
  readonly bufferedAmount = 0;
  readonly writable = true;
  isOpen = true;
  #handlers: ConnectionHandlers | undefined;
  listen(handlers: ConnectionHandlers): () => void {
    this.#handlers = handlers;
    return () => (this.#handlers = undefined);
  }
  write(): void {}
  ping(): void {}
  pong(): void {}
  close(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    setImmediate(() => this.#handlers?.closed(code, reason));
  }
  terminate(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    setImmediate(() => this.#handlers?.closed(1006, ''));
  }
}

async function closeRun(n: number): Promise<void> {
  const hub = createHub({ protocol: 'relay', logger: silent, maxClients: n + 10_000 });
  // hub.register is internal (the upgrade gate sends it): the bench plays the gate, without sockets.
  const actor = hub.actor as unknown as ActorRefFrom<HubMachine>;
  const register = (id: string): void =>
    actor.send({ type: 'hub.register', id, connection: new FakeConnection(), meta: undefined, limits: {} });
  // CPU time, not wall time: the machine is shared, and these are single-threaded loops.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const opCost = (prefix: string, k: number): { register: number; unregister: number } => {
    const t0 = cpu();
    for (let i = 0; i < k; i++) register(`${prefix}${i}`);
    const t1 = cpu();
    for (let i = 0; i < k; i++) hub.actor.send({ type: 'hub.unregister', id: `${prefix}${i}` });
    const t2 = cpu();
    return { register: (t1 - t0) / k, unregister: (t2 - t1) / k };
  };
  const median3 = (f: () => { register: number; unregister: number }) => {
    const runs = [f(), f(), f()];
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    return { register: med(runs.map((r) => r.register)), unregister: med(runs.map((r) => r.unregister)) };
  };
  opCost('warm', 2000);
  await sleep(50);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < 1000; i++) register(`c${i}`);
  const at1k = median3(() => opCost('x', 1000));
  for (let i = 1000; i < n; i++) register(`c${i}`);
  await sleep(50);
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  const atN = median3(() => opCost('y', 1000));
  await sleep(50);
  gc();
  const t0 = performance.now();
  const c0 = cpu();
  await hub.close({ timeoutMs: 30_000 });
  const closeCpuMs = (cpu() - c0) / 1000;
  const closeMs = performance.now() - t0;
  process.send!({ n, bytesPerClient: (heap1 - heap0) / n, at1k, atN, closeMs, closeCpuMs, left: hub.size }, () =>
    process.exit(0),
  );
}

// ---------------------------------------------------------------- main: the generator

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number, digits = 1): string => x.toFixed(digits);

function pin(pid: number, core: number): boolean {
  return spawnSync('taskset', ['-a', '-pc', String(core), String(pid)], { stdio: 'ignore' }).status === 0;
}

function startChild(args: string[], profileName: string): ChildProcess {
  const prof = values['cpu-prof'];
  const execArgv = [
    ...process.execArgv,
    '--expose-gc',
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${profileName}.cpuprofile`] : []),
  ];
  return fork(fileURLToPath(import.meta.url), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

class Server {
  #next = 0;
  #waiting = new Map<number, (s: Sample) => void>();
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: { id: number; sample: Sample }) => {
      this.#waiting.get(m.id)?.(m.sample);
      this.#waiting.delete(m.id);
    });
  }
  static async start(kind: Kind, label: string): Promise<Server> {
    const child = startChild(['--serve', kind], label);
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    });
    pin(child.pid!, 0);
    return new Server(child, port);
  }
  sample(gcFirst: boolean): Promise<Sample> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.send({ id, op: 'sample', gc: gcFirst } satisfies Request);
    });
  }
  async waitFor(clients: number, memberships?: number): Promise<void> {
    for (let i = 0; i < 6000; i++) {
      const s = await this.sample(false);
      if (s.clients === clients && (memberships === undefined || s.memberships === memberships)) return;
      await sleep(5);
    }
    throw new Error(`server never reached ${clients} clients (${memberships ?? '-'} memberships)`);
  }
  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

interface IdleRun {
  readonly heapPerConn: number;
  readonly externalPerConn: number;
  readonly rssPerConn: number;
  readonly connectsPerSec: number;
  readonly cpuMicrosPerConnect: number;
}

async function idleRun(kind: Kind, n: number, concurrency: number, label: string): Promise<IdleRun> {
  const server = await Server.start(kind, label);
  const tally = new Tally();
  const open = (count: number) =>
    connectAll(count, concurrency, async () => {
      const c = new RawClient('ws', tally);
      await c.connect('127.0.0.1', server.port, '/ws', 30_000);
      return c;
    });
  // Warm-up: JIT and lazily built state must not count per connection.
  const warm = await open(500);
  await server.waitFor(500);
  for (const c of warm) c.destroy();
  await server.waitFor(0);
  await sleep(200);
  const before = await server.sample(true);
  const t0 = performance.now();
  const clients = await open(n);
  await server.waitFor(n);
  const ms = performance.now() - t0;
  const connected = await server.sample(false);
  await sleep(500);
  const after = await server.sample(true);
  for (const c of clients) c.destroy();
  await server.waitFor(0);
  await server.stop();
  return {
    heapPerConn: (after.heapUsed - before.heapUsed) / n,
    externalPerConn: (after.external - before.external) / n,
    rssPerConn: (after.rss - before.rss) / n,
    connectsPerSec: n / (ms / 1000),
    cpuMicrosPerConnect: (connected.cpuMicros - before.cpuMicros) / n,
  };
}

/** A 128-character topic name (the default maxTopicLength). */
const longTopic = (name: string): string => `${name}-`.padEnd(128, 'x');

type TopicMode = 'none' | 'shared' | 'distinct';

/**
 * Heap per client of the JSON hub with N clients, each in 100 topics of 128 characters: the
 * same 100 for everyone (`shared`), 100 of its own (`distinct`), or none. Subscribes are sent
 * without a ref (no ack to read); the server's membership count says when all are in.
 */
async function topicRun(mode: TopicMode, n: number, concurrency: number, label: string): Promise<number> {
  const server = await Server.start('json', label);
  const tally = new Tally();
  const open = (count: number, prefix: string) =>
    connectAll(count, concurrency, async (i) => {
      const c = new RawClient('ws', tally);
      await c.connect('127.0.0.1', server.port, '/ws', 30_000);
      if (mode !== 'none')
        for (let t = 0; t < TOPICS; t++) {
          const topic = longTopic(mode === 'shared' ? `shared${t}` : `${prefix}${i}.${t}`);
          c.sendText(`{"type":"subscribe","topic":"${topic}"}`);
        }
      return c;
    });
  const per = mode === 'none' ? 0 : TOPICS;
  const warm = await open(200, 'warm');
  await server.waitFor(200, 200 * per);
  for (const c of warm) c.destroy();
  await server.waitFor(0, 0);
  await sleep(200);
  const before = await server.sample(true);
  const clients = await open(n, 'c');
  await server.waitFor(n, n * per);
  await sleep(500);
  const after = await server.sample(true);
  for (const c of clients) c.destroy();
  await server.waitFor(0);
  await server.stop();
  return (after.heapUsed - before.heapUsed) / n;
}
const TOPICS = 100;

async function topicsMain(n: number, rounds: number, concurrency: number): Promise<void> {
  console.log(
    `per-client bench, topics: JSON hub, ${n} clients, each idle / in the same ${TOPICS} topics of 128 characters / in ${TOPICS} topics of its own; ${rounds} rounds; node ${process.version}`,
  );
  const runs: Record<TopicMode, number[]> = { none: [], shared: [], distinct: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['none', 'shared', 'distinct'] as const) {
      const heap = await topicRun(mode, n, concurrency, `topics-${mode}-${r}`);
      runs[mode].push(heap);
      console.log(`  round ${r + 1} ${mode.padEnd(8)}: heap ${fmt(heap / 1024, 2)} KiB/client`);
    }
  }
  const idle = median(runs.none);
  console.log(`\nmedians over ${rounds} rounds, ${n} clients:`);
  console.log('| clients in | heap KiB/client (after GC) | over idle, B per membership |');
  console.log('|---|---|---|');
  for (const mode of ['none', 'shared', 'distinct'] as const) {
    const m = median(runs[mode]);
    const per = mode === 'none' ? '—' : fmt((m - idle) / TOPICS, 0);
    console.log(`| ${mode === 'none' ? 'no topic' : `${TOPICS} ${mode} topics`} | ${fmt(m / 1024, 2)} | ${per} |`);
  }
}

async function main(): Promise<void> {
  const n = Number(values.connections);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const closeN = Number(values['close-clients']);
  const only = values.only;
  const pinned = pin(process.pid, 1);
  if (only === 'topics') return topicsMain(Number(values['topic-clients']), rounds, concurrency);
  console.log(
    `per-client bench: ${n} idle connections × ${rounds} rounds (raw, hub interleaved), concurrency ${concurrency}; taskset ${pinned ? 'on' : 'off'}; node ${process.version}`,
  );

  if (only !== 'close') {
    const runs: Record<'raw' | 'hub', IdleRun[]> = { raw: [], hub: [] };
    for (let r = 0; r < rounds; r++) {
      for (const kind of ['raw', 'hub'] as const) {
        const run = await idleRun(kind, n, concurrency, `${kind}-${r}`);
        runs[kind].push(run);
        console.log(
          `  round ${r + 1} ${kind.padEnd(3)}: heap ${fmt(run.heapPerConn / 1024, 2)} KiB/conn, external ${fmt(run.externalPerConn / 1024, 2)} KiB/conn, ` +
            `rss ${fmt(run.rssPerConn / 1024, 2)} KiB/conn, ${fmt(run.connectsPerSec, 0)} connects/s, server ${fmt(run.cpuMicrosPerConnect, 0)} µs CPU/connect`,
        );
      }
    }
    const med = (kind: 'raw' | 'hub', key: keyof IdleRun) => median(runs[kind].map((r) => r[key]));
    console.log(`\nmedians over ${rounds} rounds, N = ${n}:`);
    console.log('| metric | raw ws | actorhub | ratio |');
    console.log('|---|---|---|---|');
    const row = (name: string, key: keyof IdleRun, scale: number, digits: number) => {
      const a = med('raw', key) / scale;
      const b = med('hub', key) / scale;
      console.log(`| ${name} | ${fmt(a, digits)} | ${fmt(b, digits)} | ${a === 0 ? '—' : `${fmt(b / a, 2)}×`} |`);
    };
    row('heap retained, KiB/conn (after GC)', 'heapPerConn', 1024, 2);
    row('external, KiB/conn', 'externalPerConn', 1024, 2);
    row('RSS, KiB/conn (after GC)', 'rssPerConn', 1024, 2);
    row('connects/s', 'connectsPerSec', 1, 0);
    row('server CPU µs/connect', 'cpuMicrosPerConnect', 1, 0);
  }

  if (only !== 'idle') {
    const child = startChild(['--close-run', '--close-clients', String(closeN)], 'close');
    pin(child.pid!, 0);
    const result = await new Promise<{
      n: number;
      bytesPerClient: number;
      at1k: { register: number; unregister: number };
      atN: { register: number; unregister: number };
      closeMs: number;
      closeCpuMs: number;
      left: number;
    }>((resolve, reject) => {
      child.once('message', resolve as (m: unknown) => void);
      child.once('exit', (code) => reject(new Error(`close run exited with ${code}`)));
    });
    console.log(`\nin-process hub, fake sockets, ${result.n} clients:`);
    console.log(`  heap per registered client (hub side only): ${fmt(result.bytesPerClient, 0)} B`);
    console.log(
      `  REGISTER µs CPU/op: ${fmt(result.at1k.register, 2)} at 1k, ${fmt(result.atN.register, 2)} at ${result.n} (${fmt(result.atN.register / result.at1k.register, 2)}×)`,
    );
    console.log(
      `  UNREGISTER µs CPU/op: ${fmt(result.at1k.unregister, 2)} at 1k, ${fmt(result.atN.unregister, 2)} at ${result.n} (${fmt(result.atN.unregister / result.at1k.unregister, 2)}×)`,
    );
    console.log(
      `  close(): ${fmt(result.closeMs, 0)} ms (${fmt(result.closeCpuMs, 0)} ms CPU), ${result.left} clients left`,
    );
  }
}

if (values.serve === 'raw' || values.serve === 'hub' || values.serve === 'json') serve(values.serve);
else if (values['close-run']) void closeRun(Number(values['close-clients']));
else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
