import type { ClientId } from './client.types.js';

export type Topic = string;

/** A topic member as presence shows it: the client id and the metadata authenticate() returned. */
export interface Member {
  readonly id: ClientId;
  readonly meta: unknown;
}

/** Topic names: 1..maxTopicLength characters from this set (no spaces, no wildcards). */
export const TOPIC_PATTERN = /^[A-Za-z0-9._:/@-]+$/;

/**
 * A topic's members, carrying the topic's name: the one string instance every member's topic
 * set refers to. Each subscribe parses its own copy of the name (128 characters ≈ 144 bytes of
 * heap); without this, every membership kept its own copy (docs/performance.md#memory-with-topics).
 */
export class Members extends Map<ClientId, unknown> {
  constructor(readonly name: Topic) {
    super();
  }
}

/**
 * Topic membership both ways — topic → members (with presence metadata) and client → topics —
 * so subscribe and unsubscribe are O(1), publish is O(members) and a disconnect is
 * O(topics of that client). Empty topics are removed at once. A pure data structure, owned by
 * the hub actor (it lives in the hub's context) and mutated only inside hub actions. Topic
 * names are interned: one string per distinct topic, whatever its number of members.
 */
export class TopicIndex {
  readonly #topics = new Map<Topic, Members>();
  readonly #clients = new Map<ClientId, Set<Topic>>();
  #memberships = 0;

  /** Adds the client to the topic; false if it was already there. */
  add(id: ClientId, topic: Topic, meta: unknown): boolean {
    let members = this.#topics.get(topic);
    if (members?.has(id)) return false;
    if (!members) this.#topics.set(topic, (members = new Members(topic)));
    members.set(id, meta);
    let topics = this.#clients.get(id);
    if (!topics) this.#clients.set(id, (topics = new Set()));
    topics.add(members.name);
    this.#memberships++;
    return true;
  }

  /** Removes the client from the topic; false if it was not there. */
  remove(id: ClientId, topic: Topic): boolean {
    const members = this.#topics.get(topic);
    if (!members?.delete(id)) return false;
    this.#memberships--;
    if (members.size === 0) this.#topics.delete(topic);
    const topics = this.#clients.get(id)!;
    topics.delete(topic);
    if (topics.size === 0) this.#clients.delete(id);
    return true;
  }

  /** Removes the client from every topic; returns the topics it left. */
  removeClient(id: ClientId): Topic[] {
    const topics = this.#clients.get(id);
    if (!topics) return [];
    this.#clients.delete(id);
    this.#memberships -= topics.size;
    for (const topic of topics) {
      const members = this.#topics.get(topic)!;
      members.delete(id);
      if (members.size === 0) this.#topics.delete(topic);
    }
    return [...topics];
  }

  has(id: ClientId, topic: Topic): boolean {
    return this.#topics.get(topic)?.has(id) ?? false;
  }

  /** Member ids mapped to their metadata; empty for an unknown topic. Do not mutate. */
  members(topic: Topic): ReadonlyMap<ClientId, unknown> {
    return this.#topics.get(topic) ?? EMPTY;
  }

  memberCount(topic: Topic): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  topicsOf(id: ClientId): ReadonlySet<Topic> {
    return this.#clients.get(id) ?? EMPTY_SET;
  }

  /** Every non-empty topic with its member count. */
  topics(): IterableIterator<[Topic, number]> {
    const it = this.#topics.entries();
    return (function* () {
      for (const [topic, members] of it) yield [topic, members.size] as [Topic, number];
    })();
  }

  /** Client–topic pairs, across all topics. */
  get membershipCount(): number {
    return this.#memberships;
  }

  get topicCount(): number {
    return this.#topics.size;
  }
}

const EMPTY: ReadonlyMap<ClientId, unknown> = new Map();
const EMPTY_SET: ReadonlySet<Topic> = new Set();

/** One page of a topic's presence: members in id order after a cursor, how many there are in all, and where to go on. */
export interface PresencePage {
  readonly members: Member[];
  readonly total: number;
  /** The last id of this page, when more members follow it; absent on the last page. */
  readonly cursor?: ClientId;
}

/**
 * The first `limit` members (by id, in code-unit order) whose id is greater than `after`,
 * across the given member maps (this node's and the other nodes'), without sorting them all:
 * one pass keeping the `limit` smallest in a sorted array, O(n + k·limit) for k insertions.
 * Paging by id rather than by position means a member present throughout an enumeration is
 * listed exactly once, whoever joins or leaves between pages.
 */
export function presencePage(
  sources: readonly ReadonlyMap<ClientId, unknown>[],
  after: ClientId | undefined,
  limit: number,
): PresencePage {
  const total = sources.reduce((n, source) => n + source.size, 0);
  // Everyone fits (the handle's presence(): no limit): one sort, not an insertion per member.
  if (limit >= total) {
    const members: Member[] = [];
    for (const source of sources) {
      for (const [id, meta] of source) if (after === undefined || id > after) members.push({ id, meta });
    }
    return { members: members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), total };
  }
  const best: ClientId[] = [];
  const metaOf = new Map<ClientId, unknown>();
  let more = false;
  for (const source of sources) {
    for (const [id, meta] of source) {
      if (after !== undefined && id <= after) continue;
      if (best.length === limit) {
        more = true;
        if (id >= best[limit - 1]!) continue;
        metaOf.delete(best.pop()!);
      }
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (best[mid]! < id) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, id);
      metaOf.set(id, meta);
    }
  }
  const members = best.map((id) => ({ id, meta: metaOf.get(id) }));
  return more && best.length > 0 ? { members, total, cursor: best[best.length - 1]! } : { members, total };
}
