import { Buffer } from 'node:buffer';
import type { ClientId } from '../../machines/client.types.js';
import type { HubRemoteEvent, NodeId } from '../../machines/hub.types.js';
import type { Topic } from '../../machines/topic-index.js';
import { RawJson } from '../protocol/frames.js';

/**
 * The broker payload: one compact JSON object per message (docs/scaling.md lists every kind).
 * `n` is the sending node. Message data travels as `d` (a JSON value, spliced in without
 * re-serialising when it already is JSON) or as `b64` bytes with `bin` telling the opcode.
 */
export type Envelope =
  | { k: 'b'; n: NodeId; x?: ClientId; d?: unknown; b64?: string; bin?: boolean }
  | { k: 'p'; n: NodeId; t: Topic; x?: ClientId; f?: ClientId; d?: unknown; b64?: string; bin?: boolean }
  | { k: 's'; n: NodeId; to: ClientId; f?: ClientId; d?: unknown; b64?: string; bin?: boolean }
  | { k: 'c+'; n: NodeId; id: ClientId; m?: unknown }
  | { k: 'c-'; n: NodeId; id: ClientId }
  | { k: 'j'; n: NodeId; t: Topic; id: ClientId; m?: unknown }
  | { k: 'l'; n: NodeId; t: Topic; id: ClientId }
  | { k: 'hb'; n: NodeId }
  | { k: 'sync?'; n: NodeId }
  | { k: 'sync'; n: NodeId; c: [ClientId, unknown][]; j: [Topic, ClientId][] };

/** Serialises message data once: bytes as base64, JSON values as JSON (RawJson spliced as is). */
export function dataFields(data: unknown, binary: boolean | undefined): string {
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const bytes =
      data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return `"b64":"${bytes.toString('base64')}","bin":${binary ?? true}`;
  }
  const json = data instanceof RawJson ? data.json : JSON.stringify(data);
  if (json === undefined) throw new TypeError('message data has no JSON form');
  return binary === undefined ? `"d":${json}` : `"d":${json},"bin":${binary}`;
}

/** Writes an envelope whose message data is serialised by dataFields. */
export function encodeWithData(head: Record<string, unknown>, data: unknown, binary: boolean | undefined): string {
  const text = JSON.stringify(head);
  return `${text.slice(0, -1)},${dataFields(data, binary)}}`;
}

const dataOf = (e: { d?: unknown; b64?: string; bin?: boolean }): { data: unknown; binary?: boolean } =>
  e.b64 !== undefined
    ? { data: Buffer.from(e.b64, 'base64'), binary: e.bin ?? true }
    : { data: e.d, ...(e.bin === undefined ? {} : { binary: e.bin }) };

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Parses a broker payload; undefined when it is not an envelope this version understands. */
export function decodeEnvelope(payload: string): Envelope | undefined {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || !str(e.n) || typeof e.k !== 'string') return undefined;
  switch (e.k) {
    case 'b':
    case 'hb':
    case 'sync?':
      return e as Envelope;
    case 'p':
      return str(e.t) ? (e as Envelope) : undefined;
    case 's':
      return str(e.to) ? (e as Envelope) : undefined;
    case 'c+':
    case 'c-':
      return str(e.id) ? (e as Envelope) : undefined;
    case 'j':
    case 'l':
      return str(e.id) && str(e.t) ? (e as Envelope) : undefined;
    case 'sync':
      return Array.isArray(e.c) && Array.isArray(e.j) ? (e as Envelope) : undefined;
    default:
      return undefined;
  }
}

/** The hub event an envelope becomes (heartbeats and sync requests are the adapter's own business). */
export function toHubEvent(e: Envelope): HubRemoteEvent | undefined {
  switch (e.k) {
    case 'b':
      return { type: 'hub.remote.broadcast', ...dataOf(e), ...(e.x === undefined ? {} : { except: e.x }) };
    case 'p':
      return {
        type: 'hub.remote.publish',
        topic: e.t,
        ...dataOf(e),
        ...(e.x === undefined ? {} : { except: e.x }),
        ...(e.f === undefined ? {} : { from: e.f }),
      };
    case 's':
      return { type: 'hub.remote.send', to: e.to, ...dataOf(e), ...(e.f === undefined ? {} : { from: e.f }) };
    case 'c+':
      return { type: 'hub.remote.clientUp', node: e.n, id: e.id, meta: e.m };
    case 'c-':
      return { type: 'hub.remote.clientDown', id: e.id };
    case 'j':
      return { type: 'hub.remote.joined', node: e.n, topic: e.t, id: e.id, meta: e.m };
    case 'l':
      return { type: 'hub.remote.left', topic: e.t, id: e.id };
    case 'sync':
      return { type: 'hub.remote.sync', node: e.n, clients: e.c, joins: e.j };
    default:
      return undefined;
  }
}
