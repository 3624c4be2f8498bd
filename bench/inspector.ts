/**
 * What the built-in viewer (`--inspect`, GET /inspect) costs the hub, in process:
 * `npm run bench -- inspector [options]`. Issue 15's figure: hub events/s at
 * 5,000 clients with and without a viewer open, target ≥ 0.67×.
 *
 * For each mode a fresh hub machine registers N clients (fake writers and connections: no
 * sockets, so that only inspection differs), then takes a stream of hub events for a fixed
 * time: for client k in turn, `hub.subscribe` (with a ref: an ack), `hub.publish` to that topic
 * from k, `hub.unsubscribe`, and every 10th turn a `hub.presence` query. Every ~1 ms of sending
 * it yields to the event loop, so the viewer's timer (its 250 ms tick: per-state counts over all
 * N clients, the sampled events, the followed client's detail) and its writes to the page run
 * between batches, as they would between socket reads. Modes:
 *   off        no inspector (`createHub` without `inspect`)
 *   closed     the viewer attached (`createHub({ inspect: createViewer() })`), no page open
 *   open       one page on the feed (GET /inspect/events over real HTTP, read by a child process
 *              as a browser tab would read it, so its parsing is not charged to the hub)
 *   follow     the same page following one client (`?follow=c0`): per-event detail for it
 * Modes interleave within each round; a mode's figure is the median of its rounds, and the
 * ratios are to `off` in the same round (median of those).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createActor } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import type { Frame, Writer, WriterEvent, WriterOwner } from '../machines/client.types.js';
import { hubMachine } from '../machines/hub.machine.js';
import type { OutboundFrames } from '../machines/hub.types.js';
import { createViewer, type HubViewer } from '../src/observability/viewer/viewer.js';
import { fakeConnection } from './ops/fake-hub.js';

type Mode = 'off' | 'closed' | 'open' | 'follow';
const MODES: readonly Mode[] = ['off', 'closed', 'open', 'follow'];

const frame = (n: number): Frame => ({ byteLength: n });
const frames: OutboundFrames = {
  welcome: () => frame(8),
  message: () => frame(16),
  joined: () => frame(8),
  left: () => frame(8),
  ack: () => frame(8),
  error: () => frame(8),
};

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The page's reader: a separate process, like the browser tab; it only counts what arrives. */
const READER = `
const http = require('node:http');
let bytes = 0;
http.get(process.argv[1], (res) => {
  if (res.statusCode !== 200) { console.error('feed answered ' + res.statusCode); process.exit(1); }
  res.on('data', (chunk) => { bytes += chunk.length; });
  res.on('end', () => { process.stdout.write(String(bytes)); process.exit(0); });
});
process.on('SIGTERM', () => { process.stdout.write(String(bytes)); process.exit(0); });
`;

interface Page {
  readonly child: ChildProcess;
  /** Stops reading; resolves with the bytes the page received. */
  close(): Promise<number>;
}

