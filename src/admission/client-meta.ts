import { depthWithin } from '../cluster/envelope.js';
import { CLIENT_META_MAX_BYTES, CLIENT_META_MAX_DEPTH } from '../limits.js';

/**
 * Why `meta` cannot be a client's metadata, or undefined when it can. Never throws. Checked at
 * admission so that no node holds a client its peers would drop (CLIENT_META_MAX_DEPTH in src/limits.ts).
 */
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
