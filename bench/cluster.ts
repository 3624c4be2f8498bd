/**
 * The cross-node scenario's processes: two actorhub nodes started with the CLI exactly as a
 * user does (`--redis URL` or `--nats URL`, a fresh `--cluster-prefix` per run, `--node-id`),
 * the broker checked before, and the nodes seen by each other before the first message.
 */
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterSetup } from './plan.js';
import { PEERS } from './peers.js';

const PROBE_TIMEOUT_MS = 2_000;
const CLUSTER_TIMEOUT_MS = 15_000;

/** Throws a full sentence when nothing listens at the broker's host and port. */
export async function probeBroker(setup: Exclude<ClusterSetup, 'single'>, url: string): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (setup === 'redis' ? 6379 : 4222));
  const host = u.hostname || '127.0.0.1';
  const ok = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port });
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (!ok) {
    const name = setup === 'redis' ? 'Redis' : 'NATS';
    throw new Error(
      `${name} is not reachable at ${url}: start it, pass --${setup} URL, or leave the scenario out (--only fanout,latency,idle,churn,ops)`,
    );
  }
}

/** The CLI arguments of one node: actorhub's own, plus the cluster flags. */
export function nodeArgs(
  setup: Exclude<ClusterSetup, 'single'>,
  url: string,
  prefix: string,
  nodeId: string,
): string[] {
  const actorhub = PEERS.find((p) => p.id === 'actorhub')!;
  return [...actorhub.args, `--${setup}`, url, '--cluster-prefix', prefix, '--node-id', nodeId];
}

interface ClusterView {
  readonly nodes: readonly string[];
  readonly broker: { readonly state: string; readonly dropped: number };
}

export function clusterStats(port: number): Promise<ClusterView> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/stats', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          const cluster = (JSON.parse(body) as { cluster?: ClusterView }).cluster;
          if (!cluster) throw new Error(`/stats on port ${port} has no "cluster": ${body.slice(0, 200)}`);
          resolve(cluster);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('/stats timed out')));
    req.on('error', reject);
  });
}

/** Waits until every node lists every other one and its broker is up. */
export async function waitForCluster(nodes: readonly { readonly port: number; readonly id: string }[]): Promise<void> {
  const deadline = performance.now() + CLUSTER_TIMEOUT_MS;
  let last = '';
  while (performance.now() < deadline) {
    const views = await Promise.all(nodes.map((n) => clusterStats(n.port)));
    const ready = views.every(
      (v, i) => v.broker.state === 'up' && nodes.every((n, j) => j === i || v.nodes.includes(n.id)),
    );
    if (ready) return;
    last = views.map((v, i) => `${nodes[i]!.id} sees [${v.nodes.join(', ')}], broker ${v.broker.state}`).join('; ');
    await sleep(50);
  }
  throw new Error(`the nodes did not see each other within ${CLUSTER_TIMEOUT_MS} ms: ${last}`);
}
