import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../../types.js';

/** Answers with the hub's metrics in Prometheus text format (mount it at GET /metrics). */
export const metricsHandler =
  (hub: Pick<Hub, 'metrics'>) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    hub.metrics.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': hub.metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics failed: ${(err as Error).message}\n`);
      },
    );
  };
