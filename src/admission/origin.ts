import type { IncomingMessage } from 'node:http';

/**
 * Which browser origins may open a socket. `same-origin` (default) compares the Origin's host
 * with the Host header, as gorilla's default CheckOrigin; `*` allows any; a list allows
 * exactly those origins; a predicate decides. A request without Origin is not from a
 * browser page (no cross-site hijacking possible) and is allowed by every policy but a predicate.
 */
export type OriginPolicy =
  'same-origin' | '*' | readonly string[] | ((origin: string | undefined, req: IncomingMessage) => boolean);

const normalise = (origin: string): string | undefined => {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin.toLowerCase();
  } catch {
    return undefined;
  }
};

export function isOriginAllowed(policy: OriginPolicy, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (typeof policy === 'function') return policy(origin, req) === true;
  if (origin === undefined) return true;
  if (policy === '*') return true;
  const normalised = normalise(origin);
  if (normalised === undefined) return false; // "null" or garbage: an opaque origin
  if (policy === 'same-origin') {
    const host = req.headers.host;
    if (host === undefined) return false;
    const own = new URL(normalised);
    try {
      // Parse Host with the Origin's scheme so an explicit default port (example.com:443) matches.
      return own.host === new URL(`${own.protocol}//${host}`).host.toLowerCase();
    } catch {
      return false;
    }
  }
  return policy.some((allowed) => normalise(allowed) === normalised);
}
