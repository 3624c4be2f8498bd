import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Hub } from '../types.js';
import { createHttpApi, type HttpApiOptions } from './http-api.js';
import { metricsHandler } from '../observability/metrics/handler.js';
import { isHostAllowed } from '../admission/origin.js';
import * as L from '../limits.js';
import type { HubViewer } from '../observability/viewer/viewer.js';

export interface RoutesOptions {
  /** The HTTP publish API under /api (off, answering 404, without an apiKey). */
  readonly api?: HttpApiOptions;
  /** The live viewer (GET /inspect and its feed), when the hub was created with it as `inspect`. */
  readonly viewer?: HubViewer | undefined;
}
import { hubPage } from './page/page.js';

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

/** The standalone server's plain HTTP side: the live page (/), /stats, /healthz, /metrics and /api/*; everything else is 404. */
export function hubRoutes(hub: Hub, options: RoutesOptions = {}): RequestListener {
  const startedAt = Date.now();
  const api = createHttpApi(hub, options.api ?? { apiKey: undefined });
  const metrics = metricsHandler(hub);
  const page = hubPage(hub);
  const allowedHosts = hub.options.allowedHosts;
  const rates = rateSampler(() => [hub.stats.messagesIn, hub.stats.messagesOut]);
  return (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on a name the attacker controls reaches this server with its own Host.
    if (!isHostAllowed(allowedHosts, req.headers.host)) return json(res, 403, { error: 'host not allowed' });
    if (api(req, res)) return;
    if (options.viewer?.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') return page(req, res);
    // The WebSocket endpoint asked over plain HTTP (a browser tab, curl): say what it is (RFC 9110 §15.5.22).
    if (path === hub.options.path) {
      res.setHeader('upgrade', 'websocket');
      res.setHeader('connection', 'Upgrade');
      return json(res, 426, {
        error: 'upgrade_required',
        message: `${hub.options.path} is a WebSocket endpoint: connect with a WebSocket client (ws://, or wss:// over TLS)`,
      });
    }
    if (path !== '/stats' && path !== '/healthz' && path !== '/metrics') return json(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: 'method not allowed' });
    }
    if (path === '/metrics') return metrics(req, res);
    const cluster = hub.clusterStats();
    if (path === '/healthz') {
      // The hub actor failed: nothing is served any more; a supervisor or load balancer must act.
      if (hub.failed) return json(res, 503, { status: 'failed' });
      if (hub.closing) return json(res, 503, { status: 'draining' });
      // Broker down: local clients are still served, so the node stays in rotation, degraded.
      if (cluster && cluster.broker.state !== 'up')
        return json(res, 200, { status: 'degraded', broker: cluster.broker.state });
      return json(res, 200, { status: 'ok' });
    }
    const [messagesInPerSec, messagesOutPerSec] = rates();
    json(res, 200, {
      clients: hub.size,
      topics: hub.topicCount,
      ...(cluster ? { cluster } : {}),
      state: hub.state,
      status: hub.failed ? 'failed' : hub.state === 'stopped' ? 'done' : 'active',
      uptimeMs: Date.now() - startedAt,
      ...hub.stats,
      messagesInPerSec,
      messagesOutPerSec,
    });
  };
}

/**
 * Rates over the last completed window of at least RATE_WINDOW_MS, sampled when /stats is
 * asked (no timer). Every reader in the same window gets the same figures: two live pages
 * polling out of phase used to compute their own deltas and show different messages/s.
 */
function rateSampler(read: () => readonly number[]): () => number[] {
  let prev = { t: performance.now(), v: read() };
  let cur = prev;
  return () => {
    const now = performance.now();
    if (now - cur.t >= L.STATS_RATE_WINDOW_MS) {
      prev = cur;
      cur = { t: now, v: read() };
    }
    const dt = (cur.t - prev.t) / 1000;
    return cur.v.map((v, i) => (dt > 0 ? Math.round(((v - prev.v[i]!) / dt) * 10) / 10 : 0));
  };
}
