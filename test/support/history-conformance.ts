import { afterEach, describe, expect, it } from 'vitest';
import type { HistorySettings, HistoryStore } from '../../src/history/store.js';

export interface HistoryStoreFactory {
  /**
   * A store, as one node sees it. Calls with the same `shared` key are nodes of one cluster (they
   * share streams); a store engine with a single process ignores it and shares by instance.
   */
  make(settings: HistorySettings, shared: string): Promise<HistoryStore>;
  /** Loses the streams of `shared` the way the engine can (flush, restart, delete); absent: not tested. */
  lose?(shared: string): Promise<void>;
}

let seq = 0;

/** The guarantees written on src/history/store.ts, checked against one engine. */
export function describeHistoryConformance(name: string, factory: HistoryStoreFactory): void {
  describe(`History store conformance: ${name}`, () => {
    const open: HistoryStore[] = [];
    const store = async (settings: HistorySettings, shared: string) => {
      const s = await factory.make(settings, shared);
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    const key = () => `hc-${process.pid}-${Date.now().toString(36)}-${++seq}`;
    const topic = () => `t${++seq}:x`;
    const settings = { size: 100, ttlMs: 60_000 };

    it('a new topic stands at offset 0 of an epoch that its first append keeps; offsets then grow by 1', async () => {
      const s = await store(settings, key());
      const t = topic();
      const start = await s.position(t);
      expect(start.offset).toBe(0);
      expect(typeof start.epoch).toBe('string');
      expect(await s.position(t)).toEqual(start);
      for (let i = 1; i <= 5; i++)
        expect(await s.append(t, { from: 'c1', data: `"m${i}"` })).toEqual({ epoch: start.epoch, offset: i });
      const page = await s.read(t, { after: 0, limit: 100 });
      expect(page).toMatchObject({ epoch: start.epoch, offset: 5, first: 1 });
      expect(page.messages).toEqual([1, 2, 3, 4, 5].map((i) => ({ offset: i, from: 'c1', data: `"m${i}"` })));
    });

    it('keeps the newest `size`; reads a page forward after an offset, or the newest `limit`', async () => {
      const s = await store({ size: 10, ttlMs: 60_000 }, key());
      const t = topic();
      for (let i = 1; i <= 25; i++) await s.append(t, { data: String(i) });
      const all = await s.read(t, { after: 0, limit: 100 });
      expect(all.first).toBe(16);
      expect(all.messages.map((m) => m.offset)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      expect(all.messages[0]).toEqual({ offset: 16, data: '16' });
      expect((await s.read(t, { after: 18, limit: 3 })).messages.map((m) => m.offset)).toEqual([19, 20, 21]);
      expect((await s.read(t, { limit: 2 })).messages.map((m) => m.offset)).toEqual([24, 25]);
      expect((await s.read(t, { after: 25, limit: 5 })).messages).toEqual([]);
      expect((await s.read(t, { after: 40, limit: 5 })).messages).toEqual([]);
    });

    it('appends from several nodes at once: every offset exactly once, no gap, each node’s order kept', async () => {
      const k = key();
      const nodes = [await store(settings, k), await store(settings, k), await store(settings, k)];
      const t = topic();
      const per = 30;
      const results = await Promise.all(
        nodes.map((s, n) =>
          Promise.all(Array.from({ length: per }, (_, i) => s.append(t, { from: `n${n}`, data: `"${n}-${i}"` }))),
        ),
      );
      const offsets = results.flat().map((p) => p.offset);
      expect(new Set(offsets).size).toBe(nodes.length * per);
      expect(Math.min(...offsets)).toBe(1);
      expect(Math.max(...offsets)).toBe(nodes.length * per);
      expect(new Set(results.flat().map((p) => p.epoch)).size).toBe(1);
      // Each node's appends got increasing offsets in the order it made them.
      for (const r of results)
        expect(r.map((p) => p.offset)).toEqual([...r.map((p) => p.offset)].sort((a, b) => a - b));
      const page = await nodes[1]!.read(t, { after: 0, limit: 100 });
      expect(page.messages.map((m) => m.offset)).toEqual(Array.from({ length: nodes.length * per }, (_, i) => i + 1));
      for (let n = 0; n < nodes.length; n++) {
        const mine = page.messages.filter((m) => m.from === `n${n}`).map((m) => m.data);
        expect(mine).toEqual(Array.from({ length: per }, (_, i) => `"${n}-${i}"`));
      }
    });

    it('at the seam: reads racing appends return contiguous runs, and chained reads see every offset once', async () => {
      const k = key();
      const [writer, reader] = [await store(settings, k), await store(settings, k)];
      const t = topic();
      const total = 60;
      const writing = Promise.all(Array.from({ length: total }, (_, i) => writer.append(t, { data: String(i) })));
      const seen: number[] = [];
      let after = 0;
      while (after < total) {
        const page = await reader.read(t, { after, limit: 7 });
        const offsets = page.messages.map((m) => m.offset);
        expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => after + 1 + i));
        expect(page.offset).toBeGreaterThanOrEqual(after + offsets.length);
        seen.push(...offsets);
        after += offsets.length;
        if (offsets.length === 0) await Promise.race([writing, new Promise((r) => setImmediate(r))]);
      }
      await writing;
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    });

    if (factory.lose) {
      const lose = factory.lose;
      it('when the streams are lost, the epoch changes and offsets count from 0 again', async () => {
        const k = key();
        const s = await store(settings, k);
        const t = topic();
        await s.append(t, { data: '1' });
        const before = await s.append(t, { data: '2' });
        await lose(k);
        const after = await s.position(t);
        expect(after.epoch).not.toBe(before.epoch);
        expect(after.offset).toBe(0);
        expect(await s.append(t, { data: '3' })).toEqual({ epoch: after.epoch, offset: 1 });
      });
    }
  });
}
