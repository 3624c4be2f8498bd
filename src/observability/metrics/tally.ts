import { codeLabel, type DisconnectReason } from '../../transport/disconnect-reason.js';

/** A client's outbound queue as the metrics read it (its writer). */
export interface QueueView {
  readonly queueLength: number;
  readonly queueBytes: number;
}

/**
 * Per-connection facts the flat HubStats cannot hold: disconnects by reason and close code.
 * The live outbound queues are read from the hub's registry at scrape time (no set of its own
 * to add to and delete from on every connect).
 */
export class ClientTally {
  connects = 0;
  /** "reason code" → { reason, code, count }; bounded by reasons × code labels. */
  readonly disconnects = new Map<string, { readonly reason: DisconnectReason; readonly code: string; count: number }>();

  opened(): void {
    this.connects++;
  }

  closed(reason: DisconnectReason, code: number): void {
    const label = codeLabel(code);
    const key = `${reason} ${label}`;
    const entry = this.disconnects.get(key);
    if (entry) entry.count++;
    else this.disconnects.set(key, { reason, code: label, count: 1 });
  }

  /** One pass over the live queues: how backed up the slowest client is, and the totals. */
  static queueDepth(queues: Iterable<QueueView>): { max: number; messages: number; bytes: number; backlogged: number } {
    let max = 0;
    let messages = 0;
    let bytes = 0;
    let backlogged = 0;
    for (const q of queues) {
      const n = q.queueLength;
      if (n === 0) continue;
      backlogged++;
      messages += n;
      bytes += q.queueBytes;
      if (n > max) max = n;
    }
    return { max, messages, bytes, backlogged };
  }
}
