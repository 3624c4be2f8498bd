/**
 * The clients of a fan-out or latency run: N recipients (light counters, with a few checkers
 * spread evenly through the connection order, since servers send in that order) and one
 * publisher, connected and seen in /stats before the first message. With a second node
 * (cross-node runs) the first half of the recipients connect to the first node, the second
 * half to the second; the publisher stays on the first.
 */
import { Checker } from './checker.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataOf, openLib, subscribeFrame, type LibClient } from './lib-client.js';
import { connectAll, RawClient, Tally } from './raw-client.js';
import { until, waitForClients } from './server-stats.js';
import type { Correctness, Counters, Target, TopicMode } from '../types.js';

export const HOST = '127.0.0.1';
const HANDSHAKE_TIMEOUT_MS = 30_000;
const CONNECT_CONCURRENCY = 100;
/** The publish scenario: how long every recipient may take to receive from the topic it joined. */
const JOIN_TIMEOUT_MS = 30_000;
/** A probe is re-published this often until every recipient has received one. */
const PROBE_EVERY_MS = 500;
/** After the probes: no delivery for this long, and none of them can still be in flight. */
const PROBE_QUIET_MS = 300;
const PROBE = 'probe';

interface Recipient {
  count(): number;
  /** Sends the join of the publish scenario. */
  join(topic: string): void;
  /** Forgets the probes: counts from zero. */
  reset(): void;
  closed(): boolean;
  closeCode(): number;
  destroy(): void;
}

export interface Audience {
  readonly tally: Tally;
  readonly checkers: readonly Checker[];
  /** The node (0 or 1) each checker is connected to. */
  readonly checkerNode: readonly number[];
  readonly publisher: LibClient;
  /** Sends one message: to every other client (relay), or published to the topic. */
  publish(text: string): void;
  readonly connectMs: number;
  correctness(sent: number): Correctness;
  destroy(): void;
}

export async function openAudience(
  target: Target,
  recipients: number,
  checkerCount: number,
  payload: number,
  counters: Counters,
  second?: Target,
  topic?: TopicMode,
): Promise<Audience> {
  const tally = new Tally();
  const k = Math.min(checkerCount, recipients);
  const checkerAt = new Map<number, number>();
  for (let j = 0; j < k; j++) checkerAt.set(Math.floor(((j + 0.5) * recipients) / k), j);
  const checkers: Checker[] = [];
  const checkerNode: number[] = [];
  const onFirst = second ? Math.ceil(recipients / 2) : recipients;
  const started = performance.now();

  const publisher = await openLib(target.wire, HOST, target.port, target.path, HANDSHAKE_TIMEOUT_MS);
  let echoed = 0;
  publisher.onText = () => echoed++;

  // WebSocket peers deliver the whole JSON frame (actorhub's `message`, or the publish frame raw
  // ws forwards): the checkers verify its `data`. socket.io hands the event's data over already.
  const unwrap = topic && target.wire === 'ws' ? dataOf : (text: string): string => text;
  const openRecipient = async (i: number): Promise<Recipient> => {
    const node = i < onFirst ? target : second!;
    if (checkerAt.has(i) || counters === 'lib') {
      const client = await openLib(node.wire, HOST, node.port, node.path, HANDSHAKE_TIMEOUT_MS);
      const join = (name: string): void => client.join(name);
      if (checkerAt.has(i)) {
        const checker = new Checker(payload);
        checkers.push(checker);
        checkerNode.push(i < onFirst ? 0 : 1);
        client.onText = (text) => {
          checker.onText(unwrap(text), performance.now());
          tally.add();
        };
        return {
          count: () => checker.received,
          join,
          reset: () => checker.reset(),
          closed: client.closed,
          closeCode: client.closeCode,
          destroy: client.destroy,
        };
      }
      let count = 0;
      client.onText = () => {
        count++;
        tally.add();
      };
      return {
        count: () => count,
        join,
        reset: () => (count = 0),
        closed: client.closed,
        closeCode: client.closeCode,
        destroy: client.destroy,
      };
    }
    const raw = new RawClient(node.wire, tally);
    await raw.connect(HOST, node.port, node.path, HANDSHAKE_TIMEOUT_MS);
    return {
      count: () => raw.count,
      join: (name) => raw.sendText(node.wire === 'ws' ? subscribeFrame(name) : `42["join","${name}"]`),
      reset: () => (raw.count = 0),
      closed: () => raw.closed,
      closeCode: () => raw.closeCode,
      destroy: () => raw.destroy(),
    };
  };
  const all = await connectAll(recipients, CONNECT_CONCURRENCY, openRecipient);
  await waitForClients(HOST, target.port, onFirst + 1, 30_000);
  if (second) await waitForClients(HOST, second.port, recipients - onFirst, 30_000);
  const publish = topic
    ? (text: string): void => publisher.publish(topic.name, text)
    : (text: string): void => publisher.send(text);
  if (topic?.welcome) {
    // Every connection's greeting must have arrived before the counts can mean deliveries.
    const greeted = await until(() => echoed > 0 && all.every((r) => r.count() > 0), JOIN_TIMEOUT_MS);
    if (!greeted) throw new Error(`not every connection got its welcome frame within ${JOIN_TIMEOUT_MS} ms`);
    echoed = 0;
    for (const r of all) r.reset();
    for (const c of checkers) c.reset();
    tally.total = 0;
  }
  if (topic) await joinBarrier(topic, all, tally, publish, checkers);
  const connectMs = performance.now() - started;

  return {
    tally,
    checkers,
    checkerNode,
    publisher,
    publish,
    connectMs,
    correctness(sent) {
      let delivered = 0;
      let lost = 0;
      let duplicated = 0;
      let closed = 0;
      const codes = new Set<number>();
      for (const r of all) {
        const c = r.count();
        delivered += c;
        if (c < sent) lost += sent - c;
        else duplicated += c - sent;
        if (r.closed()) {
          closed++;
          codes.add(r.closeCode());
        }
      }
      const outOfOrder = checkers.reduce((s, c) => s + c.outOfOrder + c.duplicates, 0);
      const corrupt = checkers.reduce((s, c) => s + c.corrupt, 0);
      return {
        expected: sent * recipients,
        delivered,
        lost,
        duplicated,
        echoed,
        outOfOrder,
        corrupt,
        closed,
        closeCodes: [...codes],
      };
    },
    destroy() {
      for (const r of all) r.destroy();
      publisher.destroy();
    },
  };
}

/**
 * Joins take effect asynchronously (and on the other node of a cluster only once it learnt of
 * them): a probe is published until every recipient has received one, then the counts start
 * from zero once no probe can still be in flight, so the measured stream is complete from its
 * first message and any loss later is the server's.
 */
async function joinBarrier(
  topic: TopicMode,
  all: readonly Recipient[],
  tally: Tally,
  publish: (text: string) => void,
  checkers: readonly Checker[],
): Promise<void> {
  if (topic.join) for (const r of all) r.join(topic.name);
  const deadline = performance.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    publish(PROBE);
    if (await until(() => all.every((r) => r.count() > 0), PROBE_EVERY_MS)) break;
    if (performance.now() > deadline) {
      const missing = all.filter((r) => r.count() === 0).length;
      throw new Error(
        `${missing} of ${all.length} recipients received nothing from "${topic.name}" after ${JOIN_TIMEOUT_MS} ms`,
      );
    }
  }
  for (let last = -1; tally.total !== last;) {
    last = tally.total;
    await sleep(PROBE_QUIET_MS);
  }
  for (const r of all) r.reset();
  for (const c of checkers) c.reset();
  tally.total = 0;
}
