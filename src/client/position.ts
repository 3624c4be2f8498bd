import { CLIENT_MAX_KNOWN_OFFSETS } from '../limits.js';

/** A position in a topic's history (docs/protocol.md): the stream's epoch and an offset in it. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

export interface GapInfo {
  /** The last position before the missed messages. */
  readonly from: Position;
  /** Where the stream continues: live messages come after it. */
  readonly to: Position;
}

/** How many own publishes to the topic are sent and unanswered, and the sequence number of the last one sent. */
export type InFlight = () => readonly [count: number, lastSeq: number];

/**
 * Where a subscription stands in its topic's history (docs/client.md, "Positions").
 *
 * `position` is the highest offset up to which every message was delivered or is known not to
 * come (an own publish sent without echo). What is known above it (later messages, own acks
 * that overtook others' messages still in flight to this node) waits in `known` until the hole
 * below fills; then the position moves over every contiguous known offset.
 *
 * A hole is certainly lost once a message above it has been delivered (a topic's messages reach
 * a client in offset order, from any node: docs/architecture.md) and no own publish that could
 * fill it is still unanswered: only those sent before that message arrived could have an offset
 * below it, so the check waits for exactly those (`until`), no longer.
 */
export class PositionTracker {
  position: Position | undefined;
  private readonly known = new Set<number>();
  /** The highest offset delivered since the last subscribe ack. */
  private top = 0;
  /** Holes below `below` wait on the `waiting` own publishes numbered up to `until`. */
  private check: { below: number; until: number; waiting: number } | undefined;

  constructor(
    private readonly inFlight: InFlight,
    private readonly onGap: (gap: GapInfo) => void,
  ) {}

  /**
   * After a subscribe's ack: `position` is where the client stands now (the stream's top, or
   * the `since` that was honoured). `keep`: a recovery, whose replay still fills the holes, so
   * what is known above stays known (its replayed copies are dropped).
   */
  restart(position: Position | undefined, keep = false): void {
    const p = this.position;
    // Own acks answered before the subscribe's ack may have moved it past `since` already.
    if (!(keep && p && position && p.epoch === position.epoch && p.offset > position.offset)) this.position = position;
    if (!keep) this.known.clear();
    this.top = this.position?.offset ?? 0;
    this.check = undefined;
  }

  /** A message of the topic arrived: whether to deliver it (false: delivered already, or an own publish). */
  message(offset: number, epoch: string | undefined): boolean {
    const p = this.position;
    if (!p) return true;
    if (epoch !== undefined && epoch !== p.epoch) {
      // The stream lost its continuity (restart, flush, expiry) while we were connected.
      const to = { epoch, offset: offset - 1 };
      this.restart(to);
      this.onGap({ from: p, to });
    } else if (offset <= p.offset || this.known.has(offset)) return false;
    if (offset > this.top) this.top = offset;
    this.know(offset);
    this.examine();
    return true;
  }

  /**
   * An own publish to the topic was answered (`seq`: its number when sent). `offset`: its
   * message's, when it was stored and sent without echo (it will never reach us).
   */
  published(offset: number | undefined, seq: number): void {
    if (offset !== undefined) this.know(offset);
    const c = this.check;
    if (c && seq <= c.until && --c.waiting === 0) {
      this.check = undefined;
      this.lose(c.below);
      this.examine();
    }
  }

  private know(offset: number): void {
    const p = this.position;
    if (!p || offset <= p.offset) return;
    this.known.add(offset);
    this.advance();
    if (this.known.size > CLIENT_MAX_KNOWN_OFFSETS) this.lose(Math.min(...this.known));
  }

  /** Moves the position over every contiguous known offset. */
  private advance(): void {
    const p = this.position!;
    let o = p.offset;
    while (this.known.delete(o + 1)) o++;
    if (o !== p.offset) this.position = { epoch: p.epoch, offset: o };
  }

  /** A hole below the highest delivered message: lost now, or once the own publishes that could fill it are answered. */
  private examine(): void {
    if (this.check || !this.position || this.position.offset >= this.top) return;
    const [waiting, until] = this.inFlight();
    if (waiting === 0) this.lose(this.top);
    else this.check = { below: this.top, until, waiting };
  }

  /** Gives up every hole at or below `upTo` (a known offset): one `gap` per missing run. */
  private lose(upTo: number): void {
    const ks = [...this.known].filter((k) => k <= upTo).sort((a, b) => a - b);
    for (const k of ks) {
      const from = this.position!;
      this.known.delete(k);
      if (k > from.offset + 1) {
        const to = { epoch: from.epoch, offset: k - 1 };
        this.position = to;
        this.onGap({ from, to });
      }
      this.position = { epoch: from.epoch, offset: k };
    }
    this.advance();
  }
}
