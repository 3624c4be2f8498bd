import { Redis } from 'ioredis';
import { redisBroker } from '../../src/cluster/broker/redis.js';
import { describeBrokerConformance } from '../support/broker-conformance.js';
import { REDIS_URL } from './services.js';
import { beforeAll } from 'vitest';
import { requireService } from './services.js';

beforeAll(() => requireService('Redis', REDIS_URL));

describeBrokerConformance('redis', {
  make: (nodeId) => redisBroker({ url: REDIS_URL, nodeId }),
  async kill(nodeId) {
    const admin = new Redis(REDIS_URL);
    try {
      // What a failover or a restart does to a client: the server closes both connections.
      for (const role of ['pub', 'sub'])
        await admin.client('KILL', 'SKIPME', 'yes', 'ID', await idOf(admin, `actorhub-${role}-${nodeId}`));
    } finally {
      admin.disconnect();
    }
  },
});

async function idOf(admin: Redis, name: string): Promise<string> {
  const list = (await admin.client('LIST')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = line && /(?:^|\s)id=(\d+)/.exec(line)?.[1];
  if (!id) throw new Error(`no Redis client named ${name}`);
  return id;
}
