/**
 * One connect/disconnect cycle of the churn soak, on a raw TCP socket: the upgrade by hand,
 * wait for the welcome frame, subscribe to a topic (so the hub has membership to clean up),
 * wait for the ack, then leave in one of four ways:
 * - `clean`: a close frame (1000), then wait for the hub's close and the TCP close;
 * - `fin`: TCP FIN without a close frame (the peer's process exited);
 * - `rst`: TCP RST (`resetAndDestroy`: the peer's machine dropped the connection);
 * - `half-open`: keep the socket but never answer again (no pongs): the peer vanished without
 *   a FIN, and only the hub's heartbeat can tell. The cycle ends when the hub hangs up.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { maskedFrame } from '../load/raw-client.js';
import { FrameReader } from './frame-reader.js';

const PONG = maskedFrame(0xa, '');

export type Mode = 'clean' | 'fin' | 'rst' | 'half-open';

const CLOSE_1000 = (() => {
  const frame = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
  randomBytes(4).copy(frame, 2);
  for (let i = 0; i < 2; i++) frame[6 + i]! ^= frame[2 + i]!;
  return frame;
})();

export interface CycleOutcome {
  /** The hub ended the connection by itself (half-open: its heartbeat reaped us). */
  readonly reapedMs?: number;
}

export function cycle(port: number, mode: Mode, topic: string, timeoutMs: number): Promise<CycleOutcome> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const reader = new FrameReader();
    let head = '';
    let upgraded = false;
    let settled = false;
    let silentSince = 0;
    const timer = setTimeout(() => fail(new Error(`${mode} cycle not finished after ${timeoutMs} ms`)), timeoutMs);
    const done = (outcome: CycleOutcome = {}): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.resetAndDestroy();
      reject(error);
    };
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', (error) => {
      if (mode !== 'rst') fail(error);
    });
    socket.once('close', () => {
      if (!upgraded || reader.dataFrames < 2)
        fail(new Error(`${mode}: connection closed after ${reader.dataFrames} frames`));
    });
    socket.once('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) return reader.push(chunk);
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!head.startsWith('HTTP/1.1 101')) return fail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      upgraded = true;
      const rest = Buffer.from(head.slice(end + 4), 'latin1');
      head = '';
      if (rest.length > 0) reader.push(rest);
    });
    let step = 0;
    reader.onFrame = (opcode) => {
      // A live peer answers pings until it leaves (a cycle may outlast a sweep on a busy machine).
      if (opcode === 9 && step < 2) socket.write(PONG);
      if (step === 0 && reader.dataFrames >= 1) {
        step = 1; // welcome: subscribe
        socket.write(maskedFrame(0x1, JSON.stringify({ type: 'subscribe', topic, ref: 1 })));
      } else if (step === 1 && reader.dataFrames >= 2) {
        step = 2; // ack: leave
        switch (mode) {
          case 'clean':
            socket.write(CLOSE_1000);
            void closed.then(() => done());
            return;
          case 'fin':
            socket.end();
            void closed.then(() => done());
            return;
          case 'rst':
            socket.resetAndDestroy();
            done();
            return;
          case 'half-open':
            silentSince = performance.now();
            // Pings arrive and go unanswered; the hub's sweep terminates us.
            void closed.then(() => done({ reapedMs: performance.now() - silentSince }));
        }
      }
    };
  });
}
