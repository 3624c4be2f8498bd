import type { Socket } from 'node:net';

/** Something that owns a socket and remembers whether it is corked for this tick. */
export interface Corkable {
  readonly socket: Socket;
  corked: boolean;
}

/**
 * Corks a socket for the rest of the current tick: every frame written to it before the tick
 * ends leaves in one writev, so a burst of broadcasts costs one syscall per socket instead of
 * one per message. All sockets are uncorked together on process.nextTick — before any I/O,
 * so corking adds no latency.
 */
const pending: Corkable[] = [];
let scheduled = false;

const flush = (): void => {
  scheduled = false;
  // Take the batch first: an uncork can run code (a 'drain' listener) that corks again.
  const batch = pending.splice(0);
  for (const c of batch) {
    c.corked = false;
    c.socket.uncork();
  }
};

export function corkForTick(c: Corkable): void {
  if (c.corked) return;
  c.corked = true;
  c.socket.cork();
  pending.push(c);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flush);
  }
}
