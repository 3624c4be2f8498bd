/**
 * The publish scenario: the product's default path, a JSON `publish` to a topic of N
 * subscribers, measured like the relay fan-out (bench/load/fanout.ts: one publisher, at most
 * `window` messages in flight, deliveries/s over a fixed window after a warm-up; server pinned
 * to core 0, generator to core 1). Every server gets the same kind of publish from a publisher
 * client and fans it out to the N subscribers of one topic:
 *  - raw ws: the JSON publish frame, forwarded as is to every other client (the Node floor);
 *  - socket.io rooms: a `publish` event, sent on with `io.to(room).emit`;
 *  - actorhub (the CLI, JSON protocol): history off, on in memory, on over Redis or NATS on one
 *    node (the cluster path: every publish through the broker's store and back), and on over
 *    Redis with two nodes (publisher on node 1, subscribers half on each).
 * bench/run.ts runs it as part of `npm run bench`; bench/history.ts runs it alone with recovery
 * and memory.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats } from '@nats-io/transport-node';
import { natsHistoryStream } from '../src/history/nats.js';
import { clusterStats, probeBroker, waitForCluster } from './cluster.js';
import { runGenerator, startServer, type Server } from './harness.js';
import { publishServer, TOPIC, type Brokers, type PublishSettings, type PublishVariant } from './publish-servers.js';
import type { FanoutJob, FanoutResult, Target } from './types.js';

/**
 * One run: the variant's server(s) (every node on core 0), then the generator (core 1). Throws
 * a full sentence when its broker is not reachable.
 */
export async function executePublish(
  root: string,
  variant: PublishVariant,
  n: number,
  s: Omit<PublishSettings, 'sizes' | 'variants'>,
  opts: {
    readonly brokers: Brokers;
    readonly prefix: string;
    readonly counters: 'raw' | 'lib';
    readonly clkTck: number;
  },
  core: (c: number) => number | undefined,
): Promise<{ result: FanoutResult; brokerDropped?: number }> {
  const server = publishServer(variant);
  if (server.broker)
    await probeBroker(server.broker, server.broker === 'redis' ? opts.brokers.redis : opts.brokers.nats);
  const servers: Server[] = [];
  try {
    for (let node = 0; node < server.nodes; node++)
      servers.push(
        await startServer(
          root,
          { id: `${server.label} node ${node + 1}`, args: server.args(opts.brokers, opts.prefix, node) },
          core(0),
        ),
      );
    if (servers.length === 2)
      await waitForCluster(servers.map((sv, i) => ({ port: sv.port, id: `bench-node-${i + 1}` })));
    const target = (sv: Server): Target => ({
      port: sv.port,
      path: server.path,
      wire: server.wire,
      serverPid: sv.pid,
      clkTck: opts.clkTck,
    });
    const job: FanoutJob = {
      scenario: 'fanout',
      target: target(servers[0]!),
      ...(servers[1] ? { second: target(servers[1]) } : {}),
      recipients: n,
      checkers: s.checkers,
      payload: s.payload,
      window: s.window,
      warmupMs: s.warmupMs,
      measureMs: s.measureMs,
      counters: opts.counters,
      topic: { name: TOPIC, join: server.join, welcome: server.welcome },
    };
    const result = await runGenerator(root, job, core(1));
    if (result.scenario !== 'fanout') throw new Error(`the generator answered a ${result.scenario} result`);
    if (!server.broker) return { result };
    const dropped = (await Promise.all(servers.map((sv) => clusterStats(sv.port)))).reduce(
      (sum, v) => sum + v.broker.dropped,
      0,
    );
    return { result, brokerDropped: dropped };
  } finally {
    await Promise.all(servers.map((sv) => sv.stop()));
    // The shared NATS keeps a history stream after its messages expire: delete this run's own.
    if (server.broker === 'nats') await deleteNatsStream(opts.brokers.nats, opts.prefix);
  }
}

async function deleteNatsStream(url: string, prefix: string): Promise<void> {
  const nc = await connectNats({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.delete(natsHistoryStream(prefix)).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
