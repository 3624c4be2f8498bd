import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/cluster/broker/broker.js';
import { natsBroker } from '../../src/cluster/broker/nats.js';
import { redisBroker } from '../../src/cluster/broker/redis.js';
import { connectJson } from '../support/json-client.js';
import { eventually } from '../support/eventually.js';
import { startHub, type Harness } from '../support/ws-client.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';
import { uniquePrefix } from '../support/hub-process.js';

/**
 * A node's state larger than one broker message, over the real brokers (docs/reliability.md item 14; the in-memory
 * version is test/src/cluster/sync-parts.test.ts). On NATS a single message may not exceed the
 * server's max_payload (1 MiB by default): a whole-state sync of a few MB was refused at publish,
 * so a node joining later never learnt the big node's clients. It now goes in 256 KiB parts.
 */
beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

const CLIENTS = 12;
/** 12 × 400 KB = 4.8 MB of state: over NATS's 1 MiB max_payload, each client's own entry under it. */
const META_BYTES = 400_000;

for (const [name, broker] of [
  ['Redis', (nodeId: string) => redisBroker({ url: REDIS_URL, nodeId })],
  ['NATS', (nodeId: string) => natsBroker({ url: NATS_URL, nodeId })],
] as [string, (nodeId: string) => Promise<Broker>][]) {
  describe(`a sync larger than one message over ${name}`, () => {
    it('a node that joins later learns all the big node’s clients; nothing dropped', async () => {
      const prefix = uniquePrefix('sp');
      const timing = { heartbeatMs: 200, nodeTimeoutMs: 30_000, prefix };
      const big = await startHub({
        protocol: 'json',
        authenticate: () => ({ meta: { blob: 'x'.repeat(META_BYTES) } }),
        cluster: { broker: await broker('big'), nodeId: 'big', ...timing },
      });
      nodes.push(big);
      const ids: string[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        const { client, id } = await connectJson(big.url);
        await client.call({ type: 'subscribe', topic: 'room' });
        ids.push(id);
      }
      const late = await startHub({
        protocol: 'json',
        cluster: { broker: await broker('late'), nodeId: 'late', ...timing },
      });
      nodes.push(late);
      // The late node's start asks for everyone's state; heartbeats would ask again if a part were lost.
      await eventually(() => late.hub.members('room').length === CLIENTS, 15_000, `late node lists ${CLIENTS} members`);
      expect(late.hub.members('room').sort()).toEqual([...ids].sort());
      expect(late.hub.clusterStats()?.malformed).toBe(0);
      expect(big.hub.clusterStats()?.broker.dropped).toBe(0);
    }, 60_000);
  });
}
