/** The servers measured, each started as its own process exactly as a user would start it. */
import type { Wire } from './types.js';

export type PeerId = 'raw-ws' | 'socket.io' | 'actorhub';

export interface Peer {
  readonly id: PeerId;
  readonly label: string;
  readonly wire: Wire;
  /** What the light clients request when they upgrade. */
  readonly path: string;
  /** node arguments, relative to the repository root (after `npm run build`). */
  readonly args: readonly string[];
  readonly color: string;
}

const LOCAL = ['--port', '0', '--host', '127.0.0.1'];

export const PEERS: readonly Peer[] = [
  {
    id: 'raw-ws',
    label: 'raw ws',
    wire: 'ws',
    path: '/ws',
    args: ['dist/bench/peers/raw-ws.js', ...LOCAL],
    color: '#6b7280',
  },
  {
    id: 'socket.io',
    label: 'socket.io 4',
    wire: 'socketio',
    path: '/socket.io/?EIO=4&transport=websocket',
    args: ['dist/bench/peers/socketio.js', ...LOCAL],
    color: '#2563eb',
  },
  {
    id: 'actorhub',
    label: 'actorhub (relay)',
    wire: 'ws',
    path: '/ws',
    args: ['dist/src/server/cli.js', '--protocol', 'relay', ...LOCAL, '--log-level', 'silent'],
    color: '#dc2626',
  },
];

/** The baseline every ratio is taken against. */
export const BASELINE: PeerId = 'raw-ws';
