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
  /** The publish scenario: a JSON `publish` frame (WebSocket peers) or a socket.io `publish` event (rooms). */
  publish(topic: string, text: string): void;
  /** Joins a topic: a JSON `subscribe` frame, or a socket.io `join` event. */
  join(topic: string): void;
  readonly closed: () => boolean;
  readonly closeCode: () => number;
  destroy(): void;
}

/** Topic names and payloads of the bench are ASCII without quotes or backslashes: no escaping needed. */
export const publishFrame = (topic: string, text: string): string =>
  `{"type":"publish","topic":"${topic}","data":"${text}"}`;
export const subscribeFrame = (topic: string): string => `{"type":"subscribe","topic":"${topic}"}`;

/** The `data` of a JSON frame (actorhub's `message`, or the publish frame raw ws forwards), or '' if none. */
export function dataOf(text: string): string {
  try {
    const data = (JSON.parse(text) as { data?: unknown }).data;
    return typeof data === 'string' ? data : '';
  } catch {
    return '';
  }
}

/**
 * An `onText` that keeps what arrives before the caller sets its own: a server's greeting (actorhub's
 * `welcome`) can come in the same read as the handshake, before the promise that resolves on
 * `open` lets the caller attach a handler. Setting one hands it the kept texts first.
 */
function keepEarly(client: Omit<LibClient, 'onText'>): LibClient {
  const kept: string[] = [];
  let handler: ((text: string) => void) | undefined;
  const deliver = (text: string): void => (handler ? handler(text) : void kept.push(text));
  // An accessor, not a spread: spreading would copy the getter's value and lose the setter.
  return Object.defineProperty(client, 'onText', {
    get: () => deliver,
    set: (f: (text: string) => void) => {
      handler = f;
      for (const text of kept.splice(0)) f(text);
    },
  }) as LibClient;
}

export function openLib(wire: Wire, host: string, port: number, path: string, timeoutMs: number): Promise<LibClient> {
  return wire === 'ws' ? openWs(host, port, path, timeoutMs) : openSocketIo(host, port, timeoutMs);
}

function openWs(host: string, port: number, path: string, timeoutMs: number): Promise<LibClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}${path}`, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let code = 0;
    const client = keepEarly({
      send: (text) => ws.send(text),
      publish: (topic, text) => ws.send(publishFrame(topic, text)),
      join: (topic) => ws.send(subscribeFrame(topic)),
      closed: () => ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING,
      closeCode: () => code,
      destroy: () => ws.terminate(),
    });
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
    const client = keepEarly({
      send: (text) => socket.emit('message', text),
      publish: (topic, text) => socket.emit('publish', topic, text),
      join: (topic) => socket.emit('join', topic),
      closed: () => socket.disconnected,
      closeCode: () => code,
      destroy: () => socket.disconnect(),
    });
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
