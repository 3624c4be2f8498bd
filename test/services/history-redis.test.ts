import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redisHistory } from '../../src/history/redis.js';
import { describeHistoryConformance } from '../support/history-conformance.js';
import { REDIS_URL, requireService } from './services.js';

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