async function openPage(viewer: HubViewer, url: string): Promise<Page> {
  const child = spawn(process.execPath, ['-e', READER, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const before = viewer.pages;
  // The feed registers the page when its request arrives: wait for that, not for a fixed time.
  while (viewer.pages === before) {
    if (child.exitCode !== null) throw new Error('the page reader exited before connecting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    child,
    async close() {
      child.kill('SIGTERM');
      await exited;
      return Number(out) || 0;
    },
  };
}

interface Row {
  readonly mode: Mode;
  readonly eventsPerSec: number;
  /** Hub events per second of this process's CPU time (user + system): robust to a shared machine. */
  readonly eventsPerCpuSec: number;
  /** Bytes the page received per second (open/follow). */
  readonly feedBytesPerSec: number;
}

async function measure(n: number, mode: Mode, durationMs: number): Promise<Row> {
  const viewer = mode === 'off' ? undefined : createViewer();
  const server = http.createServer((req, res) => {
    if (!viewer?.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inspect/events`;

  // A writer that counts and answers a close as a live peer would (client-writer.ts does more).
  let delivered = 0;
  const createWriter = (): Writer => {
    let owner: WriterOwner | undefined;
    return {
      start: (client) => void (owner = client),
      send: (event: WriterEvent) => {
        delivered++;
        if (event.type === 'writer.close')
          owner?.send({ type: 'client.socketClosed', code: event.code, reason: event.reason });
      },
      dispose: () => void (owner = undefined),
      handOver: (hub) => void (owner = hub),
    };
  };
  const actor = createActor(hubMachine, {
    input: {
      clientLogic: clientMachine,
      createWriter,
      frames,
      topicLimits: {
        maxTopicLength: 64,
        maxTopicsPerClient: 10,
        maxSubscriptions: Number.POSITIVE_INFINITY,
        maxMembersPerTopic: Number.POSITIVE_INFINITY,
        presencePageSize: 100,
      },
      presenceEvents: () => false,
      badFrames: { max: 10, windowMs: 60_000 },
      forward: () => undefined,
      limits: { maxMessages: 1_000_000, maxBytes: 1e12, policy: 'close' },
      maxClients: n + 1,
      pingIntervalMs: 3_600_000,
      pongWaitMs: 3_600_001,
      shutdownTimeoutMs: 1_000,
      // As createHub sets it: an inspector attached makes shutdown visible (not exercised here).
      watched: viewer !== undefined,
    },
    ...(viewer ? { inspect: viewer } : {}),
  });
  actor.start();
  for (let i = 0; i < n; i++) {
    actor.send({ type: 'hub.register', id: `c${i}`, connection: fakeConnection() });
    if (i % 1000 === 999) await turn();
  }
  const page =
    viewer && (mode === 'open' || mode === 'follow')
      ? await openPage(viewer, mode === 'follow' ? `${base}?follow=c0` : base)
      : undefined;
  await new Promise((resolve) => setTimeout(resolve, 300)); // the page's init and a first tick

  let events = 0;
  let k = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + durationMs;
  while (performance.now() < deadline) {
    const sliceEnd = performance.now() + 1;
    while (performance.now() < sliceEnd) {
      for (let j = 0; j < 20; j++) {
        const id = `c${k}`;
        const topic = `t${k % 100}`;
        actor.send({ type: 'hub.subscribe', id, topic, ref: 1 });
        actor.send({ type: 'hub.publish', topic, data: 'x', from: id });
        actor.send({ type: 'hub.unsubscribe', id, topic });
        events += 3;
        if (k % 10 === 0) {
          actor.send({ type: 'hub.presence', id, topic, ref: 2 });
          events++;
        }
        k = (k + 1) % n;
      }
    }
    await turn(); // timers (the viewer's tick) and I/O (its writes to the page) run here
  }
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const feedBytes = page ? await page.close() : 0;
  if (delivered === 0) throw new Error('no frame reached a writer: the workload did nothing');
  actor.stop();
  await viewer?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    mode,
    eventsPerSec: (events * 1000) / elapsed,
    eventsPerCpuSec: (events * 1000) / cpuMs,
    feedBytesPerSec: (feedBytes * 1000) / elapsed,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function runInspectorBench(argv: readonly string[] = []): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      clients: { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '3' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- inspector [options]
  --clients N   registered clients (default 5000)
  --rounds R    rounds, modes interleaved in each (default 3)
  --seconds S   hub events sent per mode and round (default 3)
  --quick       1 round of 1 s at 1000 clients
`);
    return 0;
  }
  const n = values.quick ? 1000 : Number(values.clients);
  const rounds = values.quick ? 1 : Number(values.rounds);
  const durationMs = (values.quick ? 1 : Number(values.seconds)) * 1000;
  await measure(500, 'off', 300); // warm-up: JIT, module loading
  await measure(500, 'open', 300);
  const byMode = new Map<Mode, Row[]>(MODES.map((m) => [m, []]));
  const ratios = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (let round = 1; round <= rounds; round++) {
    const rows = new Map<Mode, Row>();
    for (const mode of MODES) {
      const row = await measure(n, mode, durationMs);
      rows.set(mode, row);
      byMode.get(mode)!.push(row);
      process.stderr.write(
        `inspector bench: N=${n} ${mode} round ${round}/${rounds}: ${Math.round(row.eventsPerCpuSec)} events per CPU-s, ${Math.round(row.eventsPerSec)} events/s wall\n`,
      );
    }
    for (const mode of MODES)
      ratios.get(mode)!.push(rows.get(mode)!.eventsPerCpuSec / rows.get('off')!.eventsPerCpuSec);
  }
  const label: Record<Mode, string> = {
    off: 'no viewer',
    closed: 'viewer, no page',
    open: 'viewer, page open',
    follow: 'page following c0',
  };
  const num = (x: number): string => Math.round(x).toLocaleString('en-US');
  const lines = [
    `viewer cost (${process.version}; ${n} clients, fake writers; ${rounds} round(s) of ${durationMs / 1000} s per mode, interleaved; median of rounds)`,
    `hub events per CPU-second of the hub's process (its user + system time: what one core sustains), and per wall second;`,
    `ratio: median of the per-round ratios of events per CPU-second to "no viewer" [min–max]`,
    `${'mode'.padEnd(19)} ${'events/CPU-s'.padStart(13)} ${'vs no viewer'.padStart(13)} ${'[min–max]'.padStart(13)} ${'events/s wall'.padStart(14)} ${'feed KiB/s'.padStart(11)}`,
    ...MODES.map((mode) => {
      const rows = byMode.get(mode)!;
      const r = ratios.get(mode)!;
      return [
        label[mode].padEnd(19),
        num(median(rows.map((x) => x.eventsPerCpuSec))).padStart(13),
        `${median(r).toFixed(2)}×`.padStart(13),
        `[${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}]`.padStart(13),
        num(median(rows.map((x) => x.eventsPerSec))).padStart(14),
        (median(rows.map((x) => x.feedBytesPerSec)) / 1024).toFixed(1).padStart(11),
      ].join(' ');
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runInspectorBench(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
