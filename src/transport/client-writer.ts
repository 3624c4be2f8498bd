import type {
  ClientEvent,
  ClientId,
  Frame,
  OutboundLimits,
  Writer,
  WriterEvent,
  WriterInput,
  WriterOwner,
} from '../../machines/client.types.js';
import type { ClientEvents } from '../observability/client-events.js';
import { CloseCode } from './close-codes.js';
import type { Connection, ConnectionHandlers } from '../../machines/connection.js';
import { reasonOfCode, type DisconnectReason } from './disconnect-reason.js';
import { FrameQueue } from './frame-queue.js';
import { InboundRateLimiter, rateLimitsEnabled, type RateLimits } from '../admission/rate-limit.js';
import type { HubStats } from '../observability/stats.js';

/** Inbound rate limiting, hub-wide settings; each writer keeps its own buckets. */
export interface InboundLimits {
  readonly rate: RateLimits;
  /** What a client gets for each dropped message (the JSON protocol's `rate_limited`); none in relay. */
  readonly limitedFrame: Frame | undefined;
}

/** What every writer of one hub shares: counters, connection events, inbound limits. */
export interface WriterServices {
  readonly stats: HubStats;
  readonly events?: ClientEvents | undefined;
  readonly inbound?: InboundLimits | undefined;
}

/** Until the client starts its writer, nobody hears the socket (nothing is listened to yet). */
const nobody: WriterOwner = { send: () => undefined };

/**
 * The client's write loop: the only code that writes to its socket. It writes a frame
 * straight through while the socket keeps up, queues it (bounded in messages and bytes) while
 * the socket is backed up, and applies the overflow policy when the queue is full. Pings and
 * close frames bypass the queue. It also keeps the heartbeat (a sweep from the hub pings the
 * peer, or terminates it if nothing was heard for pongWaitMs) and the inbound rate limit.
 *
 * A plain object owned by the client actor (not a child actor, and no closures): one of these
 * per connection is all the per-client state besides the client actor itself.
 */
export class ClientWriter implements Writer, ConnectionHandlers {
  readonly #id: ClientId;
  readonly #conn: Connection;
  readonly #limits: OutboundLimits;
  readonly #pongWaitMs: number;
  readonly #services: WriterServices;
  #owner: WriterOwner = nobody;
  /** Created on the first frame that must wait: an idle client holds no queue. */
  #queue: FrameQueue | undefined;
  #closing = false;
  #lastSeen = Date.now();
  readonly #openedAt = this.#lastSeen;
  /** Why the server ended this connection, when it did: reported once the socket is gone. */
  #initiated: { readonly reason: DisconnectReason; readonly code: number } | undefined;
  #ended = false;
  /** Checked before a message costs a machine transition: O(1), no timer. Absent when unlimited. */
  readonly #limiter: InboundRateLimiter | undefined;
  /** Messages still arriving after a rate-limit close; past maxViolations more, the peer ignores it. */
  #afterRateClose = -1;

  constructor(input: WriterInput, services: WriterServices) {
    this.#id = input.id;
    this.#conn = input.connection;
    this.#limits = input.limits;
    this.#pongWaitMs = input.pongWaitMs;
    this.#services = services;
    const rate = services.inbound?.rate;
    this.#limiter = rate && rateLimitsEnabled(rate) ? new InboundRateLimiter(rate, performance.now()) : undefined;
  }

  /** The socket this writer owns (read-only: for diagnostics and tests, never for writing). */
  get connection(): Connection {
    return this.#conn;
  }

  /** Frames waiting in the outbound queue (read by /metrics at scrape time). */
  get queueLength(): number {
    return this.#queue?.length ?? 0;
  }

  get queueBytes(): number {
    return this.#queue?.bytes ?? 0;
  }

  start(owner: WriterOwner): void {
    this.#owner = owner;
    this.#conn.listen(this);
    this.#services.events?.opened(this.#id, this.#conn);
  }

