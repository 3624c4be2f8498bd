import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, memoryBroker } from '../../../src/cluster/broker/memory.js';
import { API_MAX_DATA_DEPTH } from '../../../src/limits.js';
import { connectJson } from '../../support/json-client.js';
import { startHub, type Harness } from '../../support/ws-client.js';

let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

/** `[[[…0…]]]`: arrays nested `depth` deep. */
const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + '0' + ']'.repeat(depth));

/** Resolves once the node knows `n` members of the topic across the cluster (an event, not a sleep). */
const whenMembers = (node: Harness, topic: string, n: number) =>
  new Promise<void>((resolve) => {
    const ok = () => node.hub.members(topic).length === n;
    if (ok()) return resolve();
    const sub = node.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

describe('data nested deeper than the cluster decodes is refused on the socket', () => {
  it(`a publish or send nested ${API_MAX_DATA_DEPTH + 1} deep is invalid_data; ${API_MAX_DATA_DEPTH} reaches the other node`, async () => {
    const bus = createMemoryBus();
    for (const nodeId of ['one', 'two'])
      nodes.push(await startHub({ protocol: 'json', cluster: { broker: memoryBroker(bus), nodeId } }));
    const { client: publisher } = await connectJson(nodes[0]!.url);
    const { client: far, id: farId } = await connectJson(nodes[1]!.url);
    await far.call({ type: 'subscribe', topic: 'deep' });
    await whenMembers(nodes[0]!, 'deep', 1);

    const tooDeep = await publisher.call({ type: 'publish', topic: 'deep', data: nested(API_MAX_DATA_DEPTH + 1) });
    expect(tooDeep).toMatchObject({
      type: 'error',
      code: 'invalid_data',
      message: `data: nested deeper than ${API_MAX_DATA_DEPTH} levels`,
    });
    const send = await publisher.call({ type: 'send', to: farId, data: nested(API_MAX_DATA_DEPTH + 1) });
    expect(send).toMatchObject({ type: 'error', code: 'invalid_data' });

    const ok = await publisher.call({ type: 'publish', topic: 'deep', data: nested(API_MAX_DATA_DEPTH) });
    expect(ok).toMatchObject({ type: 'ack', result: { delivered: 0, forwarded: 1 } });
    // The first message the far client gets is the one at the limit: the deeper ones went nowhere.
    expect((await far.next('message')).data).toEqual(nested(API_MAX_DATA_DEPTH));
  });

  it('a cluster that decodes less deep lowers the bound with it', async () => {
    const bus = createMemoryBus();
    nodes.push(
      await startHub({ protocol: 'json', cluster: { broker: memoryBroker(bus), nodeId: 'one', maxEnvelopeDepth: 8 } }),
    );
    const { client } = await connectJson(nodes[0]!.url);
    expect(await client.call({ type: 'publish', topic: 't', data: nested(9) })).toMatchObject({
      code: 'invalid_data',
      message: 'data: nested deeper than 8 levels',
    });
    expect(await client.call({ type: 'publish', topic: 't', data: nested(8) })).toMatchObject({ type: 'ack' });
  });
});
