// ws exports its Sender at runtime (ws/wrapper.mjs) but @types/ws does not declare it.
import 'ws';

declare module 'ws' {
  interface FrameOptions {
    fin: boolean;
    rsv1: boolean;
    opcode: number;
    mask: boolean;
    readOnly: boolean;
  }
  export const Sender: {
    frame(data: Buffer, options: FrameOptions): Buffer[];
  };
}
