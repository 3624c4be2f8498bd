import type { OutboundFrame } from '../../src/protocol/schema.js';
import { connect, type TestClient } from './ws-client.js';

/** A ws client speaking the JSON protocol: sends objects, awaits parsed frames by predicate. */
export class JsonClient {
  #seen = 0;
  constructor(readonly raw: TestClient) {}

  get frames(): OutboundFrame[] {
    return this.raw.messages.map((m) => JSON.parse(m.data.toString()) as OutboundFrame);
  }

  send(frame: unknown): void {
    this.raw.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) matching `predicate`; earlier non-matching ones are skipped. */
  async next<T extends OutboundFrame['type']>(
    type: T,
    predicate: (f: Extract<OutboundFrame, { type: T }>) => boolean = () => true,
  ) {
    for (;;) {
      await this.raw.received(this.#seen + 1);
      const frame = JSON.parse(this.raw.messages[this.#seen++]!.data.toString()) as OutboundFrame;
      if (frame.type === type && predicate(frame as Extract<OutboundFrame, { type: T }>))
        return frame as Extract<OutboundFrame, { type: T }>;
    }
  }

  /** Sends a command with a ref and resolves with its ack or error. */
  async call(frame: Record<string, unknown>): Promise<Extract<OutboundFrame, { type: 'ack' | 'error' }>> {
    const ref = `r${Math.random().toString(36).slice(2)}`;
    const start = this.raw.messages.length;
    this.send({ ...frame, ref });
    for (let i = start; ; i++) {
      await this.raw.received(i + 1);
      const f = JSON.parse(this.raw.messages[i]!.data.toString()) as OutboundFrame;
      if ((f.type === 'ack' || f.type === 'error') && f.ref === ref) return f;
    }
  }
}

export async function connectJson(url: string): Promise<{ client: JsonClient; id: string }> {
  const client = new JsonClient(await connect(url));
  const welcome = await client.next('welcome');
  return { client, id: welcome.id };
}
