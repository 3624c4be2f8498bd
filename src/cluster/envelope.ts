import { Buffer } from 'node:buffer';
import { Result, Schema } from 'effect';
import type { HubRemoteEvent } from '../../machines/hub.types.js';
import { TOPIC_PATTERN } from '../../machines/topic-index.js';
import { RawJson } from '../protocol/frames.js';
import {
  MAX_ENVELOPE_BYTES,
  MAX_ENVELOPE_DEPTH,
  MAX_SYNC_PARTS,
  MAX_TOPIC_LENGTH,
  NODE_ID_PATTERN,
} from '../limits.js';
/** Client ids as the protocol accepts them in `send` (docs/protocol.md). */
const MAX_CLIENT_ID_LENGTH = 256;
/** Standard base64 as Buffer#toString('base64') writes it; Buffer.from would silently skip anything else. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * True when `value` (a JSON value) nests no deeper than `max` objects/arrays. Iterative: a
 * value nested 20,000 deep must be refused here, not overflow the stack of whoever serialises
 * it later (JSON.parse accepts it; JSON.stringify and the hub's presence answer did not).
 */
export function depthWithin(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop() as object;
    const d = depths.pop()!;
    if (d > max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) {
        stack.push(child);
        depths.push(d + 1);
      }
    }
  }
  return true;
}

export interface EnvelopeLimits {
  /** Largest payload decoded, in UTF-16 code units (≈ bytes for the ASCII JSON nodes write); larger is dropped unparsed. */
  readonly maxBytes: number;
  /** Deepest nesting of message data (`d`) and client metadata (`m`). */
  readonly maxDepth: number;
  /** Longest topic name: the hub's own limit (a longer remote topic could never have a local member). */
  readonly maxTopicLength: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxBytes: MAX_ENVELOPE_BYTES,
  maxDepth: MAX_ENVELOPE_DEPTH,
  maxTopicLength: MAX_TOPIC_LENGTH,
};

/**
 * The broker payload as a schema: one compact JSON object per message (docs/scaling.md lists
 * every kind). `n` is the sending node. Message data travels as `d` (a JSON value) or as `b64`
 * bytes with `bin` telling the opcode — exactly one of the two. Everything a node reads from
 * the broker goes through this before it touches the hub: exact types, bounded lengths and
 * depths, so no field can make a handler or a hub action throw.
 */
const fields = (limits: EnvelopeLimits) => ({
  client: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(MAX_CLIENT_ID_LENGTH)),
  topic: Schema.String.check(
    Schema.isMinLength(1),
    Schema.isMaxLength(limits.maxTopicLength),
    Schema.isPattern(TOPIC_PATTERN),
  ),
  bounded: (what: string) =>
    Schema.Unknown.check(
      Schema.makeFilter(
        (v: unknown) => depthWithin(v, limits.maxDepth) || `${what} nested deeper than ${limits.maxDepth}`,
      ),
    ),
});

