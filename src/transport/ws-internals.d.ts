// ws exports Sender and Receiver at runtime (ws/wrapper.mjs) but @types/ws does not declare them.
import 'ws';

declare module 'ws' {
  interface FrameOptions {
    fin: boolean;
    rsv1: boolean;
    opcode: number;
    mask: boolean;
    readOnly: boolean;
  }
  /** ws's frame parser (a Writable emitting 'message'); used by tests to read frames back. */
  export const Receiver: new (options?: { isServer?: boolean; maxPayload?: number }) => import('node:stream').Writable;
  export const Sender: {
    frame(data: Buffer, options: FrameOptions): Buffer[];
  };
}
