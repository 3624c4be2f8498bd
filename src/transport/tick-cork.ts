import type { Socket } from 'node:net';

/** Nothing written to the socket yet this tick; one frame written straight through; corked. */
export type TickState = 0 | 1 | 2;
const IDLE = 0;
const WROTE = 1;
const CORKED = 2;

/** Something that owns a socket and remembers what it wrote to it in the current tick. */
export interface Corkable {
  readonly socket: Socket;
  tick: TickState;
}

/**
 * Writes a frame, batching a burst: the first frame of a tick goes straight to the socket (its
 * syscall now, as raw ws would make it: a lone message waits for nothing), a second one in the
 * same tick corks the socket, so the rest of the burst leaves in one writev when every socket is
 * uncorked on process.nextTick — before any I/O. A burst of k broadcasts costs two syscalls per
 * socket instead of k, and a single broadcast adds no latency (corking the first frame too
 * delayed every socket's first byte until the loop over all recipients had ended).
 */
const pending: Corkable[] = [];
let scheduled = false;

const flush = (): void => {
  scheduled = false;
  // Take the batch first: an uncork can run code (a 'drain' listener) that writes again.
  const batch = pending.splice(0);
  for (const c of batch) {
    const corked = c.tick === CORKED;
    c.tick = IDLE;
    if (corked) c.socket.uncork();
  }
};

export function writeInTick(c: Corkable, data: Buffer): void {
  if (c.tick === WROTE) {
    c.tick = CORKED;
    c.socket.cork();
  } else if (c.tick === IDLE) {
    c.tick = WROTE;
    pending.push(c);
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  }
  c.socket.write(data);
}
