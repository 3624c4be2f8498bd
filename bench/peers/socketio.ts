/**
 * Peer "socket.io 4": what most people pick. Every 'message' event a client emits goes to every
 * OTHER client with socket.broadcast.emit (socket.io 4.6+ encodes a broadcast once).
 * GET /stats → {"clients": n} (sockets connected to the main namespace).
 * Run: node dist/bench/peers/socketio.js --port 0 --host 127.0.0.1
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

let io: Server | undefined;

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    const body = JSON.stringify({ clients: io?.of('/').sockets.size ?? 0 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  // socket.io answers its own path (/socket.io/) through its listener; leave those requests alone.
  if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
});

io = new Server(server, { serveClient: false, transports: ['websocket'], perMessageDeflate: false });
io.on('connection', (socket) => {
  socket.on('message', (data: unknown) => {
    socket.broadcast.emit('message', data);
  });
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`socket.io listening on http://${values.host}:${port}\n`);
});

process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
