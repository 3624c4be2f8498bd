import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Frame } from '../machines/client.types.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import { corkForTick, type Corkable } from './tick-cork.js';

export interface WsConnectionOptions {
  readonly closeTimeoutMs: number;
  /** Socket-buffered bytes above which the writer queues instead of writing. */
  readonly writeHighWaterBytes: number;
  readonly remoteAddress: string | undefined;
}

/** The close code ws attaches to a protocol error it closes the socket for (a symbol it does not export). */
const statusCodeOf = (err: unknown): number | undefined => {
  if (typeof err !== 'object' || err === null) return undefined;
  const key = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  const code = key === undefined ? undefined : (err as Record<symbol, unknown>)[key];
  return typeof code === 'number' ? code : undefined;
};

/**
 * A `ws` WebSocket seen as a Connection. Frames arrive already encoded by the hub (see
 * frame.ts), so they go straight to the TCP socket: ws's own send() would re-frame them.
 * That is safe because nothing else sends on this socket and per-message deflate is off.
 */
export class WsConnection implements Connection, Corkable {
  readonly remoteAddress: string | undefined;
  readonly socket: Socket;
  /** Set by corkForTick while this socket is corked for the current tick. */
  corked = false;
  readonly #ws: WebSocket;
  readonly #closeTimeoutMs: number;
  readonly #highWater: number;
  #closeTimer: NodeJS.Timeout | undefined;
  #protocolErrorCode: number | undefined;

  constructor(ws: WebSocket, options: WsConnectionOptions) {
    this.#ws = ws;
    this.socket = (ws as unknown as { _socket: Socket })._socket;
    this.#closeTimeoutMs = options.closeTimeoutMs;
    // 'drain' only fires once the socket's own high-water mark was crossed: never queue below it.
    this.#highWater = Math.max(options.writeHighWaterBytes, this.socket.writableHighWaterMark);
    this.remoteAddress = options.remoteAddress;
    // ws reports protocol errors (1007, 1009, ...) as 'error' before closing: never let one throw.
    ws.on('error', (err) => {
      this.#protocolErrorCode ??= statusCodeOf(err);
    });
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  get writable(): boolean {
    return this.socket.writableLength < this.#highWater;
  }

  listen(handlers: ConnectionHandlers): () => void {
    const ws = this.#ws;
    const onMessage = (data: Buffer, binary: boolean): void => handlers.message(data, binary);
    const onPong = (): void => handlers.pong();
    const onDrain = (): void => handlers.drain();
    const onClose = (code: number, reason: Buffer): void => {
      clearTimeout(this.#closeTimer);
      handlers.closed(code, reason.toString(), this.#protocolErrorCode);
    };
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.once('close', onClose);
    this.socket.on('drain', onDrain);
    return () => {
      ws.off('message', onMessage);
      ws.off('pong', onPong);
      ws.off('close', onClose);
      this.socket.off('drain', onDrain);
    };
  }

  write(frame: Frame): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    corkForTick(this);
    this.socket.write(frame as Buffer);
  }

  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
  }

  close(code: number, reason: string): void {
    if (this.#ws.readyState !== WebSocket.OPEN && this.#ws.readyState !== WebSocket.CONNECTING) return;
    this.#ws.close(code, reason);
    this.#closeTimer = setTimeout(() => this.#ws.terminate(), this.#closeTimeoutMs);
    this.#closeTimer.unref();
  }

  stopReading(): void {
    this.#ws.pause();
  }

  terminate(): void {
    clearTimeout(this.#closeTimer);
    this.#ws.terminate();
  }
}
