/**
 * The light subscriber: a TCP socket that does the WebSocket handshake by hand, then only
 * parses frame headers and counts messages. No message objects, no UTF-8 checks, no stream
 * machinery: every socket reads into one shared buffer through net's `onread`.
 * For socket.io it also speaks the bits of engine.io it must: "40" to join the main
 * namespace, "3" in answer to a ping "2"; it counts "42" (event) packets only.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { Departure, Wire } from '../types.js';

/** Every delivery counted by any client of the generator; `wake` runs once total reaches wakeAt. */
export class Tally {
  total = 0;
  wakeAt = Number.POSITIVE_INFINITY;
  wake: () => void = () => undefined;

  add(): void {
    if (++this.total >= this.wakeAt) this.wake();
  }
}

const SHARED = Buffer.allocUnsafe(256 * 1024);

/** A masked (client-to-server) frame. */
export function maskedFrame(opcode: number, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + ext + 4 + len);
  frame[0] = 0x80 | opcode;
  if (ext === 0) frame[1] = 0x80 | len;
  else if (ext === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  const key = randomBytes(4);
  key.copy(frame, 2 + ext);
  for (let i = 0; i < len; i++) frame[2 + ext + 4 + i] = payload[i]! ^ key[i & 3]!;
  return frame;
}

const PONG = maskedFrame(0xa, '');
/** A close frame with code 1000 (the payload is the code, big-endian). */
const CLOSE_NORMAL = maskedFrame(0x8, Buffer.from([0x03, 0xe8]));
const EIO_PONG = maskedFrame(0x1, '3');
const SIO_CONNECT = maskedFrame(0x1, '40');

export class RawClient {
  /** Messages counted since the connection was ready. */
  count = 0;
  ready = false;
  closed = false;
  closeCode = 0;
  private socket: net.Socket | undefined;
  private upgraded = false;
  private head = '';
  private readonly hdr = new Uint8Array(14);
  private hdrLen = 0;
  private opcode = 0;
  private fin = false;
  private len = 0;
  private left = 0;
  /** Payload bytes seen of the current frame (only the first two are kept). */
  private pos = 0;
  private b0 = -1;
  private b1 = -1;
  private onReady: () => void = () => undefined;
  private onFail: (error: Error) => void = () => undefined;

  constructor(
    private readonly wire: Wire,
    private readonly tally: Tally,
  ) {}

  /** Sends one text message (a masked frame): a subscribe or a join. */
  sendText(text: string): void {
    this.socket?.write(maskedFrame(0x1, text));
  }

  connect(host: string, port: number, path: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.onFail(new Error(`handshake not done after ${timeoutMs} ms`)), timeoutMs);
      this.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.onFail = (error) => {
        clearTimeout(timer);
        this.socket?.destroy();
        reject(error);
      };
      const socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: SHARED,
          callback: (n: number, buf: Uint8Array) => {
            this.onBytes(n, buf);
            return true;
          },
        },
      });
      this.socket = socket;
      socket.on('connect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      socket.on('error', (error) => {
        if (!this.ready) this.onFail(error);
      });
      socket.on('close', () => {
        this.closed = true;
        if (!this.ready) this.onFail(new Error('connection closed before the handshake finished'));
      });
    });
  }

  /**
   * Leaves as a churning client does, resolving once the socket is closed (at most timeoutMs,
   * then RST): 'close' sends a close frame (1000) and waits for the server to close, 'fin'
   * ends the TCP stream without a close frame, 'rst' resets it. Resolves false on a timeout.
   */
  leave(kind: Departure, timeoutMs: number): Promise<boolean> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve(true);
    if (kind === 'rst') {
      socket.resetAndDestroy();
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        socket.resetAndDestroy();
        resolve(false);
      }, timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
      if (kind === 'close') socket.write(CLOSE_NORMAL);
      else socket.end();
    });
  }

  /** Closes with a TCP RST: no TIME_WAIT left behind by thousands of sockets. */
  destroy(): void {
    const socket = this.socket;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
  }

  private markReady(): void {
    this.ready = true;
    this.onReady();
  }

  private onBytes(n: number, buf: Uint8Array): void {
    let i = 0;
    if (!this.upgraded) {
      const before = this.head.length;
      this.head += Buffer.from(buf.buffer, buf.byteOffset, n).toString('latin1');
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > 16_384) this.onFail(new Error('handshake response too long'));
        return;
      }
      if (!this.head.startsWith('HTTP/1.1 101')) {
        this.onFail(new Error(`upgrade refused: ${this.head.slice(0, this.head.indexOf('\r\n'))}`));
        return;
      }
      this.upgraded = true;
      i = end + 4 - before;
      this.head = '';
      if (this.wire === 'ws') this.markReady();
      else this.socket?.write(SIO_CONNECT);
    }
    this.parse(buf, i, n);
  }

  private parse(b: Uint8Array, start: number, n: number): void {
    let i = start;
    while (i < n) {
      if (this.left > 0) {
        while (this.pos < 2 && this.left > 0 && i < n) {
          if (this.pos === 0) this.b0 = b[i]!;
          else this.b1 = b[i]!;
          this.pos++;
          this.left--;
          i++;
        }
        const take = Math.min(this.left, n - i);
        i += take;
        this.left -= take;
        if (this.left === 0) this.frameEnd();
        continue;
      }
      const h = this.hdr;
      h[this.hdrLen++] = b[i++]!;
      if (this.hdrLen < 2) continue;
      const l7 = h[1]! & 0x7f;
      const need = l7 === 126 ? 4 : l7 === 127 ? 10 : 2;
      if (this.hdrLen < need) continue;
      this.opcode = h[0]! & 0x0f;
      this.fin = (h[0]! & 0x80) !== 0;
      this.len =
        l7 < 126 ? l7 : l7 === 126 ? (h[2]! << 8) | h[3]! : h[6]! * 2 ** 24 + ((h[7]! << 16) | (h[8]! << 8) | h[9]!);
      this.hdrLen = 0;
      this.pos = 0;
      this.b0 = -1;
      this.b1 = -1;
      this.left = this.len;
      if (this.len === 0) this.frameEnd();
    }
  }

  private frameEnd(): void {
    const op = this.opcode;
    if (op <= 2) {
      if (!this.fin) return;
      if (this.wire === 'socketio') {
        // engine.io: "0{…}" open, "2" ping, "40{…}" namespace joined, "42[…]" an event.
        if (this.b0 === 0x32 && this.len === 1) {
          this.socket?.write(EIO_PONG);
          return;
        }
        if (this.b0 !== 0x34) return;
        if (this.b1 === 0x30 && !this.ready) return this.markReady();
        if (this.b1 !== 0x32) return;
      }
      this.count++;
      this.tally.add();
    } else if (op === 0x9) {
      this.socket?.write(PONG);
    } else if (op === 0x8) {
      this.closeCode = this.len >= 2 ? (this.b0 << 8) | this.b1 : 1005;
    }
  }
}

/** Runs open(i) for i in [0, n) with at most `concurrency` in flight, roughly in index order. */
export async function connectAll<T>(n: number, concurrency: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}
