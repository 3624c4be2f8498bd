import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/cluster/broker/broker.js';
import { createMemoryBus, memoryBroker } from '../../../src/cluster/broker/memory.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { startHub, whenCount, type Harness } from '../../support/ws-client.js';

/** Three hubs in one process on one in-memory bus: the cluster logic without a service. */
let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

async function cluster(n = 3, extra: { presenceEvents?: boolean; timeouts?: boolean } = {}) {
  const bus = createMemoryBus();
  const brokers: Broker[] = [];
  for (let i = 0; i < n; i++) {
    const broker = memoryBroker(bus);
    brokers.push(broker);
    nodes.push(
      await startHub({
        protocol: 'json',
        presenceEvents: extra.presenceEvents ?? true,
        generateId: (
          (k) => () =>
            `n${i}c${k++}`
        )(0),
        cluster: { broker, nodeId: `node${i}`, ...(extra.timeouts ? { heartbeatMs: 20, nodeTimeoutMs: 100 } : {}) },
      }),
    );
  }
  return { brokers };
}

async function client(node: Harness): Promise<JsonClient> {
  const before = node.hub.size;
  const { client } = await connectJson(node.url);
  await whenCount(node.hub, (c) => c === before + 1);
  return client;
}

/** Resolves when the node's view of the cluster satisfies the predicate (events, not sleeps). */
const whenSeen = (node: Harness, ok: () => boolean) =>
  new Promise<void>((resolve) => {
    if (ok()) return resolve();
    const sub = node.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

describe('a cluster of three hubs', () => {
  it('broadcasts from any node reach clients on every node', async () => {
    await cluster();
    const [a, b, c] = [await client(nodes[0]!), await client(nodes[1]!), await client(nodes[2]!)];
    nodes[1]!.hub.broadcast({ hello: 'all' });
    for (const x of [a, b, c]) expect(await x.next('message')).toEqual({ type: 'message', data: { hello: 'all' } });
  });

  it('publish reaches subscribers on every node, never the sender; except holds across nodes', async () => {
    await cluster(3, { presenceEvents: false });
    const [a, b, c] = [await client(nodes[0]!), await client(nodes[1]!), await client(nodes[2]!)];
    for (const x of [a, b, c]) await x.call({ type: 'subscribe', topic: 'room' });
    await whenSeen(nodes[0]!, () => nodes[0]!.hub.members('room').length === 3);
    // The ack counts b and c as forwarded (on other nodes), none delivered here: not a failure.
    expect(await a.call({ type: 'publish', topic: 'room', data: 'from a' })).toMatchObject({
      type: 'ack',
      result: { delivered: 0, forwarded: 2 },
    });
    expect(await b.next('message')).toEqual({ type: 'message', topic: 'room', from: 'n0c0', data: 'from a' });
    expect(await c.next('message')).toMatchObject({ from: 'n0c0', data: 'from a' });
    nodes[2]!.hub.publish('room', 'not for b', { except: 'n1c0' });
    expect(await a.next('message')).toMatchObject({ data: 'not for b' });
    expect(await c.next('message')).toMatchObject({ data: 'not for b' });
    // a must not have had its own message, b not the excepted one: a marker arrives next.
    nodes[0]!.hub.publish('room', 'marker');
    expect(await b.next('message')).toMatchObject({ data: 'marker' });
    expect(b.frames.filter((f) => f.type === 'message').map((f) => (f as { data: unknown }).data)).toEqual([
      'from a',
      'marker',
    ]);
    expect(a.frames.filter((f) => f.type === 'message').map((f) => (f as { data: unknown }).data)).toEqual([
      'not for b',
      'marker',
    ]);
  });

  it('a direct send to a client on another node is routed to that node', async () => {
    await cluster();
    const [a, , c] = [await client(nodes[0]!), await client(nodes[1]!), await client(nodes[2]!)];
    await whenSeen(nodes[0]!, () => nodes[0]!.hub.actor.getSnapshot().context.remote.nodeOf('n2c0') === 'node2');
    expect(await a.call({ type: 'send', to: 'n2c0', data: 'psst' })).toMatchObject({
      type: 'ack',
      result: { delivered: 0, forwarded: 1 },
    });
    expect(await c.next('message')).toEqual({ type: 'message', from: 'n0c0', data: 'psst' });
    expect(await a.call({ type: 'send', to: 'nobody', data: 1 })).toMatchObject({ code: 'unknown_client' });
  });

  it('presence and joined/left are cluster-wide', async () => {
    await cluster();
    const [a, b] = [await client(nodes[0]!), await client(nodes[1]!)];
    await a.call({ type: 'subscribe', topic: 'lobby' });
    await b.call({ type: 'subscribe', topic: 'lobby' });
    expect(await a.next('joined')).toEqual({ type: 'joined', topic: 'lobby', client: { id: 'n1c0' } });
    await whenSeen(nodes[2]!, () => nodes[2]!.hub.presence('lobby').length === 2);
    expect(
      nodes[2]!.hub
        .presence('lobby')
        .map((m) => m.id)
        .sort(),
    ).toEqual(['n0c0', 'n1c0']);
    const c = await client(nodes[2]!);
    // Presence is for members (docs/security.md#presence): an outsider is refused, a member on a third node sees everyone.
    expect(await c.call({ type: 'presence', topic: 'lobby' })).toMatchObject({ type: 'error', code: 'forbidden' });
    await c.call({ type: 'subscribe', topic: 'lobby' });
    const presence = await c.call({ type: 'presence', topic: 'lobby' });
    expect((presence as { result: { members: { id: string }[]; total: number } }).result).toMatchObject({
      members: [{ id: 'n0c0' }, { id: 'n1c0' }, { id: 'n2c0' }],
      total: 3,
    });
    b.raw.ws.terminate();
    expect(await a.next('left')).toEqual({ type: 'left', topic: 'lobby', client: { id: 'n1c0' } });
    await whenSeen(nodes[2]!, () => nodes[2]!.hub.presence('lobby').length === 2); // n0c0 and c itself
  });

  it('a node receives a topic’s traffic only while it has local members in it', async () => {
    await cluster(2);
    let remotePublishesOnB = 0;
    const a = await client(nodes[0]!);
    const b = await client(nodes[1]!);
    nodes[1]!.hub.actor.system.inspect({
      next: (ev) => {
        if (ev.type === '@xstate.event' && ev.event.type === 'hub.remote.publish') remotePublishesOnB++;
      },
    });
    await a.call({ type: 'subscribe', topic: 't' });
    await a.call({ type: 'publish', topic: 't', data: 1, echo: true });
    await a.next('message');
    expect(remotePublishesOnB).toBe(0); // b has no member in t: the message never reached its node
    await b.call({ type: 'subscribe', topic: 't' });
    await whenSeen(nodes[0]!, () => nodes[0]!.hub.members('t').length === 2);
    await a.call({ type: 'publish', topic: 't', data: 2 });
    expect(await b.next('message')).toMatchObject({ data: 2 });
    expect(remotePublishesOnB).toBe(1);
  });

  it('a node that dies (no goodbye) leaves presence after the node timeout, with left events', async () => {
    const { brokers } = await cluster(2, { timeouts: true });
    const a = await client(nodes[0]!);
    const b = await client(nodes[1]!);
    await a.call({ type: 'subscribe', topic: 'room' });
    await b.call({ type: 'subscribe', topic: 'room' });
    await a.next('joined');
    // Simulate a crash: node1 vanishes from the bus without sending its clients' departures.
    await brokers[1]!.close();
    expect(await a.next('left')).toEqual({ type: 'left', topic: 'room', client: { id: 'n1c0' } });
    expect(nodes[0]!.hub.presence('room').map((m) => m.id)).toEqual(['n0c0']);
    expect(nodes[0]!.hub.clusterStats()?.nodes).toEqual([]);
  });

  it('a node that joins late learns the existing presence (sync)', async () => {
    const bus = createMemoryBus();
    nodes.push(
      await startHub({
        protocol: 'json',
        generateId: () => 'early',
        cluster: { broker: memoryBroker(bus), nodeId: 'first' },
      }),
    );
    const early = await client(nodes[0]!);
    await early.call({ type: 'subscribe', topic: 'news' });
    nodes.push(await startHub({ protocol: 'json', cluster: { broker: memoryBroker(bus), nodeId: 'second' } }));
    await whenSeen(nodes[1]!, () => nodes[1]!.hub.presence('news').length === 1);
    expect(nodes[1]!.hub.presence('news')).toEqual([{ id: 'early', meta: undefined }]);
  });
});
