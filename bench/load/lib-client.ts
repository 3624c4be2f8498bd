/**
 * The real clients: `ws` for WebSocket peers, socket.io-client (websocket transport only) for
 * socket.io. The publisher and the checkers use them; so do counters with --counters lib.
 */
import { io } from 'socket.io-client';
import { WebSocket } from 'ws';
import type { Wire } from '../types.js';

export interface LibClient {
  /** Called with the text of every message received. */
  onText: (text: string) => void;
  send(text: string): void;
  readonly closed: () => boolean;
  readonly closeCode: () => number;
  destroy(): void;
}

export function openLib(wire: Wire, host: string, port: number, path: string, timeoutMs: number): Promise<LibClient> {
  return wire === 'ws' ? openWs(host, port, path, timeoutMs) : openSocketIo(host, port, timeoutMs);
}

function openWs(host: string, port: number, path: string, timeoutMs: number): Promise<LibClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}${path}`, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let code = 0;
    const client: LibClient = {
      onText: () => undefined,
      send: (text) => ws.send(text),
      closed: () => ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING,
      closeCode: () => code,
      destroy: () => ws.terminate(),
    };
    ws.on('message', (data, isBinary) => {
      if (!isBinary) client.onText(data.toString());
    });
    ws.once('open', () => resolve(client));
    ws.once('error', (error) => reject(error));
    ws.on('close', (c) => {
      code = c;
    });
  });
}

function openSocketIo(host: string, port: number, timeoutMs: number): Promise<LibClient> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://${host}:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: timeoutMs,
    });
    let code = 0;
    const client: LibClient = {
      onText: () => undefined,
      send: (text) => socket.emit('message', text),
      closed: () => socket.disconnected,
      closeCode: () => code,
      destroy: () => socket.disconnect(),
    };
    socket.on('message', (text: unknown) => {
      if (typeof text === 'string') client.onText(text);
    });
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error) => reject(error));
    socket.on('disconnect', () => {
      code = 1006;
    });
  });
}
