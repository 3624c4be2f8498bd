import { afterAll } from 'vitest';
import { natsBroker } from '../../src/cluster/broker/nats.js';
import { describeBrokerConformance } from '../support/broker-conformance.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { NATS_URL } from './services.js';
import { beforeAll } from 'vitest';
import { requireService } from './services.js';

beforeAll(() => requireService('NATS', NATS_URL));

const target = new URL(NATS_URL);
const proxies = new Map<string, Awaited<ReturnType<typeof tcpProxy>>>();
afterAll(async () => {
  await Promise.all([...proxies.values()].map((p) => p.close()));
});

describeBrokerConformance('nats', {
  async make(nodeId) {
    // Every node goes through its own proxy, so one node's connection can be cut alone.
    const proxy = await tcpProxy(target.hostname, Number(target.port || 4222));
    proxies.set(nodeId, proxy);
    return natsBroker({ url: `nats://127.0.0.1:${proxy.port}`, nodeId });
  },
  async kill(nodeId) {
    proxies.get(nodeId)!.cut();
  },
});
