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
import { MAX_TIMER_DELAY_MS } from '../limits.js';

/** Inbound rate limiting, hub-wide settings; each writer keeps its own buckets. */
export interface InboundLimits {
  readonly rate: RateLimits;
  /** What a client gets for each dropped message (the JSON protocol's `rate_limited`); none in relay. */
  readonly limitedFrame: Frame | undefined;
  /** Inbound control frames (controlFrameLimits(rate)); undefined: unlimited. */
  readonly control?: RateLimits | undefined;
}

/**
 * What a writer keeps about control frames, created only for a peer that sends pings or
 * unsolicited pongs, or whose socket was backed up at a heartbeat (browsers never ping: most
 * clients never get one). Pongs and pings wait here, one of each, never in the socket.
 */
class ControlFrames {
  limiter: InboundRateLimiter | undefined;
  /** The payload of the latest ping not answered yet (RFC 6455 §5.5.3: only the latest needs an answer). */
  pendingPong: Buffer | undefined;
  /** A heartbeat ping that found the socket backed up: sent on drain. */
  pendingPing = false;
}

/** What every writer of one hub shares: counters, connection events, inbound limits. */
export interface WriterServices {
  readonly stats: HubStats;
  readonly events?: ClientEvents | undefined;
  readonly inbound?: InboundLimits | undefined;
}

/** Until the client starts its writer, nobody hears the socket (nothing is listened to yet). */
const nobody: WriterOwner = { send: () => undefined };

/** The expiry timer's callback: a function of the writer, not a closure per client. */
const expire = (writer: ClientWriter): void => writer.tokenTimerFired();

