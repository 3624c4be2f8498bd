import { fromCallback } from 'xstate';
import type { Frame, WriterEvent, WriterInput } from '../machines/client.types.js';
import { CloseCode } from './close-codes.js';
import { FrameQueue } from './frame-queue.js';
import type { HubStats } from './stats.js';

/**
 * The client's write loop: the only code that writes to its socket. It writes a frame
 * straight through while the socket keeps up, queues it (bounded in messages and bytes) while
 * the socket is backed up, and applies the overflow policy when the queue is full. Pings and
 * close frames bypass the queue. It also keeps the heartbeat: a sweep from the hub pings the
 * peer, or terminates it if nothing was heard for pongWaitMs.
 */
export const createWriterLogic = (stats: HubStats) =>
  fromCallback<WriterEvent, WriterInput>(({ input, sendBack, receive }) => {
    const { connection: conn, limits, pongWaitMs } = input;
    const queue = new FrameQueue();
    let closing = false;
    let lastSeen = Date.now();

    const write = (frame: Frame): void => {
      conn.write(frame);
      stats.messagesOut++;
      stats.bytesOut += frame.byteLength;
    };

    const enqueue = (frame: Frame): void => {
      queue.push(frame);
      // Only the queueing path pays for this: a client that keeps up never reaches it.
      if (queue.length > stats.queuePeakMessages) stats.queuePeakMessages = queue.length;
      if (queue.bytes > stats.queuePeakBytes) stats.queuePeakBytes = queue.bytes;
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
          enqueue(frame);
          return;
        case 'close': {
          closing = true;
          stats.dropped += queue.length + 1;
          stats.slowConsumerCloses++;
          queue.clear();
          const reason = 'slow consumer: outbound queue full';
          conn.close(CloseCode.SlowConsumer, reason);
          sendBack({ type: 'writer.overflowed', code: CloseCode.SlowConsumer, reason });
        }
      }
    };

    const deliver = (frame: Frame): void => {
      if (closing) return;
      if (queue.length === 0 && conn.writable) write(frame);
      else if (queue.length < limits.maxMessages && queue.bytes + frame.byteLength <= limits.maxBytes) enqueue(frame);
      else overflow(frame);
    };

    const stopListening = conn.listen({
      message: (data, binary) => {
        lastSeen = Date.now();
        stats.messagesIn++;
        if (!closing) sendBack({ type: 'socket.message', data, binary });
      },
      pong: () => {
        lastSeen = Date.now();
      },
      drain: flush,
      closed: (code, reason) => {
        closing = true;
        queue.clear();
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
            conn.terminate();
            sendBack({ type: 'writer.timedOut' });
          } else {
            conn.ping();
            stats.pingsSent++;
          }
          return;
        case 'writer.close':
          closing = true;
          queue.clear();
          conn.close(event.code, event.reason);
          return;
        case 'writer.terminate':
          closing = true;
          queue.clear();
          conn.terminate();
      }
    });

    return () => {
      stopListening();
      queue.clear();
      // The client stopped without a socket.closed (its actor failed): never leak the socket.
      if (conn.isOpen) conn.terminate();
    };
  });
