import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type GapInfo, type HubClient } from '../../../src/client/index.js';
import { PositionTracker } from '../../../src/client/position.js';
import { CLIENT_MAX_KNOWN_OFFSETS } from '../../../src/limits.js';
import { createMemoryBus, memoryBroker } from '../../../src/cluster/broker/memory.js';
import { memoryHistory } from '../../../src/history/memory.js';
import type { HistoryStore, StoredNotice } from '../../../src/history/store.js';
import { startHub, type Harness } from '../../support/ws-client.js';
import { reach, subscribed } from '../../support/client-states.js';

/**
 * Positions in a topic's history as a cluster orders things: a publish's ack comes from the
 * shared store's answer, its message from the store's notification, and the two travel apart.
 * A real hub (a one-node cluster on the in-process bus) over real sockets, with a store that
 * notifies by itself, like JetStream, and lets a test hold answers and notifications — the
 * orderings a network produces.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A shared-store stand-in: numbers like the in-memory store, answers and notifies asynchronously. */
function gatedStore() {
  const fresh = () => memoryHistory({ size: 1_000, ttlMs: 60_000, maxStreams: 100 });
  let inner = fresh();
  let listener: (notice: StoredNotice) => void = () => {};
  let holdNotices = false;
  let holdAnswers = false;
  const notices: StoredNotice[] = [];
  const answers: (() => void)[] = [];
  const store: HistoryStore = {
    kind: 'gated',
    synchronous: false,
    append(topic, m) {
      const position = inner.append(topic, m.from === undefined ? { data: m.data } : { from: m.from, data: m.data });
      const notice: StoredNotice = {
        topic,
        ...position,
        data: m.data,
        ...(m.from === undefined ? {} : { from: m.from }),
        ...(m.except === undefined ? {} : { except: m.except }),
      };
      // The answer (the publisher's ack) first, the notification (members' message) a turn later.
      setImmediate(() => (holdNotices ? notices.push(notice) : listener(notice)));
      if (!holdAnswers) return Promise.resolve(position);
      return new Promise((resolve) => answers.push(() => resolve(position)));
    },
    position: (topic) => Promise.resolve(inner.position(topic)),
    read: (topic, options) => Promise.resolve(inner.read(topic, options)),
    onStored: (l) => void (listener = l),
    stats: () => ({ failed: 0 }),
    close: () => Promise.resolve(),
  };
  return {
    store,
    /** Notifications wait (messages in flight to this node) until release(). */
    holdNotices: () => void (holdNotices = true),
    releaseNotices: () => {
      holdNotices = false;
      for (const n of notices.splice(0)) listener(n);
    },
    /** The held notifications never arrive (a broker that lost them). */
    loseNotices: () => {
      holdNotices = false;
      return notices.splice(0).length;
    },
    holdAnswers: () => void (holdAnswers = true),
    releaseAnswers: () => {
      holdAnswers = false;
      for (const a of answers.splice(0)) a();
    },
    heldAnswers: () => answers.length,
    /** The store lost everything (a flush, a restart): every stream starts again in a new epoch. */
    loseEverything: () => void (inner = fresh()),
  };
}

async function clusterHub(store: HistoryStore): Promise<Harness> {
  const h = await startHub({
    history: { size: 1_000, store },
    cluster: { broker: memoryBroker(createMemoryBus()), nodeId: 'n1' },
  });
  cleanups.push(() => h.stop());
  return h;
}