  send(event: WriterEvent): void {
    switch (event.type) {
      case 'writer.deliver':
        this.#deliver(event.frame);
        return;
      case 'writer.heartbeat':
        if (this.#closing) return;
        if (event.now - this.#lastSeen > this.#pongWaitMs) {
          this.#shut({ reason: 'heartbeat_timeout', code: 1006 });
          this.#services.stats.heartbeatTimeouts++;
          this.#conn.terminate();
          this.#report({ type: 'client.timedOut' });
        } else {
          this.#conn.ping();
          this.#services.stats.pingsSent++;
        }
        return;
      case 'writer.close':
        this.#shut(this.#initiated ?? { reason: reasonOfCode(event.code), code: event.code });
        this.#conn.close(event.code, event.reason);
        return;
      case 'writer.terminate':
        this.#shut(this.#initiated ?? { reason: 'terminated', code: 1006 });
        this.#conn.terminate();
    }
  }

  dispose(): void {
    this.#closing = true;
    this.#queue = undefined;
    this.#owner = nobody;
    // Stopped before the socket reported its close (the client actor failed): never leak the socket.
    this.#initiated ??= { reason: 'error', code: CloseCode.InternalError };
    this.#end(1006, '');
    if (this.#conn.isOpen) this.#conn.terminate();
  }

  handOver(owner: WriterOwner): void {
    this.#owner = owner;
  }

  // ConnectionHandlers: what the socket tells its writer.

  message(data: Buffer, binary: boolean): void {
    const stats = this.#services.stats;
    this.#lastSeen = Date.now();
    stats.messagesIn++;
    stats.bytesIn += data.length;
    if (this.#closing) {
      // A flooder keeps sending after our close frame: stop parsing it; closeTimeoutMs ends it.
      if (this.#afterRateClose >= 0 && ++this.#afterRateClose > this.#services.inbound!.rate.maxViolations)
        this.#conn.stopReading?.();
      return;
    }
    if (this.#limiter) {
      const verdict = this.#limiter.check(data.byteLength, performance.now());
      if (verdict !== 'ok') return this.#refuse(verdict);
    }
    this.#report({ type: 'client.socketMessage', data, binary });
  }

  pong(): void {
    this.#lastSeen = Date.now();
  }

  drain(): void {
    const queue = this.#queue;
    while (queue !== undefined && queue.length > 0 && this.#conn.writable) this.#write(queue.shift()!);
  }

  closed(code: number, reason: string, sentCode?: number): void {
    this.#closing = true;
    this.#queue = undefined;
    // ws closed it for a protocol error (1007, 1009...): the server's decision, whatever came back.
    if (sentCode !== undefined) this.#initiated ??= { reason: reasonOfCode(sentCode), code: sentCode };
    this.#end(code, reason);
    this.#report({ type: 'client.socketClosed', code, reason });
  }

  /** Stops writing: drops the queue and remembers why the server ended the connection. */
  #shut(initiated: { readonly reason: DisconnectReason; readonly code: number }): void {
    this.#closing = true;
    this.#queue = undefined;
    this.#initiated = initiated;
  }

  #end(code: number, closeReason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const durationMs = Date.now() - this.#openedAt;
    const initiated = this.#initiated;
    this.#services.events?.closed(
      this.#id,
      initiated
        ? { ...initiated, closeReason, by: 'server', durationMs }
        : { reason: reasonOfCode(code), code, closeReason, by: 'peer', durationMs },
    );
  }

  #report(event: ClientEvent): void {
    this.#owner.send(event);
  }

  #write(frame: Frame): void {
    const stats = this.#services.stats;
    this.#conn.write(frame);
    stats.messagesOut++;
    stats.bytesOut += frame.byteLength;
  }

  #deliver(frame: Frame): void {
    if (this.#closing) return;
    const queue = this.#queue;
    const limits = this.#limits;
    if ((queue === undefined || queue.length === 0) && this.#conn.writable) return this.#write(frame);
    const q = queue ?? (this.#queue = new FrameQueue());
    if (q.length < limits.maxMessages && q.bytes + frame.byteLength <= limits.maxBytes) this.#enqueue(q, frame);
    else this.#overflow(q, frame);
  }

  #enqueue(queue: FrameQueue, frame: Frame): void {
    queue.push(frame);
    // Only the queueing path pays for this: a client that keeps up never reaches it.
    const stats = this.#services.stats;
    if (queue.length > stats.queuePeakMessages) stats.queuePeakMessages = queue.length;
    if (queue.bytes > stats.queuePeakBytes) stats.queuePeakBytes = queue.bytes;
  }

  #refuse(verdict: 'limited' | 'close'): void {
    const stats = this.#services.stats;
    stats.rateLimited++;
    if (verdict === 'limited') {
      const frame = this.#services.inbound?.limitedFrame;
      if (frame) this.#deliver(frame);
      return;
    }
    stats.rateLimitCloses++;
    this.#shut({ reason: reasonOfCode(CloseCode.PolicyViolation), code: CloseCode.PolicyViolation });
    this.#afterRateClose = 0;
    const reason = 'rate limit exceeded';
    this.#conn.close(CloseCode.PolicyViolation, reason);
    this.#report({ type: 'client.rateLimited', code: CloseCode.PolicyViolation, reason });
  }

  #overflow(queue: FrameQueue, frame: Frame): void {
    const limits = this.#limits;
    const stats = this.#services.stats;
    switch (limits.policy) {
      case 'drop-newest':
        stats.dropped++;
        return;
      case 'drop-oldest':
        if (frame.byteLength > limits.maxBytes) {
          stats.dropped++;
          return;
        }
        while (
          queue.length > 0 &&
          (queue.length >= limits.maxMessages || queue.bytes + frame.byteLength > limits.maxBytes)
        ) {
          queue.shift();
          stats.dropped++;
        }
        this.#enqueue(queue, frame);
        return;
      case 'close': {
        stats.dropped += queue.length + 1;
        stats.slowConsumerCloses++;
        this.#shut({ reason: 'slow_consumer', code: CloseCode.SlowConsumer });
        const reason = 'slow consumer: outbound queue full';
        this.#conn.close(CloseCode.SlowConsumer, reason);
        this.#report({ type: 'client.overflowed', code: CloseCode.SlowConsumer, reason });
      }
    }
  }
}

/** The hub's writer factory: one ClientWriter per connection, all sharing `services`. */
export const createWriterLogic =
  (services: WriterServices) =>
  (input: WriterInput): ClientWriter =>
    new ClientWriter(input, services);
