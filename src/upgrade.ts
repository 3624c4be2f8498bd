import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ClientId, OutboundLimits } from '../machines/client.types.js';
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
 * The gate in front of the hub: path, origin, capacity and authentication are checked
 * before the WebSocket handshake completes, so a refused request never reaches the hub.
 */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { options, stats, logger } = deps;
  let pending = 0; // upgrades waiting on authenticate(): they count against maxClients

  const admit = async (req: IncomingMessage): Promise<Admission> => {
    if (deps.isClosing()) throw new Rejected(503, 'hub is shutting down');
    if (pathnameOf(req.url) !== options.path) throw new Rejected(404, 'not found');
    let originOk: boolean;
    try {
      originOk = isOriginAllowed(options.origins, req);
    } catch (err) {
      logger.error({ err }, 'origin predicate threw; refusing the upgrade');
      originOk = false;
    }
    if (!originOk) throw new Rejected(403, 'origin not allowed');
    if (deps.size() + pending >= options.maxClients) throw new Rejected(503, 'hub is full');
    let result: AuthResult = true;
    if (deps.authenticate) {
      pending++;
      try {
        result = await withTimeout(Promise.resolve().then(() => deps.authenticate!(req)), options.authTimeoutMs);
      } catch (err) {
        if (err instanceof Rejected) throw err;
        stats.hookErrors++;
        logger.error({ err }, 'authenticate() threw; refusing the upgrade');
        throw new Rejected(500, 'authentication failed');
      } finally {
        pending--;
      }
    }
    if (result === false) throw new Rejected(401, 'unauthorized');
    if (typeof result === 'object' && result !== null && 'reject' in result) {
      throw new Rejected(result.reject, result.message ?? 'unauthorized');
    }
    const accepted = typeof result === 'object' && result !== null ? result : {};
    const id = accepted.id ?? deps.generateId();
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
    let admission: Admission;
    try {
      admission = await admit(req);
    } catch (err) {
      stats.rejectedUpgrades++;
      const r = err instanceof Rejected ? err : new Rejected(500, 'internal error');
      if (!(err instanceof Rejected)) logger.error({ err }, 'upgrade failed');
      logger.debug({ status: r.status, url: req.url }, 'upgrade refused');
      rejectUpgrade(socket, r.status, r.message);
      return;
    }
    if (socket.destroyed) return; // the peer gave up while we authenticated
    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onError);
      deps.register(ws, req, admission);
    });
  };
}
