import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, BrokerState } from '../../../src/cluster/broker/broker.js';
import { createMemoryBus, memoryBroker, type MemoryBus } from '../../../src/cluster/broker/memory.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { startHub, whenCount, type Harness } from '../../support/ws-client.js';

/**
 * Presence convergence (docs/scaling.md#convergence) on the in-memory bus: a broker wrapper that
 * loses everything while cut, as a network cut does, and nodes restarted under the same id. The
 * node timeout is far away (10 s), so only the resync mechanism can make the nodes agree.
 */
function lossy(inner: Broker) {
  let cut = false;
  let handler: (channel: string, payload: string) => void = () => undefined;
  const listeners: ((s: BrokerState) => void)[] = [];
  inner.onMessage((channel, payload) => {
    if (!cut) handler(channel, payload);
  });
  const broker: Broker = {
    kind: 'lossy',
    get state() {
      return cut ? 'down' : 'up';
    },
    dropped: 0,
    publish: (channel, payload) => {
      if (!cut) inner.publish(channel, payload);
    },
    subscribe: (channel) => inner.subscribe(channel),
    unsubscribe: (channel) => inner.unsubscribe(channel),
    onMessage: (h) => void (handler = h),
    onState: (h) => void listeners.push(h),
    ready: () => inner.ready(),
    close: () => inner.close(),
  };
  return {
    broker,
    set(down: boolean): void {
      cut = down;
      for (const l of listeners) l(down ? 'down' : 'up');
    },
  };
}

let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

const timing = { heartbeatMs: 20, nodeTimeoutMs: 10_000 };

async function node(bus: MemoryBus, nodeId: string, broker: Broker = memoryBroker(bus)): Promise<Harness> {
  const h = await startHub({ protocol: 'json', presenceEvents: true, cluster: { broker, nodeId, ...timing } });
  nodes.push(h);
  return h;
}

async function member(h: Harness, topic = 'room'): Promise<{ client: JsonClient; id: string }> {
  const joined = await connectJson(h.url);
  await joined.client.call({ type: 'subscribe', topic });
  return joined;
}

/** Resolves when the node's presence of the topic is exactly `ids` (hub events, not sleeps). */
const whenPresence = (h: Harness, ids: string[], topic = 'room') =>
  new Promise<void>((resolve) => {
    const ok = () => JSON.stringify(h.hub.members(topic).sort()) === JSON.stringify([...ids].sort());
    if (ok()) return resolve();
    const sub = h.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

describe('presence converges', () => {
  it('after a cut shorter than the node timeout, with a leave and a join on each side during it', async () => {
    const bus = createMemoryBus();
    const link = lossy(memoryBroker(bus));
    const [a, b] = [await node(bus, 'A', link.broker), await node(bus, 'B')];
    const [a1, a2, b1] = [await member(a), await member(a), await member(b)];
    await whenPresence(b, [a1.id, a2.id, b1.id]);
    await whenPresence(a, [a1.id, a2.id, b1.id]);

    link.set(true);
    a2.client.raw.ws.close();
    await whenCount(a.hub, (n) => n === 1);
    const a3 = await member(a);
    b1.client.raw.ws.close();
    await whenCount(b.hub, (n) => n === 0);
    const b2 = await member(b);
    link.set(false);

    // Both sides end up with exactly who is there, without waiting for the node timeout.
    await whenPresence(b, [a1.id, a3.id, b2.id]);
    await whenPresence(a, [a1.id, a3.id, b2.id]);
    expect(a.hub.clusterStats()!.syncRequests).toBeGreaterThan(0);
    // A send to the client that left is refused, to the newcomer delivered.
    expect(await b2.client.call({ type: 'send', to: a2.id, data: 'x' })).toMatchObject({ code: 'unknown_client' });
    expect(await b2.client.call({ type: 'send', to: a3.id, data: 'hi' })).toMatchObject({
      result: { delivered: 0, forwarded: 1 },
    });
    expect(await a3.client.next('message')).toMatchObject({ data: 'hi' });
  });

  it('when a node restarts under the same id: the old incarnation’s clients leave at once', async () => {
    const bus = createMemoryBus();
    const firstBroker = memoryBroker(bus);
    const first = await node(bus, 'R', firstBroker);
    const b = await node(bus, 'B');
    const [old, b1] = [await member(first), await member(b)];
    await whenPresence(b, [old.id, b1.id]);
    // A crash: the process is gone without a goodbye (its broker connection just ends), and a new
    // process starts with the same node id well within the node timeout.
    await firstBroker.close();
    const again = await node(bus, 'R');
    const fresh = await member(again);
    await whenPresence(b, [b1.id, fresh.id]);
    expect(await b1.client.next('left')).toMatchObject({ client: { id: old.id } });
  });
});
