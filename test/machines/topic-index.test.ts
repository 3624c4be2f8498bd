import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopicIndex } from '../../machines/topic-index.js';

type Op =
  | { kind: 'add'; client: string; topic: string }
  | { kind: 'remove'; client: string; topic: string }
  | { kind: 'disconnect'; client: string };

const client = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const topic = fc.constantFrom('t1', 't2', 't3', 'room/x', 'room/y');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), client, topic }),
  fc.record({ kind: fc.constant('remove' as const), client, topic }),
  fc.record({ kind: fc.constant('disconnect' as const), client }),
);

/** Both directions agree, no empty topic is kept, and the index equals a naive model. */
function checkAgainst(index: TopicIndex, model: Map<string, Set<string>>): void {
  const topics = new Map([...index.topics()]);
  for (const [t, size] of topics) {
    expect(size).toBeGreaterThan(0);
    expect(index.memberCount(t)).toBe(size);
    for (const id of index.members(t).keys()) expect(index.topicsOf(id).has(t)).toBe(true);
  }
  const expected = new Map<string, number>();
  for (const [id, ts] of model) {
    expect(new Set(index.topicsOf(id))).toEqual(ts);
    for (const t of ts) {
      expect(index.has(id, t)).toBe(true);
      expected.set(t, (expected.get(t) ?? 0) + 1);
    }
  }
  expect(topics).toEqual(expected);
  expect(index.topicCount).toBe(expected.size);
}

describe('TopicIndex', () => {
  it('any sequence of subscribe/unsubscribe/disconnect keeps both directions consistent, with no empty topic left', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const index = new TopicIndex();
        const model = new Map<string, Set<string>>();
        for (const o of ops) {
          const mine = model.get(o.client) ?? new Set<string>();
          if (o.kind === 'add') {
            expect(index.add(o.client, o.topic, { by: o.client })).toBe(!mine.has(o.topic));
            model.set(o.client, mine.add(o.topic));
          } else if (o.kind === 'remove') {
            expect(index.remove(o.client, o.topic)).toBe(mine.has(o.topic));
            mine.delete(o.topic);
            if (mine.size === 0) model.delete(o.client);
          } else {
            expect(new Set(index.removeClient(o.client))).toEqual(mine);
            model.delete(o.client);
          }
          checkAgainst(index, model);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps each member’s presence metadata', () => {
    const index = new TopicIndex();
    index.add('a', 'room', { name: 'Ann' });
    index.add('b', 'room', { name: 'Bob' });
    expect([...index.members('room')]).toEqual([
      ['a', { name: 'Ann' }],
      ['b', { name: 'Bob' }],
    ]);
  });

  it('answers for unknown topics and clients without creating them', () => {
    const index = new TopicIndex();
    expect(index.members('nope').size).toBe(0);
    expect(index.topicsOf('nobody').size).toBe(0);
    expect(index.remove('nobody', 'nope')).toBe(false);
    expect(index.removeClient('nobody')).toEqual([]);
    expect(index.topicCount).toBe(0);
  });
});