export const makeEnvelopeSchema = (limits: EnvelopeLimits) => {
  const node = Schema.String.check(Schema.isPattern(NODE_ID_PATTERN));
  const { client, topic, bounded } = fields(limits);
  const meta = Schema.optionalKey(bounded('metadata'));
  // The sender's incarnation (boot id) and the version of its local directory (docs/scaling.md#convergence).
  const boot = Schema.String.check(Schema.isPattern(NODE_ID_PATTERN));
  const version = Schema.Int.check(
    Schema.isGreaterThanOrEqualTo(0),
    Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
  );
  const data = {
    d: Schema.optionalKey(bounded('data')),
    b64: Schema.optionalKey(Schema.String.check(Schema.isPattern(BASE64))),
    bin: Schema.optionalKey(Schema.Boolean),
  };
  const oneData = Schema.makeFilter(
    (e: { d?: unknown | undefined; b64?: string | undefined }) =>
      (e.b64 === undefined) !== (e.d === undefined) || 'exactly one of d and b64',
  );
  return Schema.Union([
    Schema.Struct({ k: Schema.Literal('b'), n: node, x: Schema.optionalKey(client), ...data }).check(oneData),
    Schema.Struct({
      k: Schema.Literal('p'),
      n: node,
      t: topic,
      x: Schema.optionalKey(client),
      f: Schema.optionalKey(client),
      /** Offset and epoch, when a history store numbered it (src/history/redis.ts publishes these). */
      o: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
      e: Schema.optionalKey(Schema.String.check(Schema.isMaxLength(128))),
      ...data,
    }).check(oneData),
    Schema.Struct({ k: Schema.Literal('s'), n: node, to: client, f: Schema.optionalKey(client), ...data }).check(
      oneData,
    ),
    Schema.Struct({ k: Schema.Literal('c+'), n: node, i: boot, v: version, id: client, m: meta }),
    Schema.Struct({ k: Schema.Literal('c-'), n: node, i: boot, v: version, id: client }),
    Schema.Struct({ k: Schema.Literal('j'), n: node, i: boot, v: version, t: topic, id: client, m: meta }),
    Schema.Struct({ k: Schema.Literal('l'), n: node, i: boot, v: version, t: topic, id: client }),
    Schema.Struct({ k: Schema.Literal('hb'), n: node, i: boot, v: version }),
    Schema.Struct({ k: Schema.Literal('sync?'), n: node, i: boot }),
    Schema.Struct({
      k: Schema.Literal('sync'),
      n: node,
      i: boot,
      v: version,
      // The entries are checked one by one by the decoder (syncEntries): one bad entry is
      // skipped, not the whole state of its node (one client's metadata used to hide them all).
      c: Schema.Array(Schema.Unknown),
      j: Schema.Array(Schema.Unknown),
      // Part p of `of` (docs/scaling.md#convergence): a state too large for one message comes in
      // parts, applied together once all have arrived. Absent: the whole state in one message.
      p: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
      of: Schema.optionalKey(
        Schema.Int.check(Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(MAX_SYNC_PARTS)),
      ),
    }).check(
      Schema.makeFilter(
        (e: { p?: number; of?: number }) =>
          (e.p === undefined && e.of === undefined) ||
          (e.p !== undefined && e.of !== undefined && e.p < e.of) ||
          'a sync part needs p < of',
      ),
    ),
  ]);
};

/**
 * One entry of a sync: a client, [id] when it has no metadata (JSON has no undefined) or
 * [id, meta]; a membership, [topic, id].
 */
const makeSyncEntrySchemas = (limits: EnvelopeLimits) => {
  const { client, topic, bounded } = fields(limits);
  return {
    client: Schema.Union([Schema.Tuple([client]), Schema.Tuple([client, bounded('metadata')])]),
    join: Schema.Tuple([topic, client]),
  };
};

type RawEnvelope = Schema.Schema.Type<ReturnType<typeof makeEnvelopeSchema>>;
type ClientEntry = readonly [string] | readonly [string, unknown];
type JoinEntry = readonly [string, string];
/** A sync as the decoder hands it on: its valid entries, and how many it skipped. */
export type SyncEnvelope = Omit<Extract<RawEnvelope, { k: 'sync' }>, 'c' | 'j'> & {
  readonly c: readonly ClientEntry[];
  readonly j: readonly JoinEntry[];
  /** Entries dropped as malformed (counted by the cluster; the rest of the state is applied). */
  readonly skipped: number;
};
export type Envelope = Exclude<RawEnvelope, { k: 'sync' }> | SyncEnvelope;

/** Why a payload was dropped, for the log line (never the payload itself). */
export type Rejected = { readonly ok: false; readonly why: string };

/**
 * A decoder for one node's limits: the payload's size first (nothing larger is parsed), then
 * JSON, then the schema. Never throws.
 */