/**
 * The client's write loop: the only code that writes to its socket. It writes a frame
 * straight through while the socket keeps up, queues it (bounded in messages and bytes) while
 * the socket is backed up, and applies the overflow policy when the queue is full. Control frames
 * bypass the queue but not the bound: a pong or a heartbeat ping is written only while the socket
 * keeps up, otherwise it waits (one of each, the latest) for 'drain'; the one close frame is
 * written after the queue is dropped. So the socket never buffers more than writeHighWaterBytes
 * plus one frame, whatever the peer sends. It also keeps the heartbeat (a sweep from the hub pings
 * the peer, or terminates it if nothing was heard for pongWaitMs) and the inbound rate limits,
 * control frames included.
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
  /** A heartbeat ping is out: the pong that answers it is free; any other pong counts as a control frame. */
  #awaitingPong = false;
  #control: ControlFrames | undefined;
  /** When the client's token expires (ms since the epoch), and the one timer that enforces it. */
  #expiresAt: number | undefined;
  #expiry: NodeJS.Timeout | undefined;

  constructor(input: WriterInput, services: WriterServices) {
    this.#id = input.id;
    this.#conn = input.connection;
    this.#limits = input.limits;
    this.#pongWaitMs = input.pongWaitMs;
    this.#services = services;
    this.#expiresAt = input.expiresAt;
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
    if (this.#expiresAt !== undefined) this.#armExpiry();
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
          this.#report({ type: 'client.timedOut', code: 1006, reason: 'heartbeat timeout' });
        } else if (this.#conn.writable) {
          this.#ping();
        } else {
          // Backed up: a ping now would sit behind unread bytes. It goes out on 'drain'.
          (this.#control ??= new ControlFrames()).pendingPing = true;
        }
        return;
      case 'writer.close':
        this.#shut(this.#initiated ?? { reason: reasonOfCode(event.code), code: event.code });
        this.#conn.close(event.code, event.reason);
        return;
      case 'writer.terminate':
        this.#shut(this.#initiated ?? { reason: 'terminated', code: 1006 });
        this.#conn.terminate();
        return;
      case 'writer.expireAt':
        if (this.#closing) return;
        this.#expiresAt = event.at;
        this.#armExpiry();
    }
  }

  /**
   * The token's timer went off. A far expiry is waited for in steps of at most
   * MAX_TIMER_DELAY_MS (a longer setTimeout fires at once), so it is re-armed until the time has come.
   */
  tokenTimerFired(): void {
    this.#expiry = undefined;
    const at = this.#expiresAt;
    if (this.#closing || at === undefined) return;
    if (Date.now() < at) return this.#armExpiry();
    const code = CloseCode.TokenExpired;
    const reason = 'token expired';
    this.#shut({ reason: 'token_expired', code });
    this.#conn.close(code, reason);
    this.#report({ type: 'client.tokenExpired', code, reason });
  }

  #armExpiry(): void {
    this.#disarmExpiry();
    const at = this.#expiresAt;
    if (at === undefined) return;
    const delay = Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_DELAY_MS);
    this.#expiry = setTimeout(expire, delay, this);
    this.#expiry.unref(); // never what keeps a closing process alive
  }

  #disarmExpiry(): void {
    if (this.#expiry === undefined) return;
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }

  dispose(): void {
    this.#closing = true;
    this.#disarmExpiry();
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
    if (this.#closing) return this.#afterClose();
    if (this.#limiter) {
      const verdict = this.#limiter.check(data.byteLength, performance.now());
      if (verdict !== 'ok') return this.#refuse(verdict, true);
    }
    this.#report({ type: 'client.socketMessage', data, binary });
  }

  ping(data: Buffer): void {
    this.#lastSeen = Date.now();
    this.#services.stats.controlFramesIn++;
    if (this.#closing) return this.#afterClose();
    if (!this.#admitControl(data.byteLength)) return;
    const control = this.#control;
    if (control?.pendingPong === undefined && this.#conn.writable) return this.#pong(data);
    // Backed up (the peer is not reading): keep only the latest ping's payload, answered on 'drain'.
    const c = control ?? (this.#control = new ControlFrames());
    if (c.pendingPong !== undefined) this.#services.stats.pongsCoalesced++;
    c.pendingPong = Buffer.from(data); // a copy: ws's buffer may be a slice of a larger chunk
  }

  pong(data: Buffer): void {
    this.#lastSeen = Date.now();
    if (this.#awaitingPong) {
      // The answer to our heartbeat: free, so a client that only answers pings never pays for a limiter.
      this.#awaitingPong = false;
      return;
    }
    this.#services.stats.controlFramesIn++;
    if (this.#closing) return this.#afterClose();
    this.#admitControl(data.byteLength);
  }

  drain(): void {
    const control = this.#control;
    if (control !== undefined && !this.#closing) {
      if (control.pendingPing && this.#conn.writable) {
        control.pendingPing = false;
        this.#ping();
      }
      const pong = control.pendingPong;
      if (pong !== undefined && this.#conn.writable) {
        control.pendingPong = undefined;
        this.#pong(pong);
      }
    }
    const queue = this.#queue;
    while (queue !== undefined && queue.length > 0 && this.#conn.writable) this.#write(queue.shift()!);
  }

  closed(code: number, reason: string, sentCode?: number): void {
    this.#closing = true;
    this.#disarmExpiry();
    this.#queue = undefined;
    // ws closed it for a protocol error (1007, 1009...): the server's decision, whatever came back.
    if (sentCode !== undefined) this.#initiated ??= { reason: reasonOfCode(sentCode), code: sentCode };
    this.#end(code, reason);
    this.#report({ type: 'client.socketClosed', code, reason });
  }

  /** Stops writing: drops the queue (and any pong or ping waiting) and remembers why the server ended the connection. */
  #shut(initiated: { readonly reason: DisconnectReason; readonly code: number }): void {
    this.#closing = true;
    this.#disarmExpiry();
    this.#queue = undefined;
    this.#control = undefined;
    this.#initiated = initiated;
  }

  /** A frame arrived after our close: after a rate-limit close, a flooder stops being parsed (closeTimeoutMs ends it). */
  #afterClose(): void {
    if (this.#afterRateClose >= 0 && ++this.#afterRateClose > this.#services.inbound!.rate.maxViolations)
      this.#conn.stopReading?.();
  }

  #ping(): void {
    this.#conn.ping();
    this.#awaitingPong = true;
    this.#services.stats.pingsSent++;
  }

  #pong(data: Buffer): void {
    const stats = this.#services.stats;
    this.#conn.pong(data);
    stats.pongsSent++;
    stats.bytesOut += 2 + data.byteLength;
  }

  /**
   * Counts an inbound control frame against the client's limits: its message and byte buckets
   * when rate limits are on (a ping is a message like any other), and the control-frame bucket,
   * on by default. False: dropped (no pong), or the client is being closed with 1008.
   */
  #admitControl(bytes: number): boolean {
    const now = performance.now();
    if (this.#limiter) {
      const verdict = this.#limiter.check(bytes, now);
      if (verdict !== 'ok') {
        this.#refuse(verdict, false);
        return false;
      }
    }
    const limits = this.#services.inbound?.control;
    if (limits === undefined) return true;
    const control = (this.#control ??= new ControlFrames());
    const verdict = (control.limiter ??= new InboundRateLimiter(limits, now)).check(1, now);
    if (verdict === 'ok') return true;
    const stats = this.#services.stats;
    stats.controlFramesDropped++;
    if (verdict === 'close') {
      stats.controlFloodCloses++;
      this.#policyClose('control frame flood');
    }
    return false;
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

  /** `answer`: tell the client its message was dropped (never for a control frame: that would answer a flood). */
  #refuse(verdict: 'limited' | 'close', answer: boolean): void {
    const stats = this.#services.stats;
    stats.rateLimited++;
    if (verdict === 'limited') {
      const frame = answer ? this.#services.inbound?.limitedFrame : undefined;
      if (frame) this.#deliver(frame);
      return;
    }
    stats.rateLimitCloses++;
    this.#policyClose('rate limit exceeded');
  }

  /** Closes with 1008 for abuse of a limit; what the peer sends from now on is counted, then ignored. */
  #policyClose(reason: string): void {
    this.#shut({ reason: reasonOfCode(CloseCode.PolicyViolation), code: CloseCode.PolicyViolation });
    this.#afterRateClose = 0;
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
