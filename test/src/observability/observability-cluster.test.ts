import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, memoryBroker } from '../../../src/cluster/broker/memory.js';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson } from '../../support/json-client.js';

/** Two hubs on one in-memory bus, each with the standalone routes: the cluster side of metrics and the API. */
const KEY = 'cluster-key-0123456789';
let nodes: RoutedHub[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

async function twoNodes() {
  const bus = createMemoryBus();
  for (let i = 0; i < 2; i++) {
    nodes.push(
      await startRoutedHub(
        {
          generateId: (
            (k) => () =>
              `n${i}c${k++}`
          )(0),
          cluster: { broker: memoryBroker(bus), nodeId: `node${i}` },
        },
        { api: { apiKey: KEY } },
      ),
    );
  }
  return nodes as [RoutedHub, RoutedHub];
}

const post = (node: RoutedHub, path: string, body: unknown) =>
  fetch(`${node.base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

/** Resolves when the hub's state satisfies the predicate (an event, not a sleep). */
const when = (node: RoutedHub, ok: () => boolean) =>
  new Promise<void>((resolve) => {
    if (ok()) return resolve();
    const sub = node.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

describe('observability in a cluster', () => {
  it('broker metrics appear: state, up, nodes heard from', async () => {
    const [n0] = await twoNodes();
    await when(n0, () => (n0.hub.clusterStats()?.nodes.length ?? 0) === 1);
    const m = await n0.scrape();
    expect(m.get('actorhub_broker_up')).toBe(1);
    expect(m.get('actorhub_broker_state', { state: 'up', kind: 'memory' })).toBe(1);
    expect(m.get('actorhub_broker_state', { state: 'down', kind: 'memory' })).toBe(0);
    expect(m.get('actorhub_cluster_nodes')).toBe(1);
    expect(m.types.get('actorhub_broker_dropped_total')).toBe('counter');
  });

  it('the API counts recipients here (delivered) and on the other node (forwarded), and it reaches the other node', async () => {
    const [n0, n1] = await twoNodes();
    const local = await connectJson(n0.ws);
    const remote = await connectJson(n1.ws);
    await local.client.call({ type: 'subscribe', topic: 'room' });
    await remote.client.call({ type: 'subscribe', topic: 'room' });
    await when(n0, () => n0.hub.members('room').length === 2);

    expect(await post(n0, '/api/publish', { topic: 'room', data: 'hi' })).toEqual({
      status: 200,
      body: { delivered: 1, forwarded: 1 },
    });
    expect(await remote.client.next('message')).toEqual({ type: 'message', topic: 'room', data: 'hi' });
    expect(await local.client.next('message')).toEqual({ type: 'message', topic: 'room', data: 'hi' });

    // A client on the other node: routed there, none delivered here.
    expect(await post(n0, '/api/send', { to: remote.id, data: 'dm' })).toEqual({
      status: 200,
      body: { delivered: 0, forwarded: 1 },
    });
    expect(await remote.client.next('message')).toEqual({ type: 'message', data: 'dm' });
    expect(await post(n0, '/api/send', { to: local.id, data: 'dm' })).toEqual({
      status: 200,
      body: { delivered: 1, forwarded: 0 },
    });
    // A broadcast: the local client here, the remote one forwarded.
    expect(await post(n0, '/api/publish', { data: 'all' })).toEqual({
      status: 200,
      body: { delivered: 1, forwarded: 1 },
    });
    expect((await post(n0, '/api/send', { to: 'nowhere', data: 1 })).status).toBe(404);
  });
});
