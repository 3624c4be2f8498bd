/**
 * The hub under the churn soak, a child process of bench/soak.ts (forked with an IPC
 * channel and --expose-gc). It runs a real hub on a real http.Server and answers
 * `{ type: 'census' }` with everything that could leak, counted from the inside: registered
 * clients, topics, live actors in the XState system, scheduled XState timers, the process's
 * active handles by kind, listener counts on the server and the process, open sockets, memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub } from '../../src/hub.js';
import type { HubStats } from '../../src/observability/stats.js';

interface Census {
  registered: number;
  topics: number;
  actorsAlive: number;
  actorsCreated: number;
  xstateTimers: number;
  resources: Record<string, number>;
  handles: string[];
  serverListeners: number;
  processListeners: number;
  serverSockets: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  stats: Record<string, number>;
}

// Node creates process.stdout/stderr lazily, on first use by anyone: create them now, so the
// baseline census already holds them and a one-time creation is not mistaken for a leak.
void process.stdout;
void process.stderr;

const config = JSON.parse(process.argv[2] ?? '{}') as { pingIntervalMs: number; pongWaitMs: number };
const hub = createHub({
  protocol: 'json',
  pingIntervalMs: config.pingIntervalMs,
  pongWaitMs: config.pongWaitMs,
  closeTimeoutMs: 1_000,
  logger: { error: (o, m) => console.error(m, o), warn() {}, info() {}, debug() {} },
});

// Every actor the system registers from now on (client actors and their writers), and whether it is still there.
const system = hub.actor.system as unknown as {
  _register(sessionId: string, ref: unknown): string;
  _unregister(ref: { sessionId: string }): void;
  _snapshot: { _scheduledEvents: Record<string, unknown> };
};
const alive = new Set<string>();
let created = 0;
const register = system._register.bind(system);
const unregister = system._unregister.bind(system);
system._register = (sessionId, ref) => {
  created++;
  alive.add(sessionId);
  return register(sessionId, ref);
};
system._unregister = (ref) => {
  alive.delete(ref.sessionId);
  unregister(ref);
};

const server = http.createServer((_req, res) => res.writeHead(404).end());
hub.attach(server);

const countBy = (items: readonly string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
};
const listeners = (emitter: NodeJS.EventEmitter): number =>
  emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);

async function census(gc: boolean): Promise<Census> {
  if (gc && typeof global.gc === 'function') {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const serverSockets = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
  const memory = process.memoryUsage();
  return {
    registered: hub.size,
    topics: hub.topics().length,
    actorsAlive: alive.size,
    actorsCreated: created,
    xstateTimers: Object.keys(system._snapshot._scheduledEvents).length,
    resources: countBy(process.getActiveResourcesInfo()),
    handles: (
      process as unknown as {
        _getActiveHandles(): { constructor: { name: string }; fd?: number; _handle?: { fd?: number } }[];
      }
    )
      ._getActiveHandles()
      .map((h) => `${h.constructor.name}:${h.fd ?? h._handle?.fd ?? '?'}`),
    serverListeners: listeners(server),
    processListeners: listeners(process),
    serverSockets,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    stats: flatStats(hub.stats),
  };
}

process.on('message', (message: { type: string; gc?: boolean }) => {
  if (message.type === 'census')
    void census(message.gc === true).then((c) => process.send?.({ type: 'census', census: c }));
  if (message.type === 'close') {
    void hub.close({ timeoutMs: 1_000 }).then(() => {
      server.close();
      process.disconnect();
    });
  }
});

server.listen(0, '127.0.0.1', () =>
  process.send?.({ type: 'listening', port: (server.address() as AddressInfo).port }),
);

export type { Census };

/** The plain counters only (rejectedByStatus is a map of its own). */
function flatStats(stats: Readonly<HubStats>): Record<string, number> {
  const { rejectedByStatus: _byStatus, ...flat } = stats;
  return flat;
}