function client(url: string): HubClient {
  const c = createClient(url, { WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  cleanups.push(() => c.close());
  return c;
}

describe('positions in a cluster: acks and messages travel apart', () => {
  it('an own publish with echo, acked before its message arrives, is delivered once', async () => {
    const g = gatedStore();
    const h = await clusterHub(g.store);
    const a = client(h.url);
    const seen: string[] = [];
    const sub = a.subscribe('echo', (d, info) => seen.push(`message ${String(d)} @${info.offset}`));
    await subscribed(sub);
    g.holdNotices(); // the message is still on its way when the ack arrives
    const ack = await a.publish('echo', 'mine', { echo: true });
    seen.push(`ack @${ack.offset}`);
    expect(sub.position).toMatchObject({ offset: 0 }); // the ack does not move it: the message will come
    g.releaseNotices();
    await expect.poll(() => seen).toEqual(['ack @1', 'message mine @1']);
    expect(sub.position).toMatchObject({ offset: 1 });
    await a.publish('echo', 'again', { echo: true });
    await expect.poll(() => seen).toHaveLength(3);
    expect(seen[2]).toBe('message again @2');
  });

  it('an own publish without echo acked while others’ earlier messages are in flight: they still arrive', async () => {
    const g = gatedStore();
    const h = await clusterHub(g.store);
    const a = client(h.url);
    const other = client(h.url);
    const got: unknown[] = [];
    const gaps: GapInfo[] = [];
    const sub = a.subscribe('mirror', (d, info) => got.push([d, info.offset]));
    sub.on('gap', (gap) => gaps.push(gap));
    await Promise.all([subscribed(sub), reach(other, 'connected')]);
    g.holdNotices();
    await other.publish('mirror', 'o1'); // offset 1, on its way to a's node
    await expect(a.publish('mirror', 'a2')).resolves.toMatchObject({ offset: 2 });
    expect(sub.position).toMatchObject({ offset: 0 }); // 1 is still to come
    g.releaseNotices();
    await expect.poll(() => got).toEqual([['o1', 1]]);
    expect(sub.position).toMatchObject({ offset: 2 });
    await other.publish('mirror', 'o3');
    await expect
      .poll(() => got)
      .toEqual([
        ['o1', 1],
        ['o3', 3],
      ]);
    expect(gaps).toEqual([]);
  });

  it('live messages lost on the way (an offset jump): gap from the last position to the one before the next message', async () => {
    const g = gatedStore();
    const h = await clusterHub(g.store);
    const a = client(h.url);
    const other = client(h.url);
    const got: unknown[] = [];
    const events: unknown[] = [];
    const sub = a.subscribe('lossy', (d) => (got.push(d), events.push(['message', d])));
    sub.on('gap', (gap) => events.push(['gap', gap.from.offset, gap.to.offset]));
    await Promise.all([subscribed(sub), reach(other, 'connected')]);
    await other.publish('lossy', 'm1');
    await expect.poll(() => got).toEqual(['m1']);
    g.holdNotices();
    await other.publish('lossy', 'm2');
    await other.publish('lossy', 'm3');
    expect(g.loseNotices()).toBe(2);
    await other.publish('lossy', 'm4');
    await expect.poll(() => got).toEqual(['m1', 'm4']);
    expect(events).toEqual([
      ['message', 'm1'],
      ['gap', 1, 3],
      ['message', 'm4'],
    ]);
    expect(sub.position).toMatchObject({ offset: 4 });
  });

  it('the stream loses its continuity while the client stays connected: gap into the new epoch, then its messages', async () => {
    const g = gatedStore();
    const h = await clusterHub(g.store);
    const a = client(h.url);
    const other = client(h.url);
    const events: unknown[] = [];
    const sub = a.subscribe('epochs', (d, info) => events.push(['message', d, info.offset]));
    sub.on('gap', (gap) => events.push(['gap', gap.from.offset, gap.to.offset, gap.to.epoch !== gap.from.epoch]));
    await Promise.all([subscribed(sub), reach(other, 'connected')]);
    await other.publish('epochs', 'old');
    await expect.poll(() => events).toHaveLength(1);
    const before = sub.position!;
    g.loseEverything();
    await expect(other.publish('epochs', 'new')).resolves.toMatchObject({ offset: 1 });
    await expect.poll(() => events).toHaveLength(3);
    expect(events).toEqual([
      ['message', 'old', 1],
      ['gap', 1, 0, true],
      ['message', 'new', 1],
    ]);
    expect(sub.position).toMatchObject({ offset: 1 });
    expect(sub.position!.epoch).not.toBe(before.epoch);
  });

  it('a hole is not called lost while an own publish that could fill it is unanswered; then it is', async () => {
    const g = gatedStore();
    const h = await clusterHub(g.store);
    const a = client(h.url);
    const other = client(h.url);
    const got: unknown[] = [];
    const gaps: [number, number][] = [];
    const sub = a.subscribe('wait', (d) => got.push(d));
    sub.on('gap', (gap) => gaps.push([gap.from.offset, gap.to.offset]));
    await Promise.all([subscribed(sub), reach(other, 'connected')]);

    // a's publish is stored at 1 and its answer held; others' 2 arrives: the hole may be a's own.
    g.holdAnswers();
    const a1 = a.publish('wait', 'a1');
    await expect.poll(() => g.heldAnswers()).toBe(1);
    const o2 = other.publish('wait', 'o2');
    await expect.poll(() => got).toEqual(['o2']);
    expect(gaps).toEqual([]); // no verdict while a's publish is unanswered
    expect(sub.position).toMatchObject({ offset: 0 });
    g.releaseAnswers();
    await expect(a1).resolves.toMatchObject({ offset: 1 });
    await o2;
    expect(sub.position).toMatchObject({ offset: 2 });
    expect(gaps).toEqual([]);

    // The same shape, with others' 3 truly lost: decided once a's publish in flight is answered.
    g.holdNotices();
    await other.publish('wait', 'o3');
    expect(g.loseNotices()).toBe(1);
    g.holdAnswers();
    const a4 = a.publish('wait', 'a4');
    await expect.poll(() => g.heldAnswers()).toBe(1);
    const o5 = other.publish('wait', 'o5');
    await expect.poll(() => got).toEqual(['o2', 'o5']);
    expect(gaps).toEqual([]);
    g.releaseAnswers();
    await expect(a4).resolves.toMatchObject({ offset: 4 });
    await o5;
    expect(gaps).toEqual([[2, 3]]);
    expect(sub.position).toMatchObject({ offset: 5 });
  });
});

describe('PositionTracker on its own', () => {
  const tracker = (inFlight: [number, number] = [0, 0]) => {
    const gaps: [string, number, string, number][] = [];
    const t = new PositionTracker(
      () => inFlight,
      (g) => gaps.push([g.from.epoch, g.from.offset, g.to.epoch, g.to.offset]),
    );
    t.restart({ epoch: 'e1', offset: 10 });
    return { t, gaps, inFlight };
  };

  it('another epoch on a live message: a gap to just before it, then it is delivered in the new epoch', () => {
    const { t, gaps } = tracker();
    expect(t.message(11, 'e1')).toBe(true);
    expect(t.message(3, 'e2')).toBe(true);
    expect(gaps).toEqual([['e1', 11, 'e2', 2]]);
    expect(t.position).toEqual({ epoch: 'e2', offset: 3 });
    expect(t.message(3, 'e2')).toBe(false); // a duplicate in the new epoch
    expect(t.message(4, undefined)).toBe(true); // a frame without epoch: the current one
    expect(t.position).toEqual({ epoch: 'e2', offset: 4 });
  });

  it('own acks without echo ahead of a hole are held, bounded: beyond CLIENT_MAX_KNOWN_OFFSETS the oldest hole is given up', () => {
    const { t, gaps } = tracker();
    // 11 never comes; own publishes acked at 12, 13, … are known ahead of it.
    for (let k = 12; k < 12 + CLIENT_MAX_KNOWN_OFFSETS; k++) t.published(k, 0);
    expect(t.position).toEqual({ epoch: 'e1', offset: 10 });
    expect(gaps).toEqual([]);
    t.published(12 + CLIENT_MAX_KNOWN_OFFSETS, 0);
    expect(gaps).toEqual([['e1', 10, 'e1', 11]]);
    expect(t.position).toEqual({ epoch: 'e1', offset: 12 + CLIENT_MAX_KNOWN_OFFSETS });
  });

  it('a hole below a delivered message waits only for the publishes in flight when it arrived', () => {
    const state: [number, number] = [2, 7]; // two publishes in flight, the last numbered 7
    const { t, gaps } = tracker(state);
    expect(t.message(13, 'e1')).toBe(true); // 11 and 12 missing; two own publishes could be them
    expect(gaps).toEqual([]);
    t.published(undefined, 8); // sent after 13 arrived: it cannot be below it
    t.published(12, 6);
    expect(gaps).toEqual([]);
    t.published(undefined, 7); // the other was refused (or echoes): 11 is lost
    expect(gaps).toEqual([['e1', 10, 'e1', 11]]);
    expect(t.position).toEqual({ epoch: 'e1', offset: 13 });
  });

  it('a recovery keeps what is known above the position: its replayed copies are dropped', () => {
    const { t } = tracker();
    t.published(12, 0); // own, not echoed
    t.restart({ epoch: 'e1', offset: 10 }, true);
    expect(t.message(11, 'e1')).toBe(true);
    expect(t.message(12, 'e1')).toBe(false);
    expect(t.position).toEqual({ epoch: 'e1', offset: 12 });
  });

  it('an own ack answered before the recovery’s ack keeps the position it moved (its replayed copy is dropped)', () => {
    const { t } = tracker();
    t.published(11, 0); // the resubscribe (since 10) and a queued publish went out together
    expect(t.position).toEqual({ epoch: 'e1', offset: 11 });
    t.restart({ epoch: 'e1', offset: 10 }, true);
    expect(t.message(11, 'e1')).toBe(false);
    expect(t.message(12, 'e1')).toBe(true);
    expect(t.position).toEqual({ epoch: 'e1', offset: 12 });
  });
});
