/**
 * A minimal reader of server-to-client WebSocket frames for the reliability scripts: counts
 * data frames, notes a close frame and its code, and calls onFrame after each. It copies
 * partial frames, so it suits modest rates (the bench's RawClient is the fast counter).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  dataFrames = 0;
  pings = 0;
  closeFrame = false;
  closeCode = 0;
  onFrame: (opcode: number) => void = () => undefined;

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const l7 = this.buf[1]! & 0x7f;
      const head = l7 < 126 ? 2 : l7 === 126 ? 4 : 10;
      if (this.buf.length < head) return;
      const len = l7 < 126 ? l7 : l7 === 126 ? this.buf.readUInt16BE(2) : Number(this.buf.readBigUInt64BE(2));
      if (this.buf.length < head + len) return;
      const opcode = this.buf[0]! & 0x0f;
      if (opcode === 1 || opcode === 2) this.dataFrames++;
      else if (opcode === 9) this.pings++;
      else if (opcode === 8) {
        this.closeFrame = true;
        this.closeCode = len >= 2 ? this.buf.readUInt16BE(head) : 1005;
      }
      this.buf = this.buf.subarray(head + len);
      this.onFrame(opcode);
    }
  }
}
