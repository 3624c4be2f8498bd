import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { natsBroker } from '../../src/cluster/broker/nats.js';
import { redisBroker } from '../../src/cluster/broker/redis.js';
import { hubRoutes } from '../../src/server/http-routes.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { connect, startHub, whenCount, type Harness } from '../support/ws-client.js';
import { NATS_URL, REDIS_URL, requireService, whenBrokerState } from './services.js';

beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

let hubs: Harness[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(hubs.map((h) => h.stop()));
  hubs = [];
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** What /healthz would answer for this hub. */
function health(h: Harness): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve) => {
    const res = {
      statusCode: 0,
      body: '',
      setHeader() {},
      writeHead(s: number) {
        this.statusCode = s;
      },
      end(b: string) {
        resolve({ status: this.statusCode, body: JSON.parse(b) });
      },
    };
    hubRoutes(h.hub)({ url: '/healthz', method: 'GET', headers: { host: '127.0.0.1' } } as never, res as never);
  });
}

for (const [name, make, url] of [
  ['Redis', (u: string, nodeId: string) => redisBroker({ url: u, nodeId }), new URL(REDIS_URL)],
  ['NATS', (u: string, nodeId: string) => natsBroker({ url: u, nodeId }), new URL(NATS_URL)],
] as const) {
  describe(`${name} outage`, () => {
    it('the hub keeps serving local clients, reports degraded, reconnects, and cross-node traffic resumes', async () => {
      const proxy = await tcpProxy(url.hostname, Number(url.port));
      closers.push(proxy.close);
      const scheme = name === 'Redis' ? 'redis' : 'nats';
      const brokerA = await make(`${scheme}://127.0.0.1:${proxy.port}`, 'outA');
      const brokerB = await make(url.toString(), 'outB');
      const prefix = `outage${Date.now().toString(36)}`;
      const opts = { protocol: 'relay' as const, cluster: { prefix, heartbeatMs: 100, nodeTimeoutMs: 400 } };
      hubs.push(await startHub({ ...opts, cluster: { ...opts.cluster, broker: brokerA, nodeId: 'outA' } }));
      hubs.push(await startHub({ ...opts, cluster: { ...opts.cluster, broker: brokerB, nodeId: 'outB' } }));
      const [a1, a2] = [await connect(hubs[0]!.url), await connect(hubs[0]!.url)];
      const b1 = await connect(hubs[1]!.url);
      await whenCount(hubs[0]!.hub, (n) => n === 2);
      expect((await health(hubs[0]!)).body).toEqual({ status: 'ok' });

      proxy.cut();
      await whenBrokerState(brokerA, 'down');
      expect(await health(hubs[0]!)).toEqual({ status: 200, body: { status: 'degraded', broker: 'down' } });
      // Local clients are still served while the broker is down.
      a1.send('local while down');
      await a2.received(1);
      expect(a2.texts).toEqual(['local while down']);
      expect(brokerA.dropped).toBeGreaterThanOrEqual(1); // what could not reach the cluster was counted, not queued

      await whenBrokerState(brokerA, 'up');
      await brokerA.ready();
      expect((await health(hubs[0]!)).body).toEqual({ status: 'ok' });
      // After the reconnect, cross-node traffic flows again (retry: resubscription is asynchronous).
      for (let i = 0; i < 50 && b1.messages.length === 0; i++) {
        a1.send(`after ${i}`);
        await Promise.race([b1.received(1), new Promise((r) => setTimeout(r, 100))]);
      }
      expect(b1.texts[0]).toMatch(/^after \d+$/);
      expect(b1.texts).not.toContain('local while down'); // at-most-once: the outage's message is lost, not replayed
    });
  });
}
