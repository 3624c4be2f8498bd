/**
 * Peer "raw ws": the Node floor. A WebSocketServer on an http.Server, a Set of clients and a
 * for-loop that sends every message to every OTHER client, unchanged (text stays text).
 * GET /stats → {"clients": n}. Run: node dist/bench/peers/raw-ws.js --port 0 --host 127.0.0.1
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

const clients = new Set<WebSocket>();

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    const body = JSON.stringify({ clients: clients.size });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const client of clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => clients.delete(ws));
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`raw-ws listening on http://${values.host}:${port}\n`);
});

process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
