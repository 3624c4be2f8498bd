import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../../src/cluster/broker/broker.js';
import { createMemoryBus, memoryBroker } from '../../../src/cluster/broker/memory.js';
import { MAX_ENVELOPE_BYTES, SYNC_PART_BYTES } from '../../../src/limits.js';
import { connectJson } from '../../support/json-client.js';
import { startHub, type Harness } from '../../support/ws-client.js';

/**
 * docs/reliability.md item 14: a node's whole state (its `sync` reply) was one broker message. Past the envelope
 * bound (16 MiB) every other node dropped it as malformed, so a node joining later, or one
 * resyncing after a cut, never learnt the big node's clients. The state now goes in parts of
 * about SYNC_PART_BYTES (docs/scaling.md#convergence), applied together.
 */
let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

/** Every payload this broker publishes, by size, and a hook called after each delivery. */
function recording(inner: Broker) {
  const sizes: number[] = [];
  const syncParts: number[] = [];
  let after: () => void = () => undefined;
  const broker: Broker = {
    ...inner,
    kind: inner.kind,
    get state() {
      return inner.state;
    },
    get dropped() {
      return inner.dropped;
    },
    publish: (channel, payload) => {
      sizes.push(payload.length);
      if (payload.startsWith('{"k":"sync"')) syncParts.push(payload.length);
      inner.publish(channel, payload);
    },
    onMessage: (h) =>
      inner.onMessage((channel, payload) => {
        h(channel, payload);
        after();
      }),
  };
  return { broker, sizes, syncParts, afterEach: (f: () => void) => void (after = f) };
}

const CLIENTS = 48;
/**
 * Metadata per client: 48 × 400 KB = 19.2 MB of state, more than the 16 MiB envelope bound (each
 * client's own under the 512 KiB a client's metadata may have, src/admission/client-meta.ts).
 */
const META_BYTES = 400_000;

describe('a sync larger than one broker message', () => {
  it('a node with 19 MB of presence state is learnt whole by a node that joins later; no message over the bound', async () => {
    const bus = createMemoryBus();
    const timing = { heartbeatMs: 50, nodeTimeoutMs: 30_000 };
    const a = recording(memoryBroker(bus));
    const big = await startHub({
      protocol: 'json',
      authenticate: () => ({ meta: { blob: 'x'.repeat(META_BYTES) } }),
      cluster: { broker: a.broker, nodeId: 'big', ...timing },
    });
    nodes.push(big);
    const ids: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const { client, id } = await connectJson(big.url);
      await client.call({ type: 'subscribe', topic: 'room' });
      ids.push(id);
    }

    const b = recording(memoryBroker(bus));
    // Settles on B's first delivery that completes the picture, or that B had to drop.
    let late!: Harness;
    const outcome = new Promise<string>((resolve) =>
      b.afterEach(() => {
        if (!late) return;
        const malformed = late.hub.clusterStats()?.malformed ?? 0;
        if (malformed > 0) resolve(`B dropped ${malformed} message(s) as malformed`);
        else if (late.hub.members('room').length === CLIENTS) resolve('converged');
      }),
    );
    late = await startHub({ protocol: 'json', cluster: { broker: b.broker, nodeId: 'late', ...timing } });
    nodes.push(late);

    expect(await outcome).toBe('converged');
    expect(late.hub.members('room').sort()).toEqual([...ids].sort());
    expect(late.hub.clusterStats()?.malformed).toBe(0);
    // What went out: several parts, none over the bound (each about SYNC_PART_BYTES, or one client's entry).
    expect(a.syncParts.length).toBeGreaterThan(1);
    expect(Math.max(...a.sizes)).toBeLessThanOrEqual(MAX_ENVELOPE_BYTES);
    expect(Math.max(...a.syncParts)).toBeLessThanOrEqual(Math.max(SYNC_PART_BYTES, META_BYTES + 200));
    expect(a.syncParts.reduce((x, y) => x + y, 0)).toBeGreaterThan(MAX_ENVELOPE_BYTES);
  }, 60_000);
});