export function makeEnvelopeDecoder(limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS) {
  const decode = Schema.decodeUnknownResult(makeEnvelopeSchema(limits), { errors: 'first' });
  const entries = makeSyncEntrySchemas(limits);
  const isClient = Schema.is(entries.client);
  const isJoin = Schema.is(entries.join);
  /** Keeps the valid entries of a sync; the others are skipped and counted. */
  const syncEntries = (e: Extract<RawEnvelope, { k: 'sync' }>): SyncEnvelope => {
    const c = e.c.filter(isClient);
    const j = e.j.filter(isJoin);
    return { ...e, c, j, skipped: e.c.length - c.length + e.j.length - j.length };
  };
  return (payload: string): { readonly ok: true; readonly envelope: Envelope } | Rejected => {
    if (payload.length > limits.maxBytes) return { ok: false, why: `larger than ${limits.maxBytes} bytes` };
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      return { ok: false, why: 'not JSON' };
    }
    const result = decode(value);
    if (Result.isSuccess(result))
      return { ok: true, envelope: result.success.k === 'sync' ? syncEntries(result.success) : result.success };
    // The first line of the schema's message names the problem; the rest is the path.
    return { ok: false, why: result.failure.message.split('\n')[0]!.slice(0, 200) };
  };
}

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

const dataOf = (e: {
  d?: unknown | undefined;
  b64?: string | undefined;
  bin?: boolean | undefined;
}): { data: unknown; binary?: boolean | undefined } =>
  e.b64 !== undefined ? { data: Buffer.from(e.b64, 'base64'), binary: e.bin ?? true } : { data: e.d, binary: e.bin };

/** The hub event a decoded envelope becomes (heartbeats and sync requests are the adapter's own business). */
export function toHubEvent(e: Envelope): HubRemoteEvent | undefined {
  switch (e.k) {
    case 'b':
      return { type: 'hub.remote.broadcast', ...dataOf(e), except: e.x };
    case 'p':
      return {
        type: 'hub.remote.publish',
        topic: e.t,
        ...dataOf(e),
        except: e.x,
        from: e.f,
        offset: e.o,
        epoch: e.e,
      };
    case 's':
      return { type: 'hub.remote.send', to: e.to, ...dataOf(e), from: e.f };
    case 'c+':
      return { type: 'hub.remote.clientUp', node: e.n, id: e.id, meta: e.m };
    case 'c-':
      return { type: 'hub.remote.clientDown', id: e.id };
    case 'j':
      return { type: 'hub.remote.joined', node: e.n, topic: e.t, id: e.id, meta: e.m };
    case 'l':
      return { type: 'hub.remote.left', topic: e.t, id: e.id };
    case 'sync': {
      // A membership of a client the sync does not list (its entry was skipped as malformed)
      // is left out with it: the directory would otherwise list the client without its metadata.
      const ids = new Set(e.c.map((entry) => entry[0]));
      return {
        type: 'hub.remote.sync',
        node: e.n,
        clients: e.c.map((entry) => [entry[0], entry[1]] as const),
        joins: e.j.filter((join) => ids.has(join[1])),
      };
    }
    default:
      return undefined;
  }
}

/**
 * A node's state as `sync` envelopes of about `partBytes` each (docs/scaling.md#convergence):
 * the entries are serialised one by one and cut into parts, so neither a part nor the work of
 * writing one grows with the directory. Always at least one part (an empty state is one too).
 */
export function syncParts(
  head: { n: string; i: string; v: number },
  clients: readonly (readonly [string, unknown])[],
  joins: readonly (readonly [string, string])[],
  partBytes: number,
): string[] {
  const parts: { c: string[]; j: string[] }[] = [];
  let current = { c: [] as string[], j: [] as string[] };
  let size = 0;
  const add = (list: 'c' | 'j', entry: string): void => {
    if (size > 0 && size + entry.length + 1 > partBytes) {
      parts.push(current);
      current = { c: [], j: [] };
      size = 0;
    }
    current[list].push(entry);
    size += entry.length + 1;
  };
  // [id] when the client has no metadata (JSON has no undefined), [id, meta] otherwise.
  for (const [id, meta] of clients) add('c', JSON.stringify(meta === undefined ? [id] : [id, meta]));
  for (const join of joins) add('j', JSON.stringify(join));
  parts.push(current);
  const prefix = JSON.stringify({ k: 'sync', ...head }).slice(0, -1);
  return parts.map(
    (part, p) =>
      `${prefix},"c":[${part.c.join(',')}],"j":[${part.j.join(',')}]${parts.length > 1 ? `,"p":${p},"of":${parts.length}` : ''}}`,
  );
}
