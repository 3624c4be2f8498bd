import type { StreamPosition } from '../../machines/hub.types.js';

/**
 * The history-store contract: what per-topic history needs from an engine (the hub process's
 * memory, Redis, JetStream), and nothing else. Delivery, replay framing, the replay/live seam
 * and authorization stay in the hub; a store only keeps numbered messages.
 *
 * Guarantees every implementation gives (test/support/history-conformance.ts checks them):
 * - **One authority per stream**: `append` assigns `offset = previous top + 1`, atomically,
 *   whichever node or caller appends. Offsets of one epoch never repeat and never skip.
 * - **Epochs mark continuity**: a stream's `epoch` is an opaque string that stays the same
 *   for as long as every offset of it is accounted for (kept, or trimmed from the old end by the
 *   size limit). Whenever continuity is lost — the stream expired (TTL), was evicted, the engine
 *   restarted or lost its data — the next `position`/`append` answers a new epoch and counts
 *   from 0 again. A consumer that holds `{ epoch, offset }` can thus always tell "I missed
 *   nothing" (same epoch, offset still kept) from "I cannot know" (anything else).
 * - **A position before the first message**: `position` of a topic that has no stream yet
 *   creates its epoch with offset 0, and the first `append` keeps that epoch (a subscriber that
 *   came first can recover the very first message).
 * - **Bounded**: at most `size` messages per stream (the oldest are trimmed), a stream lives
 *   `ttlMs` after its last append; implementations may bound the number of streams too.
 * - **Honest failure**: `append` that cannot store (engine down) rejects/throws; it never
 *   answers an offset it did not store.
 */
/** One definition, shared with the hub machine that carries positions in its events. */
export type { StreamPosition };

export interface StoredMessage {
  readonly offset: number;
  /** The publishing client's id, when a client published it. */
  readonly from?: string | undefined;
  /** The message data as JSON text, exactly as published. */
  readonly data: string;
}

export interface HistoryPage extends StreamPosition {
  /** Offset of the oldest message the stream still keeps (offset + 1 when it keeps none). */
  readonly first: number;
  /** Oldest first. */
  readonly messages: readonly StoredMessage[];
}

export interface ReadOptions {
  /** Messages with an offset above this one, oldest first (a page forward); absent: the newest. */
  readonly after?: number | undefined;
  /** At most this many messages. */
  readonly limit: number;
}

/** What a publish stores. */
export interface AppendMessage {
  /** The publishing client's id, when a client published it. */
  readonly from?: string | undefined;
  /** The data as JSON text. */
  readonly data: string;
  /**
   * For stores that also notify the cluster of what they stored, in the same atomic step (Redis
   * publishes the message with its offset to the topic's channel): the client it must not reach.
   */
  readonly except?: string | undefined;
  /** false: store only, publish no notification (tests, imports). */
  readonly notify?: boolean | undefined;
}

/** A stored message as a store that notifies by itself hands it to the hub (onStored). */
export interface StoredNotice extends StoredMessage {
  readonly topic: string;
  readonly epoch: string;
  /** The client it must not reach (the publisher, when it does not echo its own messages). */
  readonly except?: string;
}

export interface HistorySettings {
  /** Messages kept per stream. */
  readonly size: number;
  /** A stream lives this long after its last append, ms. */
  readonly ttlMs: number;
}

/** Maybe synchronous: the in-memory store answers at once, remote ones with a promise. */
export type Answer<T> = T | Promise<T>;

export interface HistoryStore {
  /** 'memory' | 'redis' | 'nats' | yours. */
  readonly kind: string;
  /**
   * True when every method answers synchronously (never a promise). The hub then appends and
   * replays inside one of its own steps, which makes the local replay/live seam atomic.
   */
  readonly synchronous: boolean;
  append(topic: string, message: AppendMessage): Answer<StreamPosition>;
  position(topic: string): Answer<StreamPosition>;
  read(topic: string, options: ReadOptions): Answer<HistoryPage>;
  /**
   * For stores that deliver what they stored to every node themselves, in offset order (JetStream:
   * an ordered consumer), instead of publishing it on the broker as Redis does: the hub gives its
   * listener once, in a cluster. A `read` of such a store answers only once every message it
   * returns has been handed to the listener (the replay/live seam, docs/architecture.md).
   */
  onStored?(listener: (notice: StoredNotice) => void): void;
  /** Counters for /metrics; all optional. */
  stats(): HistoryStoreStats;
  close(): Promise<void>;
}

export interface HistoryStoreStats {
  /** Streams currently held (memory) or known (remote: undefined). */
  readonly streams?: number | undefined;
  readonly messages?: number | undefined;
  readonly bytes?: number | undefined;
  /** Streams dropped for the stream cap (LRU) or TTL, since start. */
  readonly evicted?: number | undefined;
  readonly expired?: number | undefined;
  /** Appends that failed (engine unreachable). */
  readonly failed: number;
}

/** A store whose every answer is synchronous (the in-memory default). */
export interface SyncHistoryStore extends HistoryStore {
  readonly synchronous: true;
  append(topic: string, message: AppendMessage): StreamPosition;
  position(topic: string): StreamPosition;
  read(topic: string, options: ReadOptions): HistoryPage;
}
