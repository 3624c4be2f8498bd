/**
 * What the Stately inspector costs the hub, in process: `npm run bench -- inspector`
 * (or `npm run bench -- inspector`). For N registered clients it times, with the inspector off,
 * with actorhub's (startInspector: hot path filtered, compact snapshots) and with the stock
 * @statelyai/inspect client (createWebSocketInspector, every event, full snapshots):
 *   - registering N clients (per client),
 *   - hub events that reach no client (subscribe/unsubscribe without ref; per event),
 *   - broadcasts to all N (per recipient).
 * Each timing runs until a viewer connected to the relay (as the browser tab is) has received
 * the last inspection event the phase caused: the inspector defers its work to timers, and the
 * relay runs in the same process, as with `npm start -- --inspect`.
 * Clients are fake writers (no sockets): the figures isolate the inspection.
 */
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { WebSocket } from 'ws';
import { createActor, type InspectionEvent, type Observer } from 'xstate';
import { clientMachine } from '../machines/client.machine.js';
import type { Frame, Writer } from '../machines/client.types.js';
import { hubMachine } from '../machines/hub.machine.js';
import type { OutboundFrames } from '../machines/hub.types.js';
import { fakeConnection } from './ops/fake-hub.js';
import { startInspector } from '../src/observability/inspector/inspector.js';

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

const connection = fakeConnection;

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

/**
 * A viewer on the relay, as the browser tab would be. A phase ends when the viewer has
 * received everything the phase caused: the relay runs in process, so its work counts.
 */
async function viewer(port: number) {
  const ws = new WebSocket(`ws://localhost:${port}`);
  let lastAt = 0;
  ws.on('message', () => void (lastAt = performance.now()));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    /** When the last message arrived, once none has come for `quietMs`. */
    async settled(quietMs = 100): Promise<number> {
      for (;;) {
        const before = lastAt;
        await new Promise((resolve) => setTimeout(resolve, quietMs));
        if (lastAt === before) return lastAt;
      }
    },
    close: () => ws.close(),
  };
}

interface Inspection {
  inspect?: Observer<InspectionEvent>;
  /** The time inspection work caused so far has ended (now, when nothing is inspected). */
  settled(): Promise<number>;
  close(): Promise<void>;
}

async function inspectorFor(mode: Mode): Promise<Inspection> {
  if (mode === 'off') return { settled: async () => (await drain(), performance.now()), close: async () => undefined };
  if (mode === 'actorhub') {
    const inspector = await startInspector({ port: 0, logger: silent });
    const view = await viewer(inspector.port);
    return {
      inspect: inspector,
      settled: () => view.settled(),
      close: async () => (view.close(), await inspector.close()),
    };
  }
  const port = await freePort();
  const relay = createInspectorServer({ port, autoOpen: false });
  const view = await viewer(port);
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  await view.settled(300); // the stock client has no "open" signal
  return {
    inspect: inspector.inspect,
    settled: () => view.settled(),
    close: async () => {
      view.close();
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
  const { inspect, settled, close } = await inspectorFor(mode);
  /** From t until the inspection it caused has reached the viewer (or the events were processed, when off). */
  const since = async (t: number): Promise<number> => {
    const end = performance.now();
    await drain();
    return Math.max(end, await settled()) - t;
  };
  let received = 0;
  const createWriter = (): Writer => ({
    start: () => undefined,
    send: () => void received++,
    dispose: () => undefined,
    handOver: () => undefined,
  });
  const actor = createActor(hubMachine, {
    input: {
      clientLogic: clientMachine,
      createWriter,
      frames,
      topicLimits: {
        maxTopicLength: 64,
        maxTopicsPerClient: 10,
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
    },
    ...(inspect ? { inspect } : {}),
  });
  actor.start();

  let t = performance.now();
  for (let i = 0; i < n; i++) actor.send({ type: 'hub.register', id: `c${i}`, connection: connection() });
  const registerUs = ((await since(t)) * 1000) / n;

  t = performance.now();
  for (let i = 0; i < hubEvents; i++) {
    actor.send({ type: i % 2 ? 'hub.unsubscribe' : 'hub.subscribe', id: 'c0', topic: 'bench' });
  }
  const hubEventUs = ((await since(t)) * 1000) / hubEvents;

  received = 0;
  t = performance.now();
  for (let i = 0; i < broadcasts; i++) actor.send({ type: 'hub.broadcast', data: 'x' });
  const broadcastNsPerRecipient = ((await since(t)) * 1e6) / (broadcasts * n);
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
  const rounds = quick ? 1 : 3;
  const rows: Row[] = [];
  await measure(200, 'off', 200, 2); // warm-up: JIT, module loading
  for (const n of sizes) {
    // Modes interleaved, best of `rounds` per figure: on a shared machine the minimum is the least disturbed.
    const best = new Map<Mode, Row>();
    for (let round = 1; round <= rounds; round++) {
      for (const mode of modes) {
        // The stock client costs ~100× more per recipient: fewer broadcasts keep the run short.
        const row = await measure(
          n,
          mode,
          mode === 'stock' ? Math.ceil(hubEvents / 4) : hubEvents,
          mode === 'stock' ? Math.ceil(broadcasts / 4) : broadcasts,
        );
        const prev = best.get(mode);
        best.set(
          mode,
          prev
            ? {
                n,
                mode,
                registerUs: Math.min(prev.registerUs, row.registerUs),
                hubEventUs: Math.min(prev.hubEventUs, row.hubEventUs),
                broadcastNsPerRecipient: Math.min(prev.broadcastNsPerRecipient, row.broadcastNsPerRecipient),
              }
            : row,
        );
        process.stderr.write(`inspector bench: N=${n} ${mode} round ${round}/${rounds} done\n`);
      }
    }
    rows.push(...modes.map((m) => best.get(m)!));
  }
  const f = (x: number, d = 1): string => x.toFixed(d).padStart(10);
  const lines = [
    `inspector overhead (${process.version}, best of ${rounds}; ${hubEvents} hub events and ${broadcasts} broadcasts to all N, a quarter of each for stock; fake writers, relay in process)`,
    `${'N'.padStart(6)} ${'inspector'.padEnd(9)} ${'register µs/client'.padStart(19)} ${'hub event µs'.padStart(13)} ${'broadcast ns/recipient'.padStart(23)}`,
    ...rows.map(
      (r) =>
        `${String(r.n).padStart(6)} ${r.mode.padEnd(9)} ${f(r.registerUs).padStart(19)} ${f(r.hubEventUs).padStart(13)} ${f(r.broadcastNsPerRecipient, 0).padStart(23)}`,
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
