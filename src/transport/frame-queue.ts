import type { Frame } from '../../machines/client.types.js';

/**
 * A FIFO of frames with O(1) push and shift and a running byte count: one client's outbound
 * queue. Bounds are enforced by the writer, which owns it.
 */
export class FrameQueue {
  #items: (Frame | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(frame: Frame): void {
    this.#items.push(frame);
    this.#bytes += frame.byteLength;
  }

  shift(): Frame | undefined {
    if (this.#head === this.#items.length) return undefined;
    const frame = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    this.#bytes -= frame!.byteLength;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return frame;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
