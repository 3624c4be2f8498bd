import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { Frame } from '../../machines/client.types.js';
import type { Connection, ConnectionHandlers } from '../../machines/connection.js';
import { writeInTick, type Corkable, type TickState } from './tick-cork.js';

const PONG = 0x0a;

/** One object per hub, shared by all its connections. */
export interface WsConnectionOptions {
  readonly closeTimeoutMs: number;
  /** Socket-buffered bytes above which the writer queues instead of writing. */
  readonly writeHighWaterBytes: number;
  /** Called once the socket is gone, with the key the connection was admitted under (the per-IP count). */
  readonly released: (key: string) => void;
}

/** The close code ws attaches to a protocol error it closes the socket for (a symbol it does not export). */
const statusCodeOf = (err: unknown): number | undefined => {
  if (typeof err !== 'object' || err === null) return undefined;
  const key = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
  const code = key === undefined ? undefined : (err as Record<symbol, unknown>)[key];
  return typeof code === 'number' ? code : undefined;
};

/**
 * The listeners are shared by every connection (no closures per socket): ws and net call them
 * with `this` set to the emitter, which carries its connection under this key.
 */
const kConnection = Symbol('actorhub.connection');
type Owned = { [kConnection]?: WsConnection };
const ownerOf = (emitter: object): WsConnection | undefined => (emitter as Owned)[kConnection];
function onMessage(this: object, data: Buffer, binary: boolean): void {
  ownerOf(this)?.handlers?.message(data, binary);
}
function onPing(this: object, data: Buffer): void {
  ownerOf(this)?.handlers?.ping(data);
}
function onPong(this: object, data: Buffer): void {
  ownerOf(this)?.handlers?.pong(data);
}
function onDrain(this: object): void {
  ownerOf(this)?.handlers?.drain();
}
/** Listened to from the start (not only while a writer listens): the per-IP slot must be freed whoever closes. */
function onClose(this: object, code: number, reason: Buffer): void {
  const conn = ownerOf(this);
  if (!conn) return;
  conn.gone();
  conn.handlers?.closed(code, reason.toString(), conn.protocolErrorCode);
}
/** ws reports protocol errors (1007, 1009, ...) as 'error' before closing: keep the code, never throw. */
function onError(this: object, err: unknown): void {
  const conn = ownerOf(this);
  if (conn) conn.protocolErrorCode ??= statusCodeOf(err);
}

/**
 * A `ws` WebSocket seen as a Connection. Frames arrive already encoded by the hub (see
 * frame.ts), so they go straight to the TCP socket: ws's own send() would re-frame them.
 * That is safe because nothing else sends on this socket and per-message deflate is off.
 */
export class WsConnection implements Connection, Corkable {
  readonly socket: Socket;
  /** What writeInTick did with this socket in the current tick. */
  tick: TickState = 0;
  readonly #ws: WebSocket;
  readonly #options: WsConnectionOptions;
  readonly #key: string | undefined;
  readonly #highWater: number;
  #closeTimer: NodeJS.Timeout | undefined;
  /** The close code ws sent for a protocol error, if it closed the socket for one. */
  protocolErrorCode: number | undefined;

  /** `key`: what the gate counted this connection under (its client address), released once it is gone. */
  constructor(ws: WebSocket, options: WsConnectionOptions, key: string | undefined) {
    this.#ws = ws;
    this.socket = (ws as unknown as { _socket: Socket })._socket;
    this.#options = options;
    this.#key = key;
    // 'drain' only fires once the socket's own high-water mark was crossed: never queue below it.
    this.#highWater = Math.max(options.writeHighWaterBytes, this.socket.writableHighWaterMark);
    (ws as Owned)[kConnection] = this;
    ws.on('error', onError);
    ws.on('close', onClose); // ws emits it once; once() would wrap it in two more objects per socket
  }

  /** The peer's address (net caches it: the gate read it already). */
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
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

  /** Set while listening; read by the shared listeners above. */
  handlers: ConnectionHandlers | undefined;

  listen(handlers: ConnectionHandlers): () => void {
    this.handlers = handlers;
    const ws = this.#ws;
    (this.socket as Owned)[kConnection] = this;
    ws.on('message', onMessage);
    ws.on('ping', onPing);
    ws.on('pong', onPong);
    this.socket.on('drain', onDrain);
    return () => this.#unlisten();
  }

  #unlisten(): void {
    this.handlers = undefined;
    this.#ws.off('message', onMessage);
    this.#ws.off('ping', onPing);
    this.#ws.off('pong', onPong);
    this.socket.off('drain', onDrain);
  }

  /** The socket is gone (ws 'close', once). */
  gone(): void {
    clearTimeout(this.#closeTimer);
    if (this.#key !== undefined) this.#options.released(this.#key);
  }

  write(frame: Frame): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    writeInTick(this, frame as Buffer);
  }

  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
  }

  pong(data: Buffer): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    // The hub's WebSocketServer runs with autoPong off: this is the only pong this socket sends.
    // A control frame's payload is at most 125 bytes (RFC 6455 §5.5): always the 7-bit length form.
    const frame = Buffer.allocUnsafe(2 + data.length);
    frame[0] = 0x80 | PONG; // FIN, opcode pong
    frame[1] = data.length;
    data.copy(frame, 2);
    writeInTick(this, frame);
  }

  close(code: number, reason: string): void {
    if (this.#ws.readyState !== WebSocket.OPEN && this.#ws.readyState !== WebSocket.CONNECTING) return;
    this.#ws.close(code, reason);
    this.#closeTimer = setTimeout(() => this.#ws.terminate(), this.#options.closeTimeoutMs);
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
