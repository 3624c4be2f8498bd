/**
 * The servers of the publish scenario (bench/publish.ts runs them): each gets the same kind of
 * publish from a publisher client and fans it out to the N subscribers of one topic.
 */
import type { PeerId } from './peers.js';
import type { Wire } from './types.js';

export type PublishVariant = 'raw-ws' | 'socket.io-rooms' | 'off' | 'memory' | 'redis' | 'nats' | 'redis-2';

/** History kept per topic when it is on (what the old history bench and the docs used). */
const HISTORY_SIZE = '100';
const LOCAL = ['--port', '0', '--host', '127.0.0.1'];
const ACTORHUB = ['dist/src/server/cli.js', ...LOCAL, '--log-level', 'silent'];
export const TOPIC = 't';

export interface PublishServer {
  readonly id: PublishVariant;
  readonly label: string;
  readonly wire: Wire;
  readonly path: string;
  /** Whether subscribers join the topic (raw ws has none). */
  readonly join: boolean;
  /** Whether each connection first gets a greeting frame (actorhub's `welcome`). */
  readonly welcome: boolean;
  readonly broker?: 'redis' | 'nats';
  /** Nodes: one, or two over the broker. */
  readonly nodes: 1 | 2;
  /** node arguments of each node (relative to the repository root). */
  args(brokers: Brokers, prefix: string, node: number): string[];
}

export interface Brokers {
  readonly redis: string;
  readonly nats: string;
}

const history = ['--history-size', HISTORY_SIZE];
const cluster = (flag: 'redis' | 'nats', url: string, prefix: string, node: number): string[] => [
  `--${flag}`,
  url,
  '--cluster-prefix',
  prefix,
  '--node-id',
  `bench-node-${node + 1}`,
];

export const PUBLISH_SERVERS: readonly PublishServer[] = [
  {
    id: 'raw-ws',
    label: 'raw ws',
    wire: 'ws',
    path: '/ws',
    join: false,
    welcome: false,
    nodes: 1,
    args: () => ['dist/bench/peers/raw-ws.js', ...LOCAL],
  },
  {
    id: 'socket.io-rooms',
    label: 'socket.io rooms',
    wire: 'socketio',
    path: '/socket.io/?EIO=4&transport=websocket',
    join: true,
    welcome: false,
    nodes: 1,
    args: () => ['dist/bench/peers/socketio-rooms.js', ...LOCAL],
  },
  {
    id: 'off',
    label: 'actorhub, history off',
    wire: 'ws',
    path: '/ws',
    join: true,
    welcome: true,
    nodes: 1,
    args: () => ACTORHUB,
  },
  {
    id: 'memory',
    label: 'actorhub, history on (memory)',
    wire: 'ws',
    path: '/ws',
    join: true,
    welcome: true,
    nodes: 1,
    args: () => [...ACTORHUB, ...history],
  },
  {
    id: 'redis',
    label: 'actorhub, history on, Redis, 1 node',
    wire: 'ws',
    path: '/ws',
    join: true,
    welcome: true,
    broker: 'redis',
    nodes: 1,
    args: (b, prefix, node) => [...ACTORHUB, ...history, ...cluster('redis', b.redis, prefix, node)],
  },
  {
    id: 'nats',
    label: 'actorhub, history on, NATS, 1 node',
    wire: 'ws',
    path: '/ws',
    join: true,
    welcome: true,
    broker: 'nats',
    nodes: 1,
    args: (b, prefix, node) => [...ACTORHUB, ...history, ...cluster('nats', b.nats, prefix, node)],
  },
  {
    id: 'redis-2',
    label: 'actorhub, history on, Redis, 2 nodes',
    wire: 'ws',
    path: '/ws',
    join: true,
    welcome: true,
    broker: 'redis',
    nodes: 2,
    args: (b, prefix, node) => [...ACTORHUB, ...history, ...cluster('redis', b.redis, prefix, node)],
  },
];

export const PUBLISH_VARIANTS: readonly PublishVariant[] = PUBLISH_SERVERS.map((s) => s.id);
export const publishServer = (id: PublishVariant): PublishServer => PUBLISH_SERVERS.find((s) => s.id === id)!;

/** Settings of the publish scenario (bench/plan.ts gives them for a full or a --quick run). */
export interface PublishSettings {
  readonly sizes: readonly number[];
  readonly payload: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly checkers: number;
  readonly variants: readonly PublishVariant[];
}

/** The peer a variant belongs to (`--peers` picks variants by it; summaries group by it). */
export const publishPeer = (variant: PublishVariant): PeerId =>
  variant === 'raw-ws' ? 'raw-ws' : variant === 'socket.io-rooms' ? 'socket.io' : 'actorhub';
