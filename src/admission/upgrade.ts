import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ClientId, OutboundLimits, TopicGrant } from '../../machines/client.types.js';
import type { Settable } from '../../machines/hub.types.js';
import { clientAddress } from './client-address.js';
import { metaProblem } from './client-meta.js';
import { isTopicList, topicGrant } from './topic-grant.js';
import type { ConnectionCount } from './connection-count.js';
import { rejectUpgrade } from './http-reject.js';
import type { Logger } from '../observability/logger.js';
import { checkLimitsOverride } from '../options.js';
import type { AuthResult, HubOptions, ResolvedOptions } from '../types.js';
import { isHostAllowed, isOriginAllowed } from './origin.js';
import type { HubStats } from '../observability/stats.js';

export interface Admission {
  readonly id: ClientId;
  readonly meta: unknown;
  readonly limits: Settable<OutboundLimits> | undefined;
  /** When its token expires (ms since the epoch); undefined: never. */
  readonly expiresAt: number | undefined;
  /** The topics its token allows; undefined: any. */
  readonly topics: TopicGrant | undefined;
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
  /**
   * Takes the upgraded socket. From here its connection owns the per-IP slot: it calls
   * `perIp.release(ip)` once the socket is gone (`ip` is undefined when nothing is counted).
   */
  readonly register: (ws: WebSocket, admission: Admission, ip: string | undefined) => void;
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

/** Whether the request is for `path`; a URL parse costs ~5 us, so the exact path (with any query) is matched first. */
const isPathOf = (url: string | undefined, path: string, canonical: boolean): boolean => {
  if (
    canonical &&
    url !== undefined &&
    url.startsWith(path) &&
    (url.length === path.length || url.charCodeAt(path.length) === 63) /* ? */
  )
    return true;
  return pathnameOf(url) === path;
};

const isThenable = (x: unknown): x is PromiseLike<AuthResult> =>
  typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';

const withTimeout = <T>(promise: PromiseLike<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Rejected(503, 'authentication timed out')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });

/** Shared by every refused socket: a peer that resets after our answer must not become an unhandled 'error'. */
const ignore = (): void => undefined;
const DONE: Promise<void> = Promise.resolve();

/**
 * The gate in front of the hub: path, origin, per-address and total capacity, and
 * authentication are checked before the WebSocket handshake completes, so a refused request
 * never reaches the hub. With no hook or a synchronous one, the whole gate runs in the
 * 'upgrade' event: no promise, timer or listener per upgrade, and nothing of the request is
 * kept afterwards. A hook that answers with a promise is bounded by handshakeTimeoutMs.
 */
