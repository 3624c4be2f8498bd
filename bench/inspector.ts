/**
 * What the Stately inspector costs the hub, in process: `npm run bench -- inspector`
 * (or `npm run bench:inspector`). For N registered clients it times, with the inspector off,
 * with actorhub's (startInspector: hot path filtered, compact snapshots) and with the stock
 * @statelyai/inspect client (createWebSocketInspector, every event, full snapshots):
 *   - registering N clients (per client),
 *   - hub events that reach no client (subscribe/unsubscribe without ref; per event),
 *   - broadcasts to all N (per recipient).
 * Each timing includes draining the inspection work the events queued (the inspector defers
 * it to timers) and the relay, which runs in the same process, as with `npm start -- --inspect`.
 * Clients are fake writers (no sockets): the figures isolate the inspection.
 */
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { createActor, fromCallback, type InspectionEvent, type Observer } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import type { Frame, WriterEvent, WriterInput } from '../machines/client.types.js';
import { hubMachine } from '../machines/hub.machine.js';
import type { OutboundFrames } from '../machines/hub.types.js';
import type { Connection } from '../src/connection.js';
import { startInspector } from '../src/inspector/inspector.js';

type Mode = 'off' | 'actorhub' | 'stock';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

const frame = (n: number): Frame => ({ byteLength: n });
const frames: OutboundFrames = {
  welcome: () => frame(8),
  message: () => frame(16),
  joined: () => frame(8),
  left: () => frame(8),
  ack: () => undefined,
  error: () => undefined,
};

const connection = (): Connection => ({
  remoteAddress: '127.0.0.1',
  bufferedAmount: 0,
  isOpen: true,
  writable: true,
  listen: () => () => undefined,
  write: () => undefined,
  ping: () => undefined,
  close: () => undefined,
  terminate: () => undefined,
});

/** Lets every timer queued so far (the inspector's deferred work) and pending I/O run. */
const drain = async (): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setImmediate(resolve));
};

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function inspectorFor(mode: Mode): Promise<{ inspect?: Observer<InspectionEvent>; close(): Promise<void> }> {
  if (mode === 'off') return { close: async () => undefined };
  if (mode === 'actorhub') {
    const inspector = await startInspector({ port: 0, logger: silent });
    return { inspect: inspector, close: () => inspector.close() };
  }
  const port = await freePort();
  const relay = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  await new Promise((resolve) => setTimeout(resolve, 200)); // the stock client has no "open" signal
  return {
    inspect: inspector.inspect,
    close: async () => {
      inspector.stop();
      relay.stop();
    },
  };
}

interface Row {
  readonly n: number;
  readonly mode: Mode;
  readonly registerUs: number;
  readonly hubEventUs: number;
  readonly broadcastNsPerRecipient: number;
}

async function measure(n: number, mode: Mode, hubEvents: number, broadcasts: number): Promise<Row> {
  const { inspect, close } = await inspectorFor(mode);
  let received = 0;
  const writer = fromCallback<WriterEvent, WriterInput>(({ receive }) => {
    receive(() => void received++);
  });
  const actor = createActor(hubMachine, {
    input: {
      clientLogic: clientMachine.provide({ actors: { writer } }),
      frames,
      topicLimits: { maxTopicLength: 64, maxTopicsPerClient: 10, maxMembersPerTopic: Number.POSITIVE_INFINITY },
      presenceEvents: () => false,
      badFrames: { max: 10, windowMs: 60_000 },
      forward: () => undefined,
      limits: { maxMessages: 1_000_000, maxBytes: 1e12, policy: 'close' },
      maxClients: n + 1,
      pingIntervalMs: 3_600_000,
      pongWaitMs: 3_600_001,
      shutdownTimeoutMs: 1_000,
    },
    ...(inspect ? { inspect } : {}),
  });
  actor.start();

  let t = performance.now();
  for (let i = 0; i < n; i++) actor.send({ type: 'hub.register', id: `c${i}`, connection: connection() });
  await drain();
  const registerUs = ((performance.now() - t) * 1000) / n;

  t = performance.now();
  for (let i = 0; i < hubEvents; i++) {
    actor.send({ type: i % 2 ? 'hub.unsubscribe' : 'hub.subscribe', id: 'c0', topic: 'bench' });
  }
  await drain();
  const hubEventUs = ((performance.now() - t) * 1000) / hubEvents;

  received = 0;
  t = performance.now();
  for (let i = 0; i < broadcasts; i++) actor.send({ type: 'hub.broadcast', data: 'x' });
  await drain();
  const broadcastNsPerRecipient = ((performance.now() - t) * 1e6) / (broadcasts * n);
  if (received !== broadcasts * n) throw new Error(`expected ${broadcasts * n} deliveries, got ${received}`);

  actor.stop();
  await close();
  await drain();
  return { n, mode, registerUs, hubEventUs, broadcastNsPerRecipient };
}

export async function runInspectorBench(argv: readonly string[] = []): Promise<number> {
  const quick = argv.includes('--quick');
  const sizes = quick ? [1_000] : [1_000, 5_000];
  const modes: Mode[] = ['off', 'actorhub', 'stock'];
  const hubEvents = quick ? 500 : 2_000;
  const broadcasts = quick ? 5 : 20;
  const rows: Row[] = [];
  await measure(200, 'off', 200, 2); // warm-up: JIT, module loading
  for (const n of sizes) {
    for (const mode of modes) {
      const row = await measure(n, mode, mode === 'stock' && n > 1_000 ? hubEvents / 4 : hubEvents, broadcasts);
      rows.push(row);
      process.stderr.write(`inspector bench: N=${n} ${mode} done\n`);
    }
  }
  const f = (x: number, d = 1): string => x.toFixed(d).padStart(10);
  const lines = [
    `inspector overhead (${process.version}, ${hubEvents} hub events, ${broadcasts} broadcasts to all N; fake writers, relay in process)`,
    `${'N'.padStart(6)} ${'inspector'.padEnd(9)} ${'register µs/client'.padStart(19)} ${'hub event µs'.padStart(13)} ${'broadcast ns/recipient'.padStart(23)}`,
    ...rows.map(
      (r) => `${String(r.n).padStart(6)} ${r.mode.padEnd(9)} ${f(r.registerUs).padStart(19)} ${f(r.hubEventUs).padStart(13)} ${f(r.broadcastNsPerRecipient, 0).padStart(23)}`,
    ),
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
