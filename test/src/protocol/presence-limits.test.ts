import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { presencePage } from '../../../machines/topic-index.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { startHub, whenCount, type Harness } from '../../support/ws-client.js';
import type { HubOptions } from '../../../src/types.js';

/**
 * docs/security.md#presence: presence could amplify (a 60-byte query on a 10k-member topic answered 449 KiB)
 * and enumerate (any client could list any topic's members, every id a direct send can reach).
 * Now: members only unless `canSeePresence` opens it, answers capped at a page with the total and
 * a cursor, and presence queries rate-limited (on by default).
 */

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const named: HubOptions = {
  protocol: 'json',
  authenticate: (req) => ({ id: new URL(req.url ?? '/', 'http://h').searchParams.get('id') ?? undefined }),
};

async function join(h: Harness, id: string, topic?: string): Promise<JsonClient> {
  const { client } = await connectJson(`${h.url}?id=${id}`);
  if (topic !== undefined) expect(await client.call({ type: 'subscribe', topic })).toMatchObject({ type: 'ack' });
  return client;
}

type Page = { topic: string; members: { id: string }[]; total: number; cursor?: string };
const pageOf = (frame: { type: string; result?: unknown }): Page => {
  expect(frame.type).toBe('ack');
  return frame.result as Page;
};

describe('presence: members only by default', () => {
  it('a member lists the topic; an outsider gets forbidden and learns no id', async () => {
    harness = await startHub(named);
    const member = await join(harness, 'ann', 'room');
    await join(harness, 'bob', 'room');
    const outsider = await join(harness, 'eve');
    expect(pageOf(await member.call({ type: 'presence', topic: 'room' })).members.map((m) => m.id)).toEqual([
      'ann',
      'bob',
    ]);
    const refused = await outsider.call({ type: 'presence', topic: 'room' });
    expect(refused).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'only members may see the presence of "room"',
    });
    expect(JSON.stringify(refused)).not.toContain('ann');
  });

  it('canSeePresence opens it (sync or async); its refusal is forbidden too', async () => {
    harness = await startHub({
      ...named,
      canSeePresence: async (client, topic) => client.id === 'auditor' || topic.startsWith('public:'),
    });
    await join(harness, 'ann', 'room');
    await join(harness, 'ann2', 'public:lobby');
    const auditor = await join(harness, 'auditor');
    const eve = await join(harness, 'eve');
    expect(pageOf(await auditor.call({ type: 'presence', topic: 'room' })).total).toBe(1);
    expect(pageOf(await eve.call({ type: 'presence', topic: 'public:lobby' })).total).toBe(1);
    expect(await eve.call({ type: 'presence', topic: 'room' })).toMatchObject({ type: 'error', code: 'forbidden' });
  });
});

describe('presence: capped answers with a total and a cursor', () => {
  it('pages of at most presencePageSize, in id order; following the cursor lists everyone exactly once', async () => {
    harness = await startHub({ ...named, topics: { presencePageSize: 4 } });
    const ids = Array.from({ length: 11 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    const clients = [];
    for (const id of ids) clients.push(await join(harness, id, 'big'));
    await whenCount(harness.hub, (n) => n === ids.length);
    const asker = clients[5]!;

    const first = pageOf(await asker.call({ type: 'presence', topic: 'big' }));
    expect(first).toEqual({
      topic: 'big',
      total: 11,
      cursor: 'm03',
      members: ['m00', 'm01', 'm02', 'm03'].map((id) => ({ id })),
    });
    // A larger limit is capped at the page size; a smaller one is honoured.
    expect(pageOf(await asker.call({ type: 'presence', topic: 'big', limit: 1000 })).members).toHaveLength(4);
    expect(pageOf(await asker.call({ type: 'presence', topic: 'big', limit: 2 })).members).toHaveLength(2);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = pageOf(await asker.call({ type: 'presence', topic: 'big', ...(cursor ? { cursor } : {}) }));
      seen.push(...page.members.map((m) => m.id));
      if (page.cursor === undefined) break;
      cursor = page.cursor;
    }
    expect(seen).toEqual(ids);
  });

  it('a bad limit or cursor is invalid_frame, answered with its ref', async () => {
    harness = await startHub(named);
    const c = await join(harness, 'ann', 'room');
    for (const bad of [{ limit: 0 }, { limit: 1.5 }, { limit: '5' }, { cursor: '' }, { cursor: 7 }])
      expect(await c.call({ type: 'presence', topic: 'room', ...bad })).toMatchObject({ type: 'error' });
  });
});

describe('presence queries count in the rate limits', () => {
  it('beyond the presence burst: rate_limited with the ref, then 1008; other commands are unaffected until then', async () => {
    harness = await startHub({
      ...named,
      closeTimeoutMs: 200,
      // Nothing refills during the test, whatever the machine's load.
      rateLimit: { presenceQueriesPerSec: 0.001, presenceQueriesBurst: 3, maxViolations: 2 },
    });
    const c = await join(harness, 'ann', 'room');
    for (let i = 0; i < 3; i++)
      expect(await c.call({ type: 'presence', topic: 'room' })).toMatchObject({ type: 'ack' });
    for (let i = 0; i < 2; i++)
      expect(await c.call({ type: 'presence', topic: 'room' })).toMatchObject({
        type: 'error',
        code: 'rate_limited',
        message: 'rate limit exceeded (0.001 presence queries/s): query dropped',
      });
    expect(await c.call({ type: 'ping' })).toMatchObject({ type: 'ack' }); // not a presence query
    c.send({ type: 'presence', topic: 'room', ref: 'last' });
    expect(await c.raw.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    expect(harness.hub.stats.rateLimited).toBe(3);
    expect(harness.hub.stats.rateLimitCloses).toBe(1);
  });
});

describe('presencePage (pure)', () => {
  it('pages through any member set in id order, each member once, with the right total', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 9 }),
        (ids, split, limit) => {
          const local = new Map(ids.slice(0, split).map((id) => [id, { n: id }] as const));
          const remote = new Map(ids.slice(split).map((id) => [id, undefined] as const));
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let i = 0; i <= ids.length; i++) {
            const page = presencePage([local, remote], cursor, limit);
            expect(page.total).toBe(ids.length);
            expect(page.members.length).toBeLessThanOrEqual(limit);
            for (const m of page.members) expect(m.meta).toEqual(local.has(m.id) ? { n: m.id } : undefined);
            seen.push(...page.members.map((m) => m.id));
            if (page.cursor === undefined) break;
            cursor = page.cursor;
          }
          expect(seen).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        },
      ),
    );
  });
});