export function createUpgradeHandler(deps: UpgradeDeps) {
  const { options, stats, logger, perIp } = deps;
  // A path the URL parser would rewrite never matches as written: no shortcut for it.
  const canonicalPath = pathnameOf(options.path) === options.path;
  // Say where upgrades are served: a bare "not found" leaves a first-time user guessing.
  const wrongPath = `not found: WebSocket upgrades are served on ${options.path} only`;
  // With no cap (the default) there is nothing to count: no address lookup per upgrade.
  const capped = Number.isFinite(options.maxConnectionsPerIp);
  let pending = 0; // upgrades waiting on an async authenticate(): they count against maxClients

  const refuse = (req: IncomingMessage, socket: Duplex, r: Rejected): void => {
    stats.rejectedUpgrades++;
    stats.rejectedByStatus[r.status] = (stats.rejectedByStatus[r.status] ?? 0) + 1;
    // The path only: a query string may carry a token.
    logger.debug({ status: r.status, path: pathnameOf(req.url) }, 'upgrade refused');
    socket.on('error', ignore);
    rejectUpgrade(socket, r.status, r.message);
  };

  /** A socket that never became a connection frees its per-IP slot when it closes, however it closes. */
  const releaseOnClose = (socket: Duplex, ip: string | undefined): void => {
    if (ip === undefined) return;
    if ((socket as { closed?: boolean }).closed === true)
      perIp.release(ip); // 'close' already happened
    else socket.once('close', () => perIp.release(ip));
  };

  /** The synchronous checks, made before anything is counted. */
  const precheck = (req: IncomingMessage): Rejected | undefined => {
    if (deps.isClosing()) return new Rejected(503, 'hub is shutting down');
    if (!isPathOf(req.url, options.path, canonicalPath)) return new Rejected(404, wrongPath);
    if (!isHostAllowed(options.allowedHosts, req.headers.host)) return new Rejected(403, 'host not allowed');
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

  /** What authenticate() answered, turned into an admission or a refusal. */
  const decide = (result: AuthResult): Admission | Rejected => {
    if (result === false) return new Rejected(401, 'unauthorized');
    if (typeof result === 'object' && result !== null && 'reject' in result)
      return new Rejected(result.reject, result.message ?? 'unauthorized');
    const accepted = typeof result === 'object' && result !== null ? result : undefined;
    let id: ClientId;
    try {
      id = accepted?.id ?? deps.generateId();
    } catch (err) {
      stats.hookErrors++;
      logger.error({ err }, 'generateId() threw; refusing the upgrade');
      return new Rejected(500, 'internal error');
    }
    if (typeof id !== 'string' || id.length === 0) return new Rejected(500, 'authenticate() returned an invalid id');
    // Flattens the string in place: randomUUID() builds it from 20 pieces, ~420 B a client otherwise.
    id.charCodeAt(0);
    if (deps.isClosing()) return new Rejected(503, 'hub is shutting down');
    if (deps.isRegistered(id)) return new Rejected(409, 'client id already connected');
    if (accepted?.limits !== undefined) {
      try {
        checkLimitsOverride(accepted.limits);
      } catch (err) {
        logger.error({ err }, 'authenticate() returned invalid limits; refusing the upgrade');
        return new Rejected(500, 'authentication failed');
      }
    }
    const expiresAt = accepted?.expiresAt;
    if (expiresAt !== undefined) {
      if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
        logger.error({ expiresAt }, 'authenticate() returned an expiresAt that is not a time; refusing the upgrade');
        return new Rejected(500, 'authentication failed');
      }
      // Expired already (a hook that does not check): never admitted for an instant.
      if (expiresAt <= Date.now()) return new Rejected(401, 'token expired');
    }
    const topics = accepted?.topics;
    if (topics !== undefined && !isTopicList(topics)) {
      logger.error({}, 'authenticate() returned topics that are not a list of names; refusing the upgrade');
      return new Rejected(500, 'authentication failed');
    }
    // Metadata every node of a cluster must be able to carry (src/admission/client-meta.ts).
    const metaWrong = metaProblem(accepted?.meta);
    if (metaWrong !== undefined) {
      logger.error({ problem: metaWrong }, 'authenticate() returned unusable metadata; refusing the upgrade');
      return new Rejected(500, 'authentication failed');
    }
    return {
      id,
      meta: accepted?.meta,
      limits: accepted?.limits,
      expiresAt: expiresAt === undefined || expiresAt === Infinity ? undefined : expiresAt,
      topics: topics === undefined ? undefined : topicGrant(topics),
    };
  };

  const hookFailed = (err: unknown): Rejected => {
    stats.hookErrors++;
    logger.error({ err }, 'authenticate() threw; refusing the upgrade');
    return new Rejected(500, 'authentication failed');
  };

  /** Completes the handshake (ws does it synchronously); true when the hub got the socket. */
  const upgrade = (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    admission: Admission,
    ip: string | undefined,
  ): boolean => {
    let upgraded = false;
    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      deps.register(ws, admission, ip);
    });
    return upgraded;
  };

  /** The rare path: authenticate() answered with a promise. Bounded by handshakeTimeoutMs. */
  const admitLater = async (
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ip: string | undefined,
    answer: PromiseLike<AuthResult>,
  ): Promise<void> => {
    pending++;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      pending--;
      clearTimeout(timer);
      return true;
    };
    // Until the upgrade this socket frees its own slot; a peer that gives up frees it at once, not when its hook answers.
    const onClose = (): void => {
      settle();
      if (ip !== undefined) perIp.release(ip);
    };
    socket.once('close', onClose);
    socket.on('error', ignore); // a peer that resets while we wait on auth
    const timer = setTimeout(() => {
      if (!settle()) return;
      stats.handshakeTimeouts++;
      refuse(req, socket, new Rejected(408, 'handshake timed out'));
    }, options.handshakeTimeoutMs);
    timer.unref(); // never what keeps a closing process alive
    if ((socket as { closed?: boolean }).closed === true) return onClose(); // 'close' already happened

    let verdict: Admission | Rejected;
    try {
      verdict = decide(await withTimeout(answer, options.authTimeoutMs));
    } catch (err) {
      verdict = err instanceof Rejected ? err : hookFailed(err);
    }
    if (!settle()) return; // the handshake timeout already answered, or the peer left
    if (verdict instanceof Rejected) return refuse(req, socket, verdict);
    if (socket.destroyed) return; // the peer gave up while we authenticated; onClose frees the slot
    socket.off('error', ignore);
    if (upgrade(req, socket, head, verdict, ip)) socket.off('close', onClose);
  };

  return function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const early = precheck(req);
    if (early) {
      refuse(req, socket, early);
      return DONE;
    }
    const ip = capped ? clientAddress(req, options.trustProxy) : undefined;
    if (ip !== undefined && !perIp.tryAcquire(ip, options.maxConnectionsPerIp)) {
      refuse(req, socket, new Rejected(429, 'too many connections from this address'));
      return DONE;
    }
    if (deps.size() + pending >= options.maxClients) {
      releaseOnClose(socket, ip);
      refuse(req, socket, new Rejected(503, 'hub is full'));
      return DONE;
    }

    let verdict: Admission | Rejected;
    if (!deps.authenticate) verdict = decide(true);
    else {
      let answer: AuthResult | PromiseLike<AuthResult> | Rejected;
      try {
        answer = deps.authenticate(req);
      } catch (err) {
        answer = hookFailed(err);
      }
      if (answer instanceof Rejected) verdict = answer;
      else if (isThenable(answer)) return admitLater(req, socket, head, ip, answer);
      else verdict = decide(answer);
    }
    if (verdict instanceof Rejected) {
      releaseOnClose(socket, ip);
      refuse(req, socket, verdict);
    } else if (!upgrade(req, socket, head, verdict, ip)) {
      releaseOnClose(socket, ip); // ws refused the handshake itself (bad key, version...)
    }
    return DONE;
  };
}
