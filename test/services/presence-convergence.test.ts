import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/cluster/broker/broker.js';
import { natsBroker } from '../../src/cluster/broker/nats.js';
import { redisBroker } from '../../src/cluster/broker/redis.js';
import { connectJson, type JsonClient } from '../support/json-client.js';
import { clusterNode, spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { within } from '../support/eventually.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { startHub, whenCount, type Harness } from '../support/ws-client.js';
import { NATS_URL, REDIS_URL, requireService, whenBrokerState } from './services.js';

/**
 * docs/reliability.md item 13: presence converges after short outages and fast restarts, and shutdown does not
 * hang on an unreachable broker. Real Redis and NATS; cuts through test/support/tcp-proxy.ts.
 */
beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

let hubs: Harness[] = [];
let procs: HubProcess[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  procs = [];
  await Promise.all(hubs.map((h) => h.stop()));
  hubs = [];
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** Resolves when the hub's presence of `room` is exactly `ids` (hub events, not sleeps). */
const whenPresence = (h: Harness, ids: string[]) =>
  new Promise<void>((resolve) => {
    const ok = () => JSON.stringify(h.hub.members('room').sort()) === JSON.stringify([...ids].sort());
    if (ok()) return resolve();
    const sub = h.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

async function member(url: string): Promise<{ client: JsonClient; id: string }> {
  const joined = await connectJson(url);
  await joined.client.call({ type: 'subscribe', topic: 'room' });
  return joined;
}

const BROKERS = [
  ['Redis', 'redis', new URL(REDIS_URL), (url: string, nodeId: string) => redisBroker({ url, nodeId })],
  ['NATS', 'nats', new URL(NATS_URL), (url: string, nodeId: string) => natsBroker({ url, nodeId })],
] as const;

for (const [name, scheme, url, make] of BROKERS) {
  describe(`presence over ${name}`, () => {
    it('converges after a 1.5 s cut (shorter than the node timeout) with a leave and a join on each side', async () => {
      const proxy = await tcpProxy(url.hostname, Number(url.port));
      closers.push(proxy.close);
      const prefix = uniquePrefix('conv');
      const brokerA: Broker = await make(`${scheme}://127.0.0.1:${proxy.port}`, 'cA');
      const brokerB: Broker = await make(url.toString(), 'cB');
      // Default heartbeat; a node timeout far beyond the cut, so the timeout cannot be what heals it.
      const cluster = { prefix, heartbeatMs: 1_000, nodeTimeoutMs: 30_000 };
      const a = await startHub({ protocol: 'json', cluster: { ...cluster, broker: brokerA, nodeId: 'cA' } });
      const b = await startHub({ protocol: 'json', cluster: { ...cluster, broker: brokerB, nodeId: 'cB' } });
      hubs.push(a, b);
      const [a1, a2, b1] = [await member(a.url), await member(a.url), await member(b.url)];
      await within(10_000, 'initial presence on B', whenPresence(b, [a1.id, a2.id, b1.id]));
      await within(10_000, 'initial presence on A', whenPresence(a, [a1.id, a2.id, b1.id]));

      const cutStart = Date.now();
      const cut = proxy.block(1_500);
      await whenBrokerState(brokerA, 'down');
      a2.client.raw.ws.close(); // leaves during the cut
      await whenCount(a.hub, (n) => n === 1);
      const a3 = await member(a.url); // joins during the cut
      b1.client.raw.ws.close();
      await whenCount(b.hub, (n) => n === 0);
      const b2 = await member(b.url);
      await cut;
      await whenBrokerState(brokerA, 'up');
      const upAt = Date.now();
      await within(
        15_000,
        `B converging (B lists ${b.hub.members('room').join(',')})`,
        whenPresence(b, [a1.id, a3.id, b2.id]),
      );
      await within(
        15_000,
        `A converging (A lists ${a.hub.members('room').join(',')})`,
        whenPresence(a, [a1.id, a3.id, b2.id]),
      );
      const convergedAt = Date.now();
      // Sends follow: the one that left is unknown, the newcomer is reached.
      expect(await b2.client.call({ type: 'send', to: a2.id, data: 'x' })).toMatchObject({ code: 'unknown_client' });
      // a3 lives on the other node: the hub forwards through the broker (docs/protocol.md, `send`).
      expect(await b2.client.call({ type: 'send', to: a3.id, data: 'hi' })).toMatchObject({
        result: { delivered: 0, forwarded: 1 },
      });
      expect(await within(10_000, 'delivery to the newcomer', a3.client.next('message'))).toMatchObject({ data: 'hi' });
      console.log(
        `${name}: cut 1500 ms; broker down → up ${upAt - cutStart} ms; presence converged on both nodes ${convergedAt - upAt} ms after up; sync requests A ${a.hub.clusterStats()!.syncRequests}, B ${b.hub.clusterStats()!.syncRequests}`,
      );
    });

    it('drops a killed node’s clients as soon as it restarts under the same --node-id', async () => {
      const prefix = uniquePrefix('rst');
      const args = (id: string) => [
        ...clusterNode([`--${scheme}`, url.toString()], id, prefix, 20_000),
        '--presence-events',
        'true',
      ];
      const [n0, n1] = await Promise.all([spawnHub(args('k0')), spawnHub(args('k1'))]);
      procs.push(n0, n1);
      const a = await member(n0.url);
      const c = await member(n1.url);
      expect(await within(10_000, 'c joining, seen from n0', a.client.next('joined'))).toMatchObject({
        client: { id: c.id },
      });

      const killedAt = Date.now();
      await n1.kill(); // SIGKILL: no goodbye
      const again = await spawnHub(args('k1')); // a supervisor restarting it at once
      procs.push(again);
      // Well before the node timeout (20 s): the new incarnation's first message retires the old one.
      expect(await within(10_000, 'the dead incarnation’s client leaving', a.client.next('left'))).toEqual({
        type: 'left',
        topic: 'room',
        client: { id: c.id },
      });
      const elapsed = Date.now() - killedAt;
      const presence = (await a.client.call({ type: 'presence', topic: 'room' })) as {
        result: { members: { id: string }[] };
      };
      expect(presence.result.members.map((m) => m.id)).toEqual([a.id]);
      console.log(`${name}: kill -9 + restart with the same node id: left after ${elapsed} ms (node timeout 20000 ms)`);
    });

    for (const mode of ['refused', 'silent'] as const) {
      it(`SIGTERM while the broker is unreachable (${mode}) exits within the shutdown timeout`, async () => {
        const proxy = await tcpProxy(url.hostname, Number(url.port));
        closers.push(proxy.close);
        const hub = await spawnHub([
          `--${scheme}`,
          `${scheme}://127.0.0.1:${proxy.port}`,
          '--cluster-prefix',
          uniquePrefix('term'),
          '--shutdown-timeout',
          '2000',
        ]);
        procs.push(hub);
        const { client } = await connectJson(hub.url);
        if (mode === 'refused') {
          void proxy.block(); // reconnects refused until the end of the test
          // The node notices (degraded) before it is told to stop.
          await within(
            15_000,
            'degraded health',
            (async () => {
              for (;;) {
                const res = await fetch(`${hub.http}/healthz`);
                if (((await res.json()) as { status: string }).status === 'degraded') return;
                await new Promise((r) => setTimeout(r, 100));
              }
            })(),
          );
        } else {
          // Open but silent both ways (a dead path): the client still believes it is connected,
          // so its goodbye (QUIT / drain) is written and never answered.
          proxy.freeze();
        }
        const exited = new Promise<number | null>((resolve) => hub.proc.once('exit', (code) => resolve(code)));
        const sentAt = Date.now();
        hub.proc.kill('SIGTERM');
        expect((await client.raw.closed).code).toBe(1001);
        expect(await within(10_000, 'process exit after SIGTERM', exited)).toBe(0);
        console.log(
          `${name}: SIGTERM with the broker unreachable (${mode}) → exit 0 in ${Date.now() - sentAt} ms (shutdown timeout 2000 ms)`,
        );
      });
    }

    it('one client whose metadata a node cannot decode does not hide the rest of its node', async () => {
      const prefix = uniquePrefix('meta');
      const cluster = { prefix, heartbeatMs: 200, nodeTimeoutMs: 30_000 };
      // A admits metadata 6 deep (within its bound); B decodes only 4: the deep entry is one B must skip.
      const a = await startHub({
        protocol: 'json',
        authenticate: (req) => ({ meta: req.url?.includes('deep') ? [[[[[[]]]]]] : { name: 'ok' } }),
        cluster: { ...cluster, broker: await make(url.toString(), 'mA'), nodeId: 'mA' },
      });
      const b = await startHub({
        protocol: 'json',
        cluster: { ...cluster, broker: await make(url.toString(), 'mB'), nodeId: 'mB', maxEnvelopeDepth: 4 },
      });
      hubs.push(a, b);
      const deep = await member(`${a.url}?deep`);
      const [a2, b1] = [await member(a.url), await member(b.url)];
      // Before: every sync of A held the deep entry and was dropped whole; B never listed a2.
      await within(10_000, 'presence of A’s other client on B', whenPresence(b, [a2.id, b1.id]));
      await within(10_000, 'presence on A', whenPresence(a, [deep.id, a2.id, b1.id]));
      expect(b.hub.clusterStats()!.malformed).toBeGreaterThan(0);
      expect(await b1.client.call({ type: 'send', to: a2.id, data: 'hi' })).toMatchObject({
        result: { delivered: 0, forwarded: 1 },
      });
      expect(await within(10_000, 'the send crossing', a2.client.next('message'))).toMatchObject({ data: 'hi' });
    });
  });
}
