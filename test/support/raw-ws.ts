import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { closeFrame, parseServerFrames, type ServerFrame } from './ws-frame.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** What the server's side of the stream ended with. */
export interface StreamEnd {
  readonly kind: 'end';
  /** A socket error seen before the end (ECONNRESET…), if any. */
  readonly error: string | undefined;
}

/**
 * A WebSocket client on a bare TCP socket: it does a real handshake, then writes whatever
 * bytes a test builds (test/support/ws-frame.ts) and reads the server's frames one by one,
 * so a test can see exactly what the server answered, in order, down to the close frame.
 */
export class RawWs {
  #buf: Buffer = Buffer.alloc(0);
  readonly #frames: (ServerFrame | StreamEnd)[] = [];
  #waiter: (() => void) | undefined;
  #error: string | undefined;
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    head: Buffer,
  ) {
    socket.on('data', (chunk: Buffer) => this.#feed(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (this.#error ??= err.code ?? err.message));
    socket.on('end', () => this.#end());
    this.closed = new Promise((resolve) => socket.once('close', () => (this.#end(), resolve())));
    if (head.length > 0) this.#feed(head);
  }

  /** Connects and completes the opening handshake (RFC 6455 §4). */
  static connect(port: number, path: string): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        got = Buffer.concat([got, chunk]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const head = got.subarray(0, end).toString('latin1');
        const accept = createHash('sha1')
          .update(key + GUID)
          .digest('base64');
        if (
          !/^HTTP\/1\.1 101 /.test(head) ||
          !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)
        ) {
          socket.destroy();
          reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
          return;
        }
        resolve(new RawWs(socket, got.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
  }

  #feed(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const { frames, rest } = parseServerFrames(this.#buf);
    this.#buf = rest;
    if (frames.length === 0) return;
    this.#frames.push(...frames);
    this.#wake();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#frames.push({ kind: 'end', error: this.#error });
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** The next frame the server sent, or the end of its stream (repeated once reached). */
  async next(): Promise<ServerFrame | StreamEnd> {
    for (;;) {
      const f = this.#frames[0];
      if (f) {
        if (!('kind' in f)) this.#frames.shift();
        return f;
      }
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  /** Bytes the server sent that do not (yet) form a whole frame. */
  get partial(): number {
    return this.#buf.length;
  }

  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Answers a server close as RFC 6455 §5.5.1 asks (echo its code), then half-closes. */
  answerClose(code: number | undefined): void {
    this.write(closeFrame(code));
    this.socket.end();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
