import { depthWithin } from '../cluster/envelope.js';

/**
 * A client's presence metadata (what authenticate() or a JWT's `meta` claim gives it) travels
 * to every other node of a cluster in its `c+`/`j` envelopes and in every `sync` of its node,
 * and to every member that asks for presence. Bounded here, where the client is admitted, so
 * that no node can hold a client its peers would drop as malformed (issue 18): nesting in
 * objects/arrays (well under the cluster's MAX_ENVELOPE_DEPTH, 128), and bytes of its JSON (a
 * `c+` carrying it stays under NATS's default 1 MiB max_payload and the 16 MiB envelope bound;
 * a sync puts an entry this large in a part of its own).
 */
export const CLIENT_META_MAX_DEPTH = 32;
export const CLIENT_META_MAX_BYTES = 512 * 1024;

/** Why `meta` cannot be a client's metadata, or undefined when it can. Never throws. */
export function metaProblem(meta: unknown): string | undefined {
  if (meta === undefined) return undefined;
  // Depth first: JSON.stringify of a value nested thousands deep overflows the stack.
  if (!depthWithin(meta, CLIENT_META_MAX_DEPTH)) return `meta nested deeper than ${CLIENT_META_MAX_DEPTH}`;
  let json: string | undefined;
  try {
    json = JSON.stringify(meta);
  } catch {
    return 'meta has no JSON form';
  }
  if (json !== undefined && Buffer.byteLength(json) > CLIENT_META_MAX_BYTES)
    return `meta larger than ${CLIENT_META_MAX_BYTES} bytes of JSON`;
  return undefined;
}
