import type { AnyEventObject, MachineContext } from 'xstate';

/**
 * What the inspector may see: ids, states and counters. Message payloads, client metadata and
 * sockets never leave the process, and the hub's context (Maps of actor refs, the client
 * machine, encoders) becomes a few numbers, so a snapshot costs the same at 10 or 10k clients.
 */

const STRIPPED = '‹stripped›';

const sizeOf = (data: unknown): string =>
  typeof data === 'string'
    ? `‹${Buffer.byteLength(data)} bytes›`
    : Buffer.isBuffer(data) || data instanceof Uint8Array
      ? `‹${data.byteLength} bytes›`
      : STRIPPED;

/** Top-level fields of our events that carry payloads or live objects, and what shows instead. */
const REPLACE: Record<string, (value: unknown) => unknown> = {
  data: sizeOf,
  meta: () => STRIPPED,
  connection: () => '‹connection›',
  writer: () => '‹writer›',
  frame: (frame) => ({ byteLength: (frame as { byteLength?: unknown } | undefined)?.byteLength }),
  clients: (clients) => (Array.isArray(clients) ? `‹${clients.length} clients›` : STRIPPED),
  joins: (joins) => (Array.isArray(joins) ? `‹${joins.length} joins›` : STRIPPED),
  error: (error) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
};

export function sanitizeEvent(event: AnyEventObject): AnyEventObject {
  let copy: Record<string, unknown> | undefined;
  for (const key in event) {
    const replace = REPLACE[key];
    if (!replace) continue;
    copy ??= { ...event };
    copy[key] = replace((event as Record<string, unknown>)[key]);
  }
  return (copy ?? event) as AnyEventObject;
}

interface HubLike {
  clients: Map<string, unknown>;
  count: number;
  topicCount: number;
  maxClients: number;
  remote?: { clientCount?: number };
  shutdown?: unknown;
}

interface ClientLike {
  id: string;
  writer: unknown;
  badFrameCount?: number;
  limits?: { maxMessages: number; maxBytes: number; policy: string };
}

const isHub = (c: MachineContext): c is MachineContext & HubLike =>
  c.clients instanceof Map && typeof c.count === 'number';
const isClient = (c: MachineContext): c is MachineContext & ClientLike => typeof c.id === 'string' && 'writer' in c;

/** A compact, JSON-safe view of a hub's or a client's context (ids, counters, limits). */
export function sanitizeContext(context: MachineContext | undefined, maxIds: number): MachineContext | undefined {
  if (!context || typeof context !== 'object') return context;
  if (isHub(context)) {
    const clientIds: string[] = [];
    for (const id of context.clients.keys()) {
      if (clientIds.length >= maxIds) break;
      clientIds.push(id);
    }
    return {
      clients: context.count,
      topics: context.topicCount,
      remoteClients: context.remote?.clientCount ?? 0,
      maxClients: context.maxClients,
      clientIds,
      ...(context.count > clientIds.length ? { moreClients: context.count - clientIds.length } : {}),
    };
  }
  if (isClient(context)) {
    return {
      id: context.id,
      badFrameCount: context.badFrameCount ?? 0,
      ...(context.limits as object | undefined),
    };
  }
  return primitivesOf(context);
}

/**
 * Anything else keeps its top-level numbers, booleans, short strings and lists of ids. That
 * includes the compact forms above, which the library may sanitize a second time after its
 * own JSON round trip.
 */
function primitivesOf(context: MachineContext): MachineContext {
  const out: MachineContext = {};
  for (const [key, value] of Object.entries(context)) {
    if (value === null || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'string' && value.length <= 128) out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value;
  }
  return out;
}

/** Only what the inspector draws, with the context made compact: nothing here can be deep. */
export function compactSnapshot(snapshot: unknown, maxIds: number): Record<string, unknown> {
  const s = (snapshot ?? {}) as {
    status?: unknown;
    value?: unknown;
    context?: MachineContext;
    output?: unknown;
    error?: unknown;
  };
  return {
    status: s.status,
    value: s.value,
    context: s.context === undefined ? undefined : sanitizeContext(s.context, maxIds),
    output: s.output,
    ...(s.error === undefined
      ? {}
      : { error: s.error instanceof Error ? `${s.error.name}: ${s.error.message}` : String(s.error) }),
  };
}
