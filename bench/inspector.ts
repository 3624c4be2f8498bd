/**
 * What the built-in viewer (`--inspect`, GET /inspect) costs the hub, in process:
 * `npm run bench -- inspector [options]`. docs/inspector.md's figure: hub events/s at
 * 5,000 clients with and without a viewer open, target ≥ 0.67×.
 *
 * For each mode a fresh hub machine registers N clients (fake writers and connections: no
 * sockets, so that only inspection differs), then takes a stream of commands for a fixed time.
 * As on a real hub, each command is an inbound message: a `client.socketMessage` step of the
 * sending client's machine, whose `handleMessage` (the protocol's place) sends the hub event.
 * For client k in turn: `hub.subscribe` (with a ref: an ack), `hub.publish` to that topic from k,
 * `hub.unsubscribe`, and every 10th turn a `hub.presence` query. So every client, the followed
 * one included, takes machine steps. Every ~1 ms of sending it yields to the event loop, so the
 * viewer's timer (its 250 ms tick: per-state counts over all N clients, the sampled events, the
 * followed client's detail) and its writes to the page run between batches, as they would
 * between socket reads. Modes:
 *   off        no inspector (`createHub` without `inspect`)
 *   closed     the viewer attached (`createHub({ inspect: createViewer() })`), no page open
 *   open       one page on the feed (GET /inspect/events over real HTTP, read by a child process
 *              as a browser tab would read it, so its parsing is not charged to the hub)
 *   follow     the same page following client c1 (`?follow=c1`): per-event detail for it
 * Measuring starts once the page has had its first tick (the reader reports it). Modes
 * interleave within each round; a mode's figure is the median of its rounds, and the ratios are
 * to `off` in the same round (median of those, with min and max). `--json <file>` also writes
 * every round's raw figures and the load average before and after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createActor } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import type { Frame, Writer, WriterEvent, WriterInput, WriterOwner } from '../machines/client.types.js';
import { hubMachine } from '../machines/hub.machine.js';
import type { OutboundFrames } from '../machines/hub.types.js';
import { createViewer } from '../src/observability/viewer/viewer.js';
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

/**
 * The page's reader: a separate process, like the browser tab. It says "ready" once the feed has
 * sent its first tick (the page is registered and the viewer's timer runs), then only counts.
 */
const READER = `
const http = require('node:http');
let bytes = 0;
let text = '';
http.get(process.argv[1], (res) => {
  if (res.statusCode !== 200) { console.error('feed answered ' + res.statusCode); process.exit(1); }
  res.on('data', (chunk) => {
    bytes += chunk.length;
    if (text === undefined) return;
    text += chunk.toString();
    if (text.includes('event: tick')) { text = undefined; process.stdout.write('ready\\n'); }
  });
  res.on('end', () => { process.stdout.write('bytes ' + bytes + '\\n'); process.exit(0); });
});
process.on('SIGTERM', () => { process.stdout.write('bytes ' + bytes + '\\n'); process.exit(0); });
`;

interface Page {
  readonly child: ChildProcess;
  /** Stops reading; resolves with the bytes the page received. */
  close(): Promise<number>;
}

/** Opens a page on the feed; resolves when it has had its first tick (an event, not a sleep). */
async function openPage(url: string): Promise<Page> {
  const child = spawn(process.execPath, ['-e', READER, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error('the page reader exited before its first tick')));
  });
  return {
    child,
    async close() {
      child.kill('SIGTERM');
      await exited;
      return Number(/bytes (\d+)/.exec(out)?.[1] ?? 0);
    },
  };
}

interface Row {
  readonly mode: Mode;
  /** Hub events sent (each preceded by one client-machine step). */
  readonly events: number;
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly eventsPerSec: number;
  /** Hub events per second of this process's CPU time (user + system): robust to a shared machine. */
  readonly eventsPerCpuSec: number;
  /** Bytes the page received per second (open/follow). */
  readonly feedBytesPerSec: number;
}

/** The followed client: it takes its turn in the workload like every other. */
const FOLLOWED = 'c1';

/** The commands a client sends, one byte of op then its topic's number (what handleMessage parses). */
const OPS = ['hub.subscribe', 'hub.publish', 'hub.unsubscribe', 'hub.presence'] as const;
const TOPICS = 100;
const messages = OPS.map((_, op) => Array.from({ length: TOPICS }, (_, t) => Buffer.from(`${op}${t}`, 'latin1')));

