/**
 * The clients of a fan-out or latency run: N recipients (light counters, with a few checkers
 * spread evenly through the connection order, since servers send in that order) and one
 * publisher, connected and seen in /stats before the first message. With a second node
 * (cross-node runs) the first half of the recipients connect to the first node, the second
 * half to the second; the publisher stays on the first.
 */
import { Checker } from './checker.js';
import { openLib, type LibClient } from './lib-client.js';
import { connectAll, RawClient, Tally } from './raw-client.js';
import { waitForClients } from './server-stats.js';
import type { Correctness, Counters, Target } from '../types.js';

export const HOST = '127.0.0.1';
const HANDSHAKE_TIMEOUT_MS = 30_000;
const CONNECT_CONCURRENCY = 100;

interface Recipient {
  count(): number;
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

  const openRecipient = async (i: number): Promise<Recipient> => {
    const node = i < onFirst ? target : second!;
    if (checkerAt.has(i) || counters === 'lib') {
      const client = await openLib(node.wire, HOST, node.port, node.path, HANDSHAKE_TIMEOUT_MS);
      if (checkerAt.has(i)) {
        const checker = new Checker(payload);
        checkers.push(checker);
        checkerNode.push(i < onFirst ? 0 : 1);
        client.onText = (text) => {
          checker.onText(text, performance.now());
          tally.add();
        };
        return {
          count: () => checker.received,
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
      return { count: () => count, closed: client.closed, closeCode: client.closeCode, destroy: client.destroy };
    }
    const raw = new RawClient(node.wire, tally);
    await raw.connect(HOST, node.port, node.path, HANDSHAKE_TIMEOUT_MS);
    return {
      count: () => raw.count,
      closed: () => raw.closed,
      closeCode: () => raw.closeCode,
      destroy: () => raw.destroy(),
    };
  };
  const all = await connectAll(recipients, CONNECT_CONCURRENCY, openRecipient);
  await waitForClients(HOST, target.port, onFirst + 1, 30_000);
  if (second) await waitForClients(HOST, second.port, recipients - onFirst, 30_000);
  const connectMs = performance.now() - started;

  return {
    tally,
    checkers,
    checkerNode,
    publisher,
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
