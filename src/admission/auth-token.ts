import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as L from '../limits.js';

/**
 * Where a client may carry its token: `header` (`Authorization: Bearer <token>`, non-browser
 * clients), `protocol` (a `Sec-WebSocket-Protocol` entry `bearer.<token>`, the one a browser
 * can set) or `query` (`?token=`, which proxies and access logs record). See docs/security.md.
 */
export type TokenSource = 'header' | 'protocol' | 'query';

export interface TokenOptions {
  /** Sources tried in this order (default: header, protocol). */
  readonly from?: readonly TokenSource[] | undefined;
  readonly queryParam?: string | undefined;
  readonly protocolPrefix?: string | undefined;
}

const TOKEN_SOURCES: readonly TokenSource[] = ['header', 'protocol', 'query'];

export const isTokenSource = (s: string): s is TokenSource => (TOKEN_SOURCES as readonly string[]).includes(s);

const fromHeader = (req: IncomingMessage): string | undefined => {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
};

const fromProtocol = (req: IncomingMessage, prefix: string): string | undefined => {
  for (const p of (req.headers['sec-websocket-protocol'] ?? '').split(',')) {
    const protocol = p.trim();
    if (protocol.startsWith(prefix) && protocol.length > prefix.length) return protocol.slice(prefix.length);
  }
  return undefined;
};

const fromQuery = (req: IncomingMessage, param: string): string | undefined => {
  try {
    return new URL(req.url ?? '/', 'http://h').searchParams.get(param) || undefined;
  } catch {
    return undefined;
  }
};

/** The token an upgrade request carries, from the first allowed source that has one. */
export function extractToken(req: IncomingMessage, options: TokenOptions = {}): string | undefined {
  for (const source of options.from ?? L.TOKEN_SOURCES) {
    const token =
      source === 'header'
        ? fromHeader(req)
        : source === 'protocol'
          ? fromProtocol(req, options.protocolPrefix ?? L.TOKEN_PROTOCOL_PREFIX)
          : fromQuery(req, options.queryParam ?? L.TOKEN_QUERY_PARAM);
    if (token !== undefined) return token;
  }
  return undefined;
}

/**
 * The subprotocol the server answers (ws `handleProtocols`): the first offered one that does
 * not carry a token, so the token is never echoed. A browser that offered subprotocols fails
 * the handshake if none is answered: offer e.g. `['actorhub', 'bearer.<token>']`.
 */
export const selectProtocol =
  (prefix: string) =>
  (offered: Set<string>): string | false => {
    for (const p of offered) if (!p.startsWith(prefix)) return p;
    return false;
  };

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * An authenticate() that admits requests carrying one of `tokens`. Each comparison is constant
 * time (equal-length SHA-256 digests with timingSafeEqual) and every token is compared, so the
 * answer's timing says nothing about which token or how much of it matched.
 */
export function staticTokenAuth(
  tokens: readonly string[],
  options: TokenOptions = {},
): (req: IncomingMessage) => boolean {
  const digests = tokens.map(digest);
  return (req) => {
    const token = extractToken(req, options);
    if (token === undefined) return false;
    const given = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    return ok;
  };
}