async function measure(n: number, mode: Mode, durationMs: number): Promise<Row> {
  const viewer = mode === 'off' ? undefined : createViewer();
  const server = http.createServer((req, res) => {
    if (!viewer?.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inspect/events`;

  // A writer that counts and answers a close as a live peer would (client-writer.ts does more).
  // Its owner, the client actor, is where the workload's inbound messages go.
  let delivered = 0;
  const owners = new Map<string, WriterOwner>();
  const createWriter = (input: WriterInput): Writer => {
    let owner: WriterOwner | undefined;
    return {
      start: (client) => {
        owner = client;
        owners.set(input.id, client);
      },
      send: (event: WriterEvent) => {
        delivered++;
        if (event.type === 'writer.close')
          owner?.send({ type: 'client.socketClosed', code: event.code, reason: event.reason });
      },
      dispose: () => void (owner = undefined),
      handOver: (hub) => void (owner = hub),
    };
  };
  // The protocol's place: one inbound message, one hub event on behalf of its sender.
  let hubEvents = 0;
  const clientLogic = clientMachine.provide({
    actions: {
      handleMessage: (_: unknown, params: { id: string; data: Buffer; binary: boolean }) => {
        const op = OPS[params.data[0]! - 48]!;
        const topic = `t${params.data.toString('latin1', 1)}`;
        hubEvents++;
        if (op === 'hub.publish') actor.send({ type: op, topic, data: 'x', from: params.id });
        else if (op === 'hub.unsubscribe') actor.send({ type: op, id: params.id, topic });
        else actor.send({ type: op, id: params.id, topic, ref: 1 });
      },
    },
  });
  const actor = createActor(hubMachine, {
    input: {
      clientLogic,
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
  const clients = Array.from({ length: n }, (_, i) => owners.get(`c${i}`)!);
  if (clients.some((c) => c === undefined)) throw new Error('a client never started its writer');
  const page =
    viewer && (mode === 'open' || mode === 'follow')
      ? await openPage(mode === 'follow' ? `${base}?follow=${FOLLOWED}` : base)
      : undefined;

  let k = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + durationMs;
  while (performance.now() < deadline) {
    const sliceEnd = performance.now() + 1;
    while (performance.now() < sliceEnd) {
      for (let j = 0; j < 20; j++) {
        const client = clients[k]!;
        const t = k % TOPICS;
        client.send({ type: 'client.socketMessage', data: messages[0]![t]!, binary: false });
        client.send({ type: 'client.socketMessage', data: messages[1]![t]!, binary: false });
        client.send({ type: 'client.socketMessage', data: messages[2]![t]!, binary: false });
        if (k % 10 === 0) client.send({ type: 'client.socketMessage', data: messages[3]![t]!, binary: false });
        k = (k + 1) % n;
      }
    }
    await turn(); // timers (the viewer's tick) and I/O (its writes to the page) run here
  }
  const events = hubEvents;
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
    events,
    elapsedMs: elapsed,
    cpuMs,
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
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- inspector [options]
  --clients N   registered clients (default 5000)
  --rounds R    rounds, modes interleaved in each (default 3)
  --seconds S   commands sent per mode and round (default 3)
  --json FILE   also write every round's raw figures and the load average to FILE
  --quick       1 round of 1 s at 1000 clients
`);
    return 0;
  }
  const n = values.quick ? 1000 : Number(values.clients);
  const rounds = values.quick ? 1 : Number(values.rounds);
  const durationMs = (values.quick ? 1 : Number(values.seconds)) * 1000;
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  await measure(500, 'off', 300); // warm-up: JIT, module loading
  await measure(500, 'follow', 300);
  const byMode = new Map<Mode, Row[]>(MODES.map((m) => [m, []]));
  const cpuRatios = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  const wallRatios = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
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
    const off = rows.get('off')!;
    for (const mode of MODES) {
      cpuRatios.get(mode)!.push(rows.get(mode)!.eventsPerCpuSec / off.eventsPerCpuSec);
      wallRatios.get(mode)!.push(rows.get(mode)!.eventsPerSec / off.eventsPerSec);
    }
  }
  const loadAfter = os.loadavg();
  const label: Record<Mode, string> = {
    off: 'no viewer',
    closed: 'viewer, no page',
    open: 'viewer, page open',
    follow: `page following ${FOLLOWED}`,
  };
  const num = (x: number): string => Math.round(x).toLocaleString('en-US');
  const spread = (r: readonly number[]): string =>
    `${median(r).toFixed(2)}× [${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)}]`;
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  const lines = [
    `viewer cost (${process.version}; ${n} clients, fake writers, each command a client step then a hub event; ${rounds} round(s) of ${durationMs / 1000} s per mode, interleaved; median of rounds)`,
    `load average before ${load(loadBefore)}, after ${load(loadAfter)} (${os.cpus().length} CPUs)`,
    `ratios: median of the per-round ratios to "no viewer" in the same round [min–max]`,
    `${'mode'.padEnd(19)} ${'events/CPU-s'.padStart(13)} ${'CPU ratio'.padStart(20)} ${'events/s wall'.padStart(14)} ${'wall ratio'.padStart(20)} ${'feed KiB/s'.padStart(11)}`,
    ...MODES.map((mode) => {
      const rows = byMode.get(mode)!;
      return [
        label[mode].padEnd(19),
        num(median(rows.map((x) => x.eventsPerCpuSec))).padStart(13),
        spread(cpuRatios.get(mode)!).padStart(20),
        num(median(rows.map((x) => x.eventsPerSec))).padStart(14),
        spread(wallRatios.get(mode)!).padStart(20),
        (median(rows.map((x) => x.feedBytesPerSec)) / 1024).toFixed(1).padStart(11),
      ].join(' ');
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json) {
    const raw = {
      bench: 'inspector',
      command: `npm run bench -- inspector ${argv.join(' ')}`.trim(),
      node: process.version,
      cpus: os.cpus().length,
      startedAt,
      finishedAt: new Date().toISOString(),
      loadavg: { before: loadBefore, after: loadAfter },
      clients: n,
      rounds,
      secondsPerMode: durationMs / 1000,
      followed: FOLLOWED,
      rows: MODES.flatMap((mode) => byMode.get(mode)!.map((row, i) => ({ round: i + 1, ...row }))),
      summary: lines,
    };
    writeFileSync(values.json, `${JSON.stringify(raw, null, 2)}\n`);
  }
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
