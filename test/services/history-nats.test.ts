import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsHistory, natsHistoryStream } from '../../src/history/nats.js';
import { describeHistoryConformance } from '../support/history-conformance.js';
import { deleteHistoryStream } from '../support/nats-history.js';
import { NATS_URL, requireService } from './services.js';

beforeAll(() => requireService('NATS', NATS_URL));

const deleteOwn = (prefix: string): Promise<void> => deleteHistoryStream(NATS_URL, prefix);

const prefixes = new Set<string>();
afterAll(async () => {
  for (const p of prefixes) await deleteOwn(p);
});

describeHistoryConformance('nats', {
  make: async (settings, shared) => {
    prefixes.add(shared);
    return natsHistory({ url: NATS_URL, prefix: shared, nodeId: `n${prefixes.size}`, ...settings });
  },
  // What deleting the stream (or losing the server's JetStream store) does to this cluster's topics.
  lose: (shared) => deleteOwn(shared),
});

/** Two nodes' stores on one fresh prefix (deleted after the file), 10 kept per topic, and the prefix; `b` takes `bOptions`. */
async function twoNodes(tag: string, bOptions: { stallMs?: number } = {}) {
  const shared = `${tag}-${process.pid}-${Date.now().toString(36)}`;
  prefixes.add(shared);
  const settings = { url: NATS_URL, prefix: shared, size: 10, ttlMs: 60_000 };
  return [
    await natsHistory({ ...settings, nodeId: 'a' }),
    await natsHistory({ ...settings, nodeId: 'b', ...bOptions }),
    shared,
  ] as const;
}

describe('NATS history: a burst is stored as few records', () => {
  it('pipelined publishes keep their order and offsets; readers see the newest `size`, wherever the records split', async () => {
    const [a, b] = await twoNodes('hb');
    try {
      const heard: number[] = [];
      b.onStored!((n) => heard.push(n.offset));
      const at = await b.position('burst'); // the notifications start after this
      const offsets = await Promise.all(
        Array.from({ length: 25 }, (_, i) => a.append('burst', { from: 'c', data: JSON.stringify({ i }) })),
      );
      expect(offsets).toEqual(Array.from({ length: 25 }, (_, i) => ({ epoch: at.epoch, offset: i + 1 })));
      const page = await b.read('burst', { after: 0, limit: 100 });
      expect(page).toMatchObject({ epoch: at.epoch, offset: 25, first: 16 });
      expect(page.messages).toEqual(
        Array.from({ length: 10 }, (_, i) => ({ offset: 16 + i, from: 'c', data: JSON.stringify({ i: 15 + i }) })),
      );
      // The read answered once b's consumer had passed all of it: every offset heard once, in order.
      expect(heard).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('NATS history: notifications resume when the ordered consumer stalls', () => {
  it('a node whose consumer stopped delivering starts a new one after the last record it handed over', async () => {
    const [a, b, shared] = await twoNodes('hs', { stallMs: 500 });
    const nc = await connect({ servers: NATS_URL });
    try {
      const heard: number[] = [];
      let waiting: { offset: number; resolve: () => void } | undefined;
      b.onStored!((n) => {
        heard.push(n.offset);
        if (waiting && n.offset >= waiting.offset) waiting.resolve();
      });
      const hear = (offset: number): Promise<void> =>
        new Promise((resolve) => {
          waiting = { offset, resolve };
          if (heard.includes(offset)) resolve();
        });
      const at = await b.position('t');
      await a.append('t', { data: '1' });
      await hear(1);
      // The consumer b reads through disappears under it: nats.js notices only after two missed
      // idle heartbeats (30 s with consume()'s defaults, past this test's timeout), the same
      // stall as after the reset that follows a stale connection under a saturated event loop.
      const jsm = await jetstreamManager(nc);
      const consumers = await jsm.consumers.list(natsHistoryStream(shared)).next();
      expect(consumers.length).toBeGreaterThan(0);
      for (const c of consumers) await jsm.consumers.delete(natsHistoryStream(shared), c.name);
      const positions = await Promise.all([2, 3, 4].map((i) => a.append('t', { data: String(i) })));
      expect(positions.map((p) => p.offset)).toEqual([2, 3, 4]);
      await hear(4);
      // Resumed after the last record it handed over: nothing lost, nothing twice, in order.
      expect(heard).toEqual([1, 2, 3, 4]);
      expect(at.offset).toBe(0);
    } finally {
      await nc.close();
      await Promise.all([a.close(), b.close()]);
    }
  }, 15_000);
});
