import { fromCallback } from 'xstate';
import type { Frame, WriterEvent, WriterInput } from '../machines/client.types.js';
import type { ClientEvents } from './client-events.js';
import { CloseCode } from './close-codes.js';
import { reasonOfCode, type DisconnectReason } from './disconnect-reason.js';
import { FrameQueue } from './frame-queue.js';
import { InboundRateLimiter, rateLimitsEnabled, type RateLimits } from './rate-limit.js';
import type { HubStats } from './stats.js';

/** Inbound rate limiting, hub-wide settings; each writer keeps its own buckets. */
export interface InboundLimits {
  readonly rate: RateLimits;
  /** What a client gets for each dropped message (the JSON protocol's `rate_limited`); none in relay. */
  readonly limitedFrame: Frame | undefined;
}

/**
 * The client's write loop: the only code that writes to its socket. It writes a frame
 * straight through while the socket keeps up, queues it (bounded in messages and bytes) while
 * the socket is backed up, and applies the overflow policy when the queue is full. Pings and
 * close frames bypass the queue. It also keeps the heartbeat: a sweep from the hub pings the
 * peer, or terminates it if nothing was heard for pongWaitMs.
 */
export const createWriterLogic = (stats: HubStats, events?: ClientEvents, inbound?: InboundLimits) =>
  fromCallback<WriterEvent, WriterInput>(({ input, sendBack, receive }) => {
    const { connection: conn, limits, pongWaitMs } = input;
    const queue = new FrameQueue();
    let closing = false;
    let lastSeen = Date.now();
    const openedAt = lastSeen;
    // Why the server ended this connection, when it did: reported once the socket is gone.
    let initiated: { reason: DisconnectReason; code: number } | undefined;
    let ended = false;
    const end = (code: number, closeReason: string): void => {
      if (ended) return;
      ended = true;
      events?.closed(
        input.id,
        initiated
          ? { ...initiated, closeReason, by: 'server', durationMs: Date.now() - openedAt }
          : { reason: reasonOfCode(code), code, closeReason, by: 'peer', durationMs: Date.now() - openedAt },
        queue,
      );
    };
    // Checked here, before the message costs a machine transition: O(1), no timer.
    const limiter = inbound && rateLimitsEnabled(inbound.rate) ? new InboundRateLimiter(inbound.rate, performance.now()) : undefined;

    const write = (frame: Frame): void => {
      conn.write(frame);
      stats.messagesOut++;
      stats.bytesOut += frame.byteLength;
    };

    const flush = (): void => {
      while (queue.length > 0 && conn.writable) write(queue.shift()!);
    };

    const overflow = (frame: Frame): void => {
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
          closing = true;
          stats.dropped += queue.length + 1;
          stats.slowConsumerCloses++;
          queue.clear();
          const reason = 'slow consumer: outbound queue full';
          initiated = { reason: 'slow_consumer', code: CloseCode.SlowConsumer };
          conn.close(CloseCode.SlowConsumer, reason);
          sendBack({ type: 'writer.overflowed', code: CloseCode.SlowConsumer, reason });
        }
      }
    };

    const deliver = (frame: Frame): void => {
      if (closing) return;
      if (queue.length === 0 && conn.writable) write(frame);
      else if (queue.length < limits.maxMessages && queue.bytes + frame.byteLength <= limits.maxBytes) queue.push(frame);
      else overflow(frame);
    };

    // Messages that still arrive after a rate-limit close; past maxViolations more, the peer is ignoring it.
    let closedForRate = false;
    let afterClose = 0;
    const refuse = (verdict: 'limited' | 'close'): void => {
      stats.rateLimited++;
      if (verdict === 'limited') {
        if (inbound?.limitedFrame) deliver(inbound.limitedFrame);
        return;
      }
      closing = true;
      queue.clear();
      stats.rateLimitCloses++;
      const reason = 'rate limit exceeded';
      conn.close(CloseCode.PolicyViolation, reason);
      closedForRate = true;
      sendBack({ type: 'writer.rateLimited', code: CloseCode.PolicyViolation, reason });
    };

    const stopListening = conn.listen({
      message: (data, binary) => {
        lastSeen = Date.now();
        stats.messagesIn++;
        stats.bytesIn += data.length;
        if (closing) {
          // A flooder keeps sending after our close frame: stop parsing it; closeTimeoutMs ends it.
          if (closedForRate && ++afterClose > inbound!.rate.maxViolations) conn.stopReading?.();
          return;
        }
        if (limiter) {
          const verdict = limiter.check(data.byteLength, performance.now());
          if (verdict !== 'ok') return refuse(verdict);
        }
        sendBack({ type: 'socket.message', data, binary });
      },
      pong: () => {
        lastSeen = Date.now();
      },
      drain: flush,
      closed: (code, reason, sentCode) => {
        closing = true;
        queue.clear();
        // ws closed it for a protocol error (1007, 1009...): the server's decision, whatever came back.
        if (sentCode !== undefined) initiated ??= { reason: reasonOfCode(sentCode), code: sentCode };
        end(code, reason);
        sendBack({ type: 'socket.closed', code, reason });
      },
    });

    receive((event) => {
      switch (event.type) {
        case 'client.deliver':
          deliver(event.frame);
          return;
        case 'client.heartbeat':
          if (closing) return;
          if (event.now - lastSeen > pongWaitMs) {
            closing = true;
            queue.clear();
            stats.heartbeatTimeouts++;
            initiated = { reason: 'heartbeat_timeout', code: 1006 };
            conn.terminate();
            sendBack({ type: 'writer.timedOut' });
          } else {
            conn.ping();
            stats.pingsSent++;
          }
          return;
        case 'writer.close':
          closing = true;
          initiated ??= { reason: reasonOfCode(event.code), code: event.code };
          queue.clear();
          conn.close(event.code, event.reason);
          return;
        case 'writer.terminate':
          closing = true;
          initiated ??= { reason: 'terminated', code: 1006 };
          queue.clear();
          conn.terminate();
      }
    });

    events?.opened(input.id, conn.remoteAddress, queue);

    return () => {
      stopListening();
      queue.clear();
      // Stopped before the socket reported its close (the client actor failed, or the hub was stopped).
      initiated ??= { reason: 'error', code: CloseCode.InternalError };
      end(1006, '');
      // The client stopped without a socket.closed (its actor failed): never leak the socket.
      if (conn.isOpen) conn.terminate();
    };
  });
