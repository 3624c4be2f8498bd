import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisHistory } from '../../src/history/redis.js';
import { describeHistoryConformance } from '../support/history-conformance.js';
import { REDIS_URL, requireService } from './services.js';
import { uniquePrefix } from '../support/hub-process.js';

beforeAll(() => requireService('Redis', REDIS_URL));

/** Deletes the keys this test created (its own random prefix): never anything else on the shared Redis. */
async function deleteOwn(prefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:h:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

const prefixes = new Set<string>();
afterAll(async () => {
  for (const p of prefixes) await deleteOwn(p);
});

describeHistoryConformance('redis', {
  make: async (settings, shared) => {
    prefixes.add(shared);
    return redisHistory({ url: REDIS_URL, prefix: shared, nodeId: `n${prefixes.size}`, ...settings });
  },
  // What a FLUSHALL or a restart without persistence does to this cluster's streams.
  lose: (shared) => deleteOwn(shared),
});

/**
 * The two keys of a stream can go one without the other (each has its own TTL; an
 * eviction takes one). Before, losing the hash left the stream: the next XADD under the reset
 * counter failed after HSET had run, so every publish was `unavailable` until the counter passed
 * the old top, and reads under the new epoch then returned the old entries. Losing the stream
 * kept the epoch over a hole. Either is now a new epoch from 0, with nothing of the old one.
 */
describe('Redis history: one of a stream’s two keys lost', () => {
  for (const lost of ['the hash (epoch and counter)', 'the stream (the entries)'] as const) {
    it(`${lost}: a new epoch from offset 0, none of the old entries, publishes accepted`, async () => {
      const prefix = `${uniquePrefix('hp')}${lost.length}`;
      prefixes.add(prefix);
      const store = await redisHistory({ url: REDIS_URL, prefix, nodeId: 'n1', size: 10, ttlMs: 60_000 });
      const admin = new Redis(REDIS_URL);
      try {
        for (let i = 1; i <= 5; i++) await store.append('room', { data: String(i) });
        const before = await store.position('room');
        expect(before.offset).toBe(5);
        await admin.del(lost.startsWith('the hash') ? `${prefix}:h:{room}:m` : `${prefix}:h:{room}:s`);

        const first = await store.append('room', { data: '"new"' });
        expect(first.epoch).not.toBe(before.epoch);
        expect(first.offset).toBe(1);
        const page = await store.read('room', { after: 0, limit: 10 });
        expect(page).toMatchObject({ epoch: first.epoch, offset: 1, first: 1 });
        expect(page.messages).toEqual([{ offset: 1, data: '"new"' }]);
        expect(store.stats().failed).toBe(0);
      } finally {
        admin.disconnect();
        await store.close();
      }
    });

    it(`${lost}, then a read first: a new epoch at offset 0 that the first publish keeps`, async () => {
      const prefix = `${uniquePrefix('hr')}${lost.length}`;
      prefixes.add(prefix);
      const store = await redisHistory({ url: REDIS_URL, prefix, nodeId: 'n1', size: 10, ttlMs: 60_000 });
      const admin = new Redis(REDIS_URL);
      try {
        for (let i = 1; i <= 5; i++) await store.append('room', { data: String(i) });
        const before = await store.position('room');
        await admin.del(lost.startsWith('the hash') ? `${prefix}:h:{room}:m` : `${prefix}:h:{room}:s`);

        const page = await store.read('room', { after: 0, limit: 10 });
        expect(page.epoch).not.toBe(before.epoch);
        expect(page).toMatchObject({ offset: 0, messages: [] });
        expect(await store.append('room', { data: '"new"' })).toEqual({ epoch: page.epoch, offset: 1 });
      } finally {
        admin.disconnect();
        await store.close();
      }
    });
  }
});
