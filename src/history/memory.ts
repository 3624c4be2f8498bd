import { randomBytes } from 'node:crypto';
import type {
  HistoryPage,
  HistorySettings,
  ReadOptions,
  StoredMessage,
  StreamPosition,
  SyncHistoryStore,
} from './store.js';

export interface MemoryHistoryOptions extends HistorySettings {
  /** Streams held at most; beyond, the least recently published one is dropped (its epoch dies with it). */
  readonly maxStreams: number;
  /** For tests: the clock, ms. */
  readonly now?: () => number;
}

/** One topic's stream: a ring of its newest `size` messages. */
interface Stream {
  readonly epoch: string;
  top: number;
  expiresAt: number;
  /** Ring buffer; the message with offset `top` is at (start + count - 1) % size. */
  readonly ring: (StoredMessage | undefined)[];
  start: number;
  count: number;
  bytes: number;
}

const ENTRY_OVERHEAD_BYTES = 64;

/**
 * The single-node default: streams in the hub process. Bounded three ways: `size` messages per
 * stream, `ttlMs` after a stream's last append, `maxStreams` streams (least recently published
 * first out). Streams are kept in one Map in order of last append (delete + set moves a stream to
 * the end), so both the TTL and the cap evict from the head in O(1) each, without timers: expired
 * streams are dropped lazily (on access, and a few from the head on every append).
 *
 * A `position` or `read` of a topic with no stream creates an empty one (its epoch at offset 0,
 * which the first append keeps: store.ts). Those placeholders live in a Map of their own, also
 * capped at `maxStreams` and in order of creation: anyone may subscribe to made-up topics, and
 * their placeholders must never push out a stream that holds messages (a client could otherwise evict live history). The first append
 * moves a placeholder into the streams.
 *
 * Epochs are `<process>-<n>`: random per store instance (a restart changes every epoch) and
 * numbered per stream creation (a stream evicted and created again gets a new one).
 */
export function memoryHistory(options: MemoryHistoryOptions): SyncHistoryStore {
  const { size, ttlMs, maxStreams } = options;
  const now = options.now ?? Date.now;
  const process = randomBytes(6).toString('base64url');
  let created = 0;
  /** Streams with messages, in order of last append. */
  const streams = new Map<string, Stream>();
  /** Streams without a message yet (a position was asked for), in order of creation. */
  const empty = new Map<string, Stream>();
  let messages = 0;
  let bytes = 0;
  let evicted = 0;
  let expired = 0;

  const drop = (topic: string, s: Stream): void => {
    streams.delete(topic);
    messages -= s.count;
    bytes -= s.bytes;
  };

  /** Drops expired streams from the head of `map` (its oldest), at most `budget`. */
  const sweep = (map: Map<string, Stream>, t: number, budget: number): void => {
    for (const [topic, s] of map) {
      if (budget-- <= 0 || s.expiresAt > t) return;
      if (map === streams) drop(topic, s);
      else empty.delete(topic);
      expired++;
    }
  };

  const live = (topic: string, t: number): Stream | undefined => {
    const s = streams.get(topic);
    if (s && s.expiresAt <= t) {
      drop(topic, s);
      expired++;
      return undefined;
    }
    return s;
  };

  const liveEmpty = (topic: string, t: number): Stream | undefined => {
    const s = empty.get(topic);
    if (s && s.expiresAt <= t) {
      empty.delete(topic);
      expired++;
      return undefined;
    }
    return s;
  };

  const fresh = (t: number): Stream => ({
    epoch: `${process}-${++created}`,
    top: 0,
    expiresAt: t + ttlMs,
    ring: [],
    start: 0,
    count: 0,
    bytes: 0,
  });

  /** The topic's stream, or an empty placeholder for it: evicts only other placeholders. */
  const existing = (topic: string, t: number): Stream => {
    const s = live(topic, t) ?? liveEmpty(topic, t);
    if (s) return s;
    sweep(empty, t, 4);
    while (empty.size >= maxStreams) {
      const oldest = empty.keys().next().value as string;
      empty.delete(oldest);
      evicted++;
    }
    const p = fresh(t);
    empty.set(topic, p);
    return p;
  };

  /** The first append of a topic: its placeholder (keeping the epoch already given out) or a new stream. */
  const create = (topic: string, t: number): Stream => {
    sweep(streams, t, 4);
    while (streams.size >= maxStreams) {
      const [oldest, s] = streams.entries().next().value as [string, Stream];
      drop(oldest, s);
      evicted++;
    }
    const s = liveEmpty(topic, t) ?? fresh(t);
    empty.delete(topic);
    streams.set(topic, s);
    return s;
  };

  const at = (s: Stream, i: number): StoredMessage => s.ring[(s.start + i) % size]!;

  return {
    kind: 'memory',
    synchronous: true,
    append(topic, message) {
      const t = now();
      const s = live(topic, t) ?? create(topic, t);
      const entry: StoredMessage =
        message.from === undefined
          ? { offset: s.top + 1, data: message.data }
          : { offset: s.top + 1, from: message.from, data: message.data };
      const cost = message.data.length + (message.from?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
      if (s.count < size) {
        s.ring[(s.start + s.count) % size] = entry;
        s.count++;
        messages++;
      } else {
        const old = s.ring[s.start]!;
        const freed = old.data.length + (old.from?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
        s.bytes -= freed;
        bytes -= freed;
        s.ring[s.start] = entry;
        s.start = (s.start + 1) % size;
      }
      s.bytes += cost;
      bytes += cost;
      s.top = entry.offset;
      s.expiresAt = t + ttlMs;
      // Move to the end: the Map's order is the order of last append (the LRU and TTL order).
      streams.delete(topic);
      streams.set(topic, s);
      sweep(streams, t, 2);
      return { epoch: s.epoch, offset: s.top };
    },
    position(topic): StreamPosition {
      const t = now();
      const s = existing(topic, t);
      return { epoch: s.epoch, offset: s.top };
    },
    read(topic, { after, limit }: ReadOptions): HistoryPage {
      const t = now();
      const s = existing(topic, t);
      const first = s.top - s.count + 1;
      let from: number; // index into the ring, 0 = oldest kept
      let n: number;
      if (after === undefined) {
        n = Math.min(limit, s.count);
        from = s.count - n;
      } else {
        from = Math.max(0, after + 1 - first);
        n = Math.max(0, Math.min(limit, s.count - from));
      }
      const out: StoredMessage[] = new Array<StoredMessage>(n);
      for (let i = 0; i < n; i++) out[i] = at(s, from + i);
      return { epoch: s.epoch, offset: s.top, first, messages: out };
    },
    stats: () => ({ streams: streams.size + empty.size, messages, bytes, evicted, expired, failed: 0 }),
    close: async () => {
      streams.clear();
      empty.clear();
      messages = 0;
      bytes = 0;
    },
  };
}
