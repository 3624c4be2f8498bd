import type { ClientId } from './client.types.js';
import { Members, presencePage, type PresencePage, type Topic, type TopicIndex } from './topic-index.js';

export type NodeId = string;

/**
 * What this hub knows of the other hubs of its cluster: which client is on which node, and
 * who is in which topic there. Filled only from `hub.remote.*` events, so it is owned by the
 * hub actor like the registry; a node that stops sending heartbeats is purged whole.
 */
export class RemoteDirectory {
  readonly #clients = new Map<ClientId, { node: NodeId; meta: unknown }>();
  /** Topic → members; the map's `name` is the one instance of the topic name the client sets refer to. */
  readonly #topics = new Map<Topic, Members>();
  /** node → its clients, and client → its remote topics, so a purge is O(what that node had). */
  readonly #byNode = new Map<NodeId, Set<ClientId>>();
  readonly #topicsOf = new Map<ClientId, Set<Topic>>();

  clientUp(node: NodeId, id: ClientId, meta: unknown): void {
    this.#clients.set(id, { node, meta });
    let ids = this.#byNode.get(node);
    if (!ids) this.#byNode.set(node, (ids = new Set()));
    ids.add(id);
  }

  /** Forgets a client; returns the topics it was in (for `left` announcements). */
  clientDown(id: ClientId): Topic[] {
    const entry = this.#clients.get(id);
    if (!entry) return [];
    this.#clients.delete(id);
    this.#byNode.get(entry.node)?.delete(id);
    const topics = [...(this.#topicsOf.get(id) ?? [])];
    for (const t of topics) this.leave(id, t);
    return topics;
  }

  /** Returns false if it was already known to be there. */
  join(node: NodeId, id: ClientId, topic: Topic, meta: unknown): boolean {
    if (!this.#clients.has(id)) this.clientUp(node, id, meta);
    let members = this.#topics.get(topic);
    if (members?.has(id)) return false;
    if (!members) this.#topics.set(topic, (members = new Members(topic)));
    members.set(id, meta);
    let topics = this.#topicsOf.get(id);
    if (!topics) this.#topicsOf.set(id, (topics = new Set()));
    // Interned, as in TopicIndex: one string per distinct topic, not one per membership.
    topics.add(members.name);
    return true;
  }

  leave(id: ClientId, topic: Topic): boolean {
    const members = this.#topics.get(topic);
    if (!members?.delete(id)) return false;
    if (members.size === 0) this.#topics.delete(topic);
    const topics = this.#topicsOf.get(id);
    topics?.delete(topic);
    if (topics?.size === 0) this.#topicsOf.delete(id);
    return true;
  }

  /** Forgets a whole node; returns [client, meta, topics] for each client it had. */
  purgeNode(node: NodeId): { id: ClientId; meta: unknown; topics: Topic[] }[] {
    const ids = [...(this.#byNode.get(node) ?? [])];
    this.#byNode.delete(node);
    return ids.map((id) => {
      const meta = this.#clients.get(id)?.meta;
      return { id, meta, topics: this.clientDown(id) };
    });
  }

  /**
   * Replaces everything known of one node by its own account (a sync), and says which
   * memberships appeared and which vanished, so members can be told.
   */
  replaceNode(
    node: NodeId,
    clients: readonly (readonly [ClientId, unknown])[],
    joins: readonly (readonly [Topic, ClientId])[],
  ): { joined: [Topic, ClientId, unknown][]; left: [Topic, ClientId, unknown][] } {
    const before = new Map<string, [Topic, ClientId, unknown]>();
    for (const { id, meta, topics } of this.purgeNode(node))
      for (const t of topics) before.set(`${t}\u0000${id}`, [t, id, meta]);
    const metaOf = new Map(clients);
    for (const [id, meta] of clients) this.clientUp(node, id, meta);
    const joined: [Topic, ClientId, unknown][] = [];
    for (const [topic, id] of joins) {
      this.join(node, id, topic, metaOf.get(id));
      if (!before.delete(`${topic}\u0000${id}`)) joined.push([topic, id, metaOf.get(id)]);
    }
    return { joined, left: [...before.values()] };
  }

  metaOf(id: ClientId): unknown {
    return this.#clients.get(id)?.meta;
  }

  nodeOf(id: ClientId): NodeId | undefined {
    return this.#clients.get(id)?.node;
  }

  members(topic: Topic): ReadonlyMap<ClientId, unknown> {
    return this.#topics.get(topic) ?? EMPTY;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  nodes(): NodeId[] {
    return [...this.#byNode.keys()];
  }
}

const EMPTY: ReadonlyMap<ClientId, unknown> = new Map();

/**
 * Who is in a topic, across the cluster, in id order: the one place presence is built, for the
 * handle's presence() (everyone: no limit) and for a client's `presence` command (a page of at
 * most `limit` after `after`), so both list the same members in the same order.
 */
export function presenceOf(
  local: TopicIndex,
  remote: RemoteDirectory,
  topic: Topic,
  after?: ClientId,
  limit = Infinity,
): PresencePage {
  return presencePage([local.members(topic), remote.members(topic)], after, limit);
}
