/**
 * Peer "socket.io rooms": topics as socket.io does them. A client emits "join" with a room name
 * (socket.join), a publisher emits "publish" with a room and data, and the server sends it with
 * io.to(room).emit — encoded once per broadcast by socket.io 4.6+.
 * GET /stats → {"clients": n} (sockets connected to the main namespace).
 * Run: node dist/bench/peers/socketio-rooms.js --port 0 --host 127.0.0.1
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
  socket.on('join', (room: string) => void socket.join(room));
  socket.on('publish', (room: string, data: unknown) => void io!.to(room).emit('message', data));
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`socket.io-rooms listening on http://${values.host}:${port}\n`);
});

process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
