/**
 * docs/reliability.md item 9: `npm run bench -- shutdown [--clients 10000]`. The CLI hub (relay) as a
 * child process; N light clients connect with bounded concurrency, a publisher streams to all
 * of them; then SIGTERM. Measured: time from SIGTERM to the process's exit and its exit code,
 * the close code every client received (1001 expected; a client that gets no close frame is
 * counted), and when the last client saw its socket close. The clients answer pings and the
 * closing handshake like any well-behaved client.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { connectAll, maskedFrame } from './load/raw-client.js';
import { until, waitForClients } from './load/server-stats.js';
import { FrameReader } from './reliability/frame-reader.js';
import { HOST, mib, printTable, softFdLimit, spawnCli } from './reliability/common.js';
import { rssBytes } from './proc.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '5' },
    'shutdown-timeout': { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '100' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- shutdown [options]
  --clients N           connected clients (default 10000; needs N + 200 open files: check ulimit -n)
  --rate R              broadcasts per second while connected and during the shutdown (default 5)
  --shutdown-timeout MS the hub's --shutdown-timeout (default 10000)
  --concurrency C       handshakes in flight at most (default 100)`);
  process.exit(0);
}
const N = Number(values.clients);
const RATE = Number(values.rate);
const SHUTDOWN_MS = Number(values['shutdown-timeout']);
const CONCURRENCY = Number(values.concurrency);
const PONG = maskedFrame(0xa, '');

/** A client's close frame carrying `code` (masked with a zero key: allowed, and the bytes stay as they are). */
function maskedClose(code: number): Buffer {
  const frame = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0, 0]);
  frame.writeUInt16BE(code, 6);
  return frame;
}

interface Client {
  reader: FrameReader;
  closedAt: number;
}

function open(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST, noDelay: true });
    const client: Client = { reader: new FrameReader(), closedAt: 0 };
    let head = '';
    let upgraded = false;
    socket.once('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('error', (error) => (upgraded ? undefined : reject(error)));
    socket.once('close', () => (client.closedAt = performance.now()));
    client.reader.onFrame = (opcode) => {
      if (opcode === 9) socket.write(PONG);
      else if (opcode === 8) {
        // Answer the closing handshake with the same code, then let the server close TCP.
        socket.write(maskedClose(client.reader.closeCode === 1005 ? 1000 : client.reader.closeCode));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return client.reader.push(chunk);
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head.split('\r\n')[0]));
      upgraded = true;
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      if (rest.length > 0) client.reader.push(rest);
      resolve(client);
    });
  });
}

async function main(): Promise<void> {
  const fds = softFdLimit();
  console.log(`open-file limit of this process: ${fds} (ulimit -n); ${N} clients need about ${N + 200}`);
  if (N + 200 > fds) throw new Error(`raise the limit (ulimit -n ${N + 200}) or lower --clients`);
  const hub = await spawnCli(['--protocol', 'relay', '--shutdown-timeout', String(SHUTDOWN_MS)]);
  const publisher = await new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${hub.port}/ws`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
  publisher.on('error', () => undefined);
  const t0 = performance.now();
  const clients = await connectAll(N, CONCURRENCY, () => open(hub.port));
  await waitForClients(HOST, hub.port, N + 1, 60_000, 50);
  const connectS = (performance.now() - t0) / 1000;
  const rss = rssBytes(hub.pid);

  let k = 0;
  const timer = setInterval(() => publisher.readyState === WebSocket.OPEN && publisher.send(`m${k++}`), 1000 / RATE);
  await until(() => clients.every((c) => c.reader.dataFrames >= 3), 60_000, 50);
  const before = clients.reduce((s, c) => s + c.reader.dataFrames, 0);

  const sigterm = performance.now();
  hub.child.kill('SIGTERM');
  const exit = await Promise.race([hub.exited, sleep(SHUTDOWN_MS + 30_000, undefined)]);
  clearInterval(timer);
  const allClosed = await until(() => clients.every((c) => c.closedAt > 0), 30_000, 20);
  publisher.terminate();

  const codes = new Map<string, number>();
  for (const c of clients) {
    const key = c.reader.closeFrame ? String(c.reader.closeCode) : 'no close frame';
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const lastClose = Math.max(...clients.map((c) => c.closedAt)) - sigterm;
  printTable([
    ['shutdown under load', 'figure'],
    ['clients connected', `${N} in ${connectS.toFixed(1)} s (concurrency ${CONCURRENCY})`],
    ['hub RSS with them', mib(rss)],
    ['messages received before SIGTERM', `${before} (${RATE} broadcasts/s)`],
    [
      'SIGTERM → process exit',
      exit
        ? `${(exit.at - sigterm).toFixed(0)} ms (shutdown timeout ${SHUTDOWN_MS} ms)`
        : `NOT within ${SHUTDOWN_MS + 30_000} ms`,
    ],
    ['exit code', exit ? String(exit.code ?? exit.signal) : '—'],
    ['close codes received', [...codes].map(([c, n]) => `${c}: ${n}`).join(', ')],
    ['SIGTERM → last client socket closed', allClosed ? `${lastClose.toFixed(0)} ms` : 'some never closed'],
  ]);
  const ok = exit?.code === 0 && codes.get('1001') === N && allClosed && exit.at - sigterm < SHUTDOWN_MS;
  console.log(`\n${ok ? 'OK' : 'FAILED'}: every client got 1001 and the process exited 0 within the shutdown timeout`);
  if (!exit) hub.child.kill('SIGKILL');
  for (const c of clients) c.reader.onFrame = () => undefined;
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
