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

/**
 * Which `Host` headers the hub answers (DNS rebinding: a page on evil.example whose name is made
 * to resolve to the hub's address sends `Host: evil.example` and a matching `Origin`, so the
 * same-origin check alone lets it in). `undefined`: any host (the default). A list entry is a
 * host name (`hub.example.com`), or `.example.com` for it and every subdomain. `localhost`,
 * `*.localhost` and IP literals are always allowed: a rebinding attack needs a name it controls.
 */
export function isHostAllowed(allowed: readonly string[] | undefined, hostHeader: string | undefined): boolean {
  if (allowed === undefined) return true;
  if (hostHeader === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (hostname.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return true; // IPv6 / IPv4 literal
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('.') ? hostname === e.slice(1) || hostname.endsWith(e) : hostname === e;
  });
}

/**
 * The entry of an allow-list that is not an origin (`scheme://host[:port]`, nothing after), if
 * any. `foo` or `app.example.com` would match no browser ever and refuse every page silently,
 * so the hub refuses them at start-up instead.
 */
export function invalidOrigin(policy: OriginPolicy): string | undefined {
  if (typeof policy === 'function' || policy === '*' || policy === 'same-origin') return undefined;
  if (typeof policy === 'string') return policy; // a single string that is no policy keyword
  return policy.find((entry) => {
    if (typeof entry !== 'string' || entry === '*' || entry === 'same-origin') return true;
    try {
      const url = new URL(entry);
      const rest = entry.slice(url.origin.length);
      return url.origin === 'null' || url.username !== '' || (rest !== '' && rest !== '/');
    } catch {
      return true;
    }
  });
}
