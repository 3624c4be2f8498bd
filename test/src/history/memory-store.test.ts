import { describe, expect, it } from 'vitest';
import { memoryHistory } from '../../../src/history/memory.js';
import type { HistorySettings, HistoryStore } from '../../../src/history/store.js';
import { topicMatcher } from '../../../src/history/topics.js';
import { describeHistoryConformance } from '../../support/history-conformance.js';

// One process: stores that share a key are one store (the same instance, as every caller of one hub).
const shared = new Map<string, { store: HistoryStore; settings: HistorySettings }>();
describeHistoryConformance('memory', {
  make: async (settings, key) => {
    if (!shared.has(key)) shared.set(key, { store: memoryHistory({ ...settings, maxStreams: 1000 }), settings });
    const current = () => shared.get(key)!.store;
    return {
      kind: 'memory',
      synchronous: true,
      append: (t, m) => current().append(t, m),
      position: (t) => current().position(t),
      read: (t, o) => current().read(t, o),
      stats: () => current().stats(),
      close: async () => undefined,
    };
  },
  // A restart of the hub process: a new store instance, nothing kept.
  lose: async (key) => {
    const { settings } = shared.get(key)!;
    shared.set(key, { store: memoryHistory({ ...settings, maxStreams: 1000 }), settings });
  },
});

describe('memory history store: bounds', () => {
  it('a stream lives ttlMs after its last append; then its epoch ends and offsets restart', () => {
    let now = 1_000;
    const s = memoryHistory({ size: 10, ttlMs: 500, maxStreams: 10, now: () => now });
    const a = s.append('t', { data: '1' });
    now += 400;
    expect(s.append('t', { data: '2' })).toEqual({ epoch: a.epoch, offset: 2 }); // refreshed
    now += 499;
    expect(s.position('t')).toEqual({ epoch: a.epoch, offset: 2 });
    now += 1;
    const b = s.position('t');
    expect(b.offset).toBe(0);
    expect(b.epoch).not.toBe(a.epoch);
    expect(s.stats()).toMatchObject({ streams: 1, messages: 0, expired: 1 });
  });

  it('holds at most maxStreams streams, dropping the least recently published; counts messages and bytes', () => {
    const s = memoryHistory({ size: 3, ttlMs: 60_000, maxStreams: 2 });
    const a = s.append('a', { data: '"aaaa"' });
    s.append('b', { data: '1' });
    s.append('a', { data: '2' }); // a is now the most recent
    s.append('c', { data: '3' }); // evicts b
    expect(s.stats()).toMatchObject({ streams: 2, messages: 3, evicted: 1 });
    expect(s.position('a')).toEqual({ epoch: a.epoch, offset: 2 });
    for (let i = 0; i < 10; i++) s.append('a', { data: 'x' });
    expect(s.stats().messages).toBe(4); // 3 kept of a, 1 of c
    expect(s.stats().bytes).toBeGreaterThan(0);
    const before = s.stats().bytes!;
    s.append('a', { data: 'y'.repeat(1000) });
    expect(s.stats().bytes! - before).toBe(999); // replaced a 1-byte message with a 1000-byte one
  });

  it('positions asked for made-up topics never evict a stream with messages; placeholders have their own cap', () => {
    const s = memoryHistory({ size: 3, ttlMs: 60_000, maxStreams: 2 });
    const a = s.append('a', { data: '1' });
    const b = s.append('b', { data: '2' });
    // Anyone may subscribe to any topic: a thousand made-up ones, each asking for a position.
    for (let i = 0; i < 1000; i++) expect(s.position(`made-up-${i}`).offset).toBe(0);
    s.read('made-up-x', { limit: 10 });
    expect(s.position('a')).toEqual({ epoch: a.epoch, offset: 1 });
    expect(s.read('b', { after: 0, limit: 10 })).toMatchObject({ epoch: b.epoch, messages: [{ offset: 1 }] });
    expect(s.stats()).toMatchObject({ messages: 2, streams: 4, evicted: 999 });

    // A placeholder still keeps the epoch it gave out when its first message arrives.
    const early = s.position('later');
    expect(s.append('later', { data: '3' })).toEqual({ epoch: early.epoch, offset: 1 });
    // That append is a real stream: it may evict the least recently published one (a), as before.
    expect(s.stats()).toMatchObject({ messages: 2, evicted: 1001 }); // one more placeholder, and a
    expect(s.position('a').epoch).not.toBe(a.epoch);
  });

  it('an empty placeholder expires ttlMs after it was created, like a stream', () => {
    let now = 0;
    const s = memoryHistory({ size: 3, ttlMs: 500, maxStreams: 2, now: () => now });
    const p = s.position('t');
    now += 499;
    expect(s.position('t')).toEqual(p);
    now += 1;
    expect(s.position('t').epoch).not.toBe(p.epoch);
    expect(s.stats()).toMatchObject({ streams: 1, expired: 1 });
  });

  it('topic patterns: exact names and prefix*; none or * means every topic', () => {
    const m = topicMatcher(['news', 'chat:*']);
    expect([m('news'), m('news2'), m('chat:1'), m('chat'), m('other')]).toEqual([true, false, true, false, false]);
    expect(topicMatcher(undefined)('x')).toBe(true);
    expect(topicMatcher(['*'])('x')).toBe(true);
  });
});
