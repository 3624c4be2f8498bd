import type { IncomingMessage } from 'node:http';

const unmap = (address: string): string =>
  address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;

/**
 * The address a connection is counted under (per-IP cap). With `trustedHops` 0 (default) it is
 * the TCP peer and X-Forwarded-For is ignored: anyone can write that header. With N trusted
 * proxies in front, it is the address the outermost trusted proxy saw: walking
 * X-Forwarded-For from the right, N entries in (as Express's `trust proxy` with a hop count).
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = unmap(req.socket.remoteAddress ?? 'unknown');
  if (trustedHops <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  // [peer, last proxy-added, ..., first]: hop i is what the i-th trusted proxy saw.
  const chain = [peer, ...forwarded.reverse()];
  return unmap(chain[Math.min(trustedHops, chain.length - 1)]!);
}
