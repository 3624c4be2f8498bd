import { afterEach, describe, expect, it } from 'vitest';
import type { Broker, BrokerState } from '../../src/cluster/broker/broker.js';

export interface BrokerFactory {
  /** A new node's broker (each call is another node). */
  make(nodeId: string): Promise<Broker>;
  /** Drops this node's connection(s) on the server side, if the engine can lose one. */
  kill?(nodeId: string): Promise<void>;
}

/** Collects what a broker receives; `next(n)` resolves once n messages have arrived. */
function inbox(broker: Broker) {
  const got: [string, string][] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  broker.onMessage((channel, payload) => {
    got.push([channel, payload]);
    for (const w of waiters.splice(0)) (got.length >= w.n ? w.resolve : () => waiters.push(w))();
  });
  return {
    got,
    until: (n: number) =>
      got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

const when = (broker: Broker, wanted: BrokerState) =>
  new Promise<void>((resolve) =>
    broker.state === wanted ? resolve() : broker.onState((s) => s === wanted && resolve()),
  );

let seq = 0;

/** The guarantees written on src/cluster/broker/broker.ts, checked against one engine. */
export function describeBrokerConformance(name: string, factory: BrokerFactory): void {
  describe(`Broker conformance: ${name}`, () => {
    const open: Broker[] = [];
    const node = async (id: string) => {
      const b = await factory.make(id);
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });
    const channel = () => `conf-${process.pid}-${++seq}`;

    it('delivers a publication to a subscribed node, not to an unsubscribed one', async () => {
      const [a, b, c] = [await node(`a${seq}`), await node(`b${seq}`), await node(`c${seq}`)];
      const ch = channel();
      const inA = inbox(a);
      const inC = inbox(c);
      a.subscribe(ch);
      await a.ready();
      b.publish(ch, 'hello');
      await inA.until(1);
      expect(inA.got).toEqual([[ch, 'hello']]);
      expect(inC.got).toEqual([]);
      expect(a.state).toBe('up');
    });

    it('stops delivering after unsubscribe', async () => {
      const [a, b] = [await node(`a${seq}`), await node(`b${seq}`)];
      const [ch, marker] = [channel(), channel()];
      const inA = inbox(a);
      a.subscribe(ch);
      a.subscribe(marker);
      await a.ready();
      a.unsubscribe(ch);
      await a.ready();
      b.publish(ch, 'lost');
      b.publish(marker, 'after');
      await inA.until(1);
      expect(inA.got).toEqual([[marker, 'after']]);
    });

    it('keeps the order of one publisher on one channel', async () => {
      const [a, b] = [await node(`a${seq}`), await node(`b${seq}`)];
      const ch = channel();
      const inA = inbox(a);
      a.subscribe(ch);
      await a.ready();
      const sent = Array.from({ length: 500 }, (_, i) => `m${i}`);
      for (const m of sent) b.publish(ch, m);
      await inA.until(500);
      expect(inA.got.map(([, p]) => p)).toEqual(sent);
    });

    it('never delivers a node its own publications', async () => {
      const [a, b] = [await node(`a${seq}`), await node(`b${seq}`)];
      const ch = channel();
      const inA = inbox(a);
      a.subscribe(ch);
      b.subscribe(ch);
      await Promise.all([a.ready(), b.ready()]);
      a.publish(ch, 'own');
      b.publish(ch, 'theirs');
      await inA.until(1);
      expect(inA.got).toEqual([[ch, 'theirs']]);
    });

    it('carries payloads byte for byte (unicode, separators, 256 KiB)', async () => {
      const [a, b] = [await node(`a${seq}`), await node(`b${seq}`)];
      const ch = channel();
      const inA = inbox(a);
      a.subscribe(ch);
      await a.ready();
      const payloads = ['{"k":"p","d":"héllo ✓ 🚀"}', 'a|b|c\nd', 'x'.repeat(256 * 1024)];
      for (const p of payloads) b.publish(ch, p);
      await inA.until(3);
      expect(inA.got.map(([, p]) => p)).toEqual(payloads);
    });

    if (factory.kill) {
      const kill = factory.kill;
      it('after the server drops the connection: reports down, publishing drops without throwing, then reconnects and resubscribes', async () => {
        const id = `k${seq}`;
        const [a, b] = [await node(id), await node(`b${seq}`)];
        const ch = channel();
        const inA = inbox(a);
        a.subscribe(ch);
        await a.ready();
        const down = when(a, 'down');
        await kill(id);
        await down;
        expect(() => a.publish(ch, 'while down')).not.toThrow();
        await when(a, 'up');
        await a.ready();
        // The subscription is back: a publication now arrives (retry until the server has it).
        for (let i = 0; i < 50 && inA.got.length === 0; i++) {
          b.publish(ch, `after-${i}`);
          await Promise.race([inA.until(1), new Promise((r) => setTimeout(r, 100))]);
        }
        expect(inA.got[0]?.[1]).toMatch(/^after-/);
        expect(a.dropped).toBeGreaterThanOrEqual(1);
      });
    }
  });
}
