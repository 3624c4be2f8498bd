import { WebSocket } from 'ws';
import type { Logger } from '../logger.js';

export interface RelayLimits {
  readonly maxDeferredEvents: number;
  readonly maxBufferedBytes: number;
}

/**
 * The hub's side of the inspector relay: an @statelyai/inspect adapter over one `ws` socket.
 * Unlike the stock WebSocket adapter it serialises each event once, bounds what it holds
 * (events before the socket opens, bytes the socket buffers) and never reconnects on its own
 * timer, so closing it leaves nothing running.
 */
export class RelayConnection {
  private socket: WebSocket | undefined;
  private deferred: string[] = [];
  sent = 0;
  dropped = 0;

  constructor(
    private readonly url: string,
    private readonly limits: RelayLimits,
    private readonly logger: Logger,
  ) {}

  /** Connects; rejects with the socket's error when the relay cannot be reached. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.socket = ws;
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', (err) => this.logger.warn({ err }, 'inspector: relay connection failed'));
        for (const text of this.deferred) ws.send(text);
        this.sent += this.deferred.length;
        this.deferred = [];
        resolve();
      });
      ws.once('close', () => {
        if (this.socket === ws) this.socket = undefined;
      });
    });
  }

  /** The adapter interface of @statelyai/inspect: start/stop are ours (open/close). */
  start(): void {}
  stop(): void {}

  send(event: unknown): void {
    let text: string;
    try {
      text = JSON.stringify(event);
    } catch {
      this.dropped++; // sanitized events are plain data; this is a guard, not a path
      return;
    }
    const ws = this.socket;
    if (ws?.readyState === WebSocket.OPEN) {
      if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
        this.dropped++;
        return;
      }
      ws.send(text);
      this.sent++;
    } else if (ws?.readyState === WebSocket.CONNECTING) {
      this.deferred.push(text);
      if (this.deferred.length > this.limits.maxDeferredEvents) {
        this.deferred.shift();
        this.dropped++;
      }
    } else {
      this.dropped++;
    }
  }

  close(): Promise<void> {
    const ws = this.socket;
    this.socket = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'hub closed');
      // The relay is local; a peer that does not answer the close handshake is cut off.
      setTimeout(() => ws.terminate(), 1_000).unref();
    });
  }
}
