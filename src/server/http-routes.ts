import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Hub } from '../types.js';
import { createHttpApi, type HttpApiOptions } from './http-api.js';
import { metricsHandler } from '../observability/metrics/handler.js';
import { isHostAllowed } from '../admission/origin.js';

export interface RoutesOptions {
  /** The HTTP publish API under /api (off, answering 404, without an apiKey). */
  readonly api?: HttpApiOptions;
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
  return (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on a name the attacker controls reaches this server with its own Host.
    if (!isHostAllowed(allowedHosts, req.headers.host)) return json(res, 403, { error: 'host not allowed' });
    if (api(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/') return page(req, res);
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
    json(res, 200, {
      clients: hub.size,
      topics: hub.topicCount,
      ...(cluster ? { cluster } : {}),
      state: hub.state,
      status: hub.failed ? 'failed' : hub.actor.getSnapshot().status,
      uptimeMs: Date.now() - startedAt,
      ...hub.stats,
    });
  };
}
