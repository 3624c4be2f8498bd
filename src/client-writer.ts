import type { ClientEvent, Frame, OutboundLimits, Writer, WriterEvent, WriterInput, WriterOwner } from '../machines/client.types.js';
import { CloseCode } from './close-codes.js';
import type { Connection, ConnectionHandlers } from './connection.js';
import { FrameQueue } from './frame-queue.js';
import type { HubStats } from './stats.js';

/** Until the client starts its writer, nobody hears the socket (nothing is listened to yet). */
const nobody: WriterOwner = { send: () => undefined };

/**
 * The client's write loop: the only code that writes to its socket. It writes a frame
 * straight through while the socket keeps up, queues it (bounded in messages and bytes) while
 * the socket is backed up, and applies the overflow policy when the queue is full. Pings and
 * close frames bypass the queue. It also keeps the heartbeat: a sweep from the hub pings the
 * peer, or terminates it if nothing was heard for pongWaitMs.
 *
 * A plain object owned by the client actor (not a child actor, and no closures): one of these
 * per connection is all the per-client state besides the client actor itself.
 */
export class ClientWriter implements Writer, ConnectionHandlers {
  readonly #conn: Connection;
  readonly #limits: OutboundLimits;
  readonly #pongWaitMs: number;
  readonly #stats: HubStats;
  #owner: WriterOwner = nobody;
  /** Created on the first frame that must wait: an idle client holds no queue. */
  #queue: FrameQueue | undefined;
  #closing = false;
  #lastSeen = Date.now();

  constructor(input: WriterInput, stats: HubStats) {
    this.#conn = input.connection;
    this.#limits = input.limits;
    this.#pongWaitMs = input.pongWaitMs;
    this.#stats = stats;
  }

  start(owner: WriterOwner): void {
    this.#owner = owner;
    this.#conn.listen(this);
  }

  send(event: WriterEvent): void {
    switch (event.type) {
      case 'client.deliver':
        this.#deliver(event.frame);
        return;
      case 'client.heartbeat':
        if (this.#closing) return;
        if (event.now - this.#lastSeen > this.#pongWaitMs) {
          this.#closing = true;
          this.#queue = undefined;
          this.#stats.heartbeatTimeouts++;
          this.#conn.terminate();
          this.#report({ type: 'writer.timedOut' });
        } else {
          this.#conn.ping();
          this.#stats.pingsSent++;
        }
        return;
      case 'writer.close':
        this.#closing = true;
        this.#queue = undefined;
        this.#conn.close(event.code, event.reason);
        return;
      case 'writer.terminate':
        this.#closing = true;
        this.#queue = undefined;
        this.#conn.terminate();
    }
  }

  dispose(): void {
    this.#closing = true;
    this.#queue = undefined;
    this.#owner = nobody;
    // The client stopped without a socket.closed (its actor failed): never leak the socket.
    if (this.#conn.isOpen) this.#conn.terminate();
  }

  // ConnectionHandlers: what the socket tells its writer.

  message(data: Buffer, binary: boolean): void {
    this.#lastSeen = Date.now();
    this.#stats.messagesIn++;
    if (!this.#closing) this.#report({ type: 'socket.message', data, binary });
  }

  pong(): void {
    this.#lastSeen = Date.now();
  }

  drain(): void {
    const queue = this.#queue;
    while (queue !== undefined && queue.length > 0 && this.#conn.writable) this.#write(queue.shift()!);
  }

  closed(code: number, reason: string): void {
    this.#closing = true;
    this.#queue = undefined;
    this.#report({ type: 'socket.closed', code, reason });
  }

  #report(event: ClientEvent): void {
    this.#owner.send(event);
  }

  #write(frame: Frame): void {
    this.#conn.write(frame);
    this.#stats.messagesOut++;
    this.#stats.bytesOut += frame.byteLength;
  }

  #deliver(frame: Frame): void {
    if (this.#closing) return;
    const queue = this.#queue;
    const limits = this.#limits;
    if ((queue === undefined || queue.length === 0) && this.#conn.writable) return this.#write(frame);
    const q = queue ?? (this.#queue = new FrameQueue());
    if (q.length < limits.maxMessages && q.bytes + frame.byteLength <= limits.maxBytes) q.push(frame);
    else this.#overflow(q, frame);
  }

  #overflow(queue: FrameQueue, frame: Frame): void {
    const limits = this.#limits;
    const stats = this.#stats;
    switch (limits.policy) {
      case 'drop-newest':
        stats.dropped++;
        return;
      case 'drop-oldest':
        if (frame.byteLength > limits.maxBytes) {
          stats.dropped++;
          return;
        }
        while (queue.length > 0 && (queue.length >= limits.maxMessages || queue.bytes + frame.byteLength > limits.maxBytes)) {
          queue.shift();
          stats.dropped++;
        }
        queue.push(frame);
        return;
      case 'close': {
        this.#closing = true;
        stats.dropped += queue.length + 1;
        stats.slowConsumerCloses++;
        this.#queue = undefined;
        const reason = 'slow consumer: outbound queue full';
        this.#conn.close(CloseCode.SlowConsumer, reason);
        this.#report({ type: 'writer.overflowed', code: CloseCode.SlowConsumer, reason });
      }
    }
  }
}

/** The hub's writer factory: one ClientWriter per connection, all counting into `stats`. */
export const createWriterLogic =
  (stats: HubStats) =>
  (input: WriterInput): ClientWriter =>
    new ClientWriter(input, stats);
