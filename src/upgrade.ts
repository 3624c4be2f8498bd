import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ClientId, OutboundLimits } from '../machines/client.types.js';
import { clientAddress } from './client-address.js';
import type { ConnectionCount } from './connection-count.js';
import { rejectUpgrade } from './http-reject.js';
import type { Logger } from './logger.js';
import { checkLimitsOverride, type AuthResult, type HubOptions, type ResolvedOptions } from './options.js';
import { isOriginAllowed } from './origin.js';
import type { HubStats } from './stats.js';

export interface Admission {
  readonly id: ClientId;
  readonly meta: unknown;
  readonly limits: Partial<OutboundLimits> | undefined;
}

export interface UpgradeDeps {
  readonly options: ResolvedOptions;
  readonly authenticate: HubOptions['authenticate'];
  readonly generateId: () => ClientId;
  readonly wss: WebSocketServer;
  readonly stats: HubStats;
  readonly logger: Logger;
  readonly isClosing: () => boolean;
  readonly isRegistered: (id: ClientId) => boolean;
  readonly size: () => number;
  readonly register: (ws: WebSocket, req: IncomingMessage, admission: Admission) => void;
  /** Open connections per client address (the per-IP cap); owned by this gate. */
  readonly perIp: ConnectionCount;
}

class Rejected {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

const pathnameOf = (url: string | undefined): string => {
  try {
    return new URL(url ?? '/', 'http://h').pathname;
  } catch {
    return '';
  }
};

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Rejected(503, 'authentication timed out')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });

/**
 * The gate in front of the hub: path, origin, per-address and total capacity, and
 * authentication are checked before the WebSocket handshake completes, so a refused request
 * never reaches the hub. The whole gate is bounded by handshakeTimeoutMs.
 */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { options, stats, logger } = deps;
  let pending = 0; // upgrades admitted but not yet registered: they count against maxClients

  /** The synchronous checks, made before anything is counted. */
  const precheck = (req: IncomingMessage): Rejected | undefined => {
    if (deps.isClosing()) return new Rejected(503, 'hub is shutting down');
    if (pathnameOf(req.url) !== options.path) return new Rejected(404, 'not found');
    let originOk: boolean;
    try {
      originOk = isOriginAllowed(options.origins, req);
    } catch (err) {
      logger.error({ err }, 'origin predicate threw; refusing the upgrade');
      originOk = false;
    }
    if (!originOk) return new Rejected(403, 'origin not allowed');
    return undefined;
  };

  const admit = async (req: IncomingMessage): Promise<Admission> => {
    let result: AuthResult = true;
    if (deps.authenticate) {
      try {
        result = await withTimeout(Promise.resolve().then(() => deps.authenticate!(req)), options.authTimeoutMs);
      } catch (err) {
        if (err instanceof Rejected) throw err;
        stats.hookErrors++;
        logger.error({ err }, 'authenticate() threw; refusing the upgrade');
        throw new Rejected(500, 'authentication failed');
      }
    }
    if (result === false) throw new Rejected(401, 'unauthorized');
    if (typeof result === 'object' && result !== null && 'reject' in result) {
      throw new Rejected(result.reject, result.message ?? 'unauthorized');
    }
    const accepted = typeof result === 'object' && result !== null ? result : {};
    let id: ClientId;
    try {
      id = accepted.id ?? deps.generateId();
    } catch (err) {
      stats.hookErrors++;
      logger.error({ err }, 'generateId() threw; refusing the upgrade');
      throw new Rejected(500, 'internal error');
    }
    if (typeof id !== 'string' || id.length === 0) throw new Rejected(500, 'authenticate() returned an invalid id');
    // Flattens the string in place: randomUUID() builds it from 20 pieces, ~420 B a client otherwise.
    id.charCodeAt(0);
    if (deps.isClosing()) throw new Rejected(503, 'hub is shutting down');
    if (deps.isRegistered(id)) throw new Rejected(409, 'client id already connected');
    if (accepted.limits !== undefined) {
      try {
        checkLimitsOverride(accepted.limits);
      } catch (err) {
        logger.error({ err }, 'authenticate() returned invalid limits; refusing the upgrade');
        throw new Rejected(500, 'authentication failed');
      }
    }
    return { id, meta: accepted.meta, limits: accepted.limits };
  };

  return async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A peer that resets while we wait on auth must not become an unhandled 'error'.
    const onError = (): void => undefined;
    socket.on('error', onError);
    const refuse = (r: Rejected): void => {
      stats.rejectedUpgrades++;
      stats.rejectedByStatus[r.status] = (stats.rejectedByStatus[r.status] ?? 0) + 1;
      // The path only: a query string may carry a token.
      logger.debug({ status: r.status, path: pathnameOf(req.url) }, 'upgrade refused');
      rejectUpgrade(socket, r.status, r.message);
    };
    const early = precheck(req);
    if (early) return refuse(early);

    const ip = clientAddress(req, options.trustProxy);
    if (!deps.perIp.tryAcquire(ip, options.maxConnectionsPerIp)) return refuse(new Rejected(429, 'too many connections from this address'));
    // Released when the socket closes, whoever closes it (refusal, peer, hub, timeout): one exit, no leak.
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      deps.perIp.release(ip);
    };
    socket.once('close', release);
    if ((socket as { closed?: boolean }).closed === true) return release(); // 'close' already happened

    if (deps.size() + pending >= options.maxClients) return refuse(new Rejected(503, 'hub is full'));
    pending++;
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      pending--;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settle();
      stats.handshakeTimeouts++;
      refuse(new Rejected(408, 'handshake timed out'));
    }, options.handshakeTimeoutMs);
    timer.unref(); // never what keeps a closing process alive
    socket.once('close', settle); // a peer that gives up frees its slot at once, not when its hook answers

    let admission: Admission;
    try {
      admission = await admit(req);
    } catch (err) {
      if (settled) return; // the handshake timeout already answered
      settle();
      if (!(err instanceof Rejected)) logger.error({ err }, 'upgrade failed');
      refuse(err instanceof Rejected ? err : new Rejected(500, 'internal error'));
      return;
    }
    if (settled) return;
    if (socket.destroyed) return settle(); // the peer gave up while we authenticated
    try {
      deps.wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', onError);
        deps.register(ws, req, admission);
      });
    } finally {
      settle(); // after registration: ws completes a handshake synchronously
    }
  };
}
