import { codeLabel, type DisconnectReason } from '../disconnect-reason.js';

/** A client's outbound queue as the metrics read it (its writer). */
export interface QueueView {
  readonly queueLength: number;
  readonly queueBytes: number;
}

/**
 * Per-connection facts the flat HubStats cannot hold: disconnects by reason and close code,
 * and the live outbound queues (read at scrape time, never per message).
 */
export class ClientTally {
  connects = 0;
  /** "reason code" → { reason, code, count }; bounded by reasons × code labels. */
  readonly disconnects = new Map<string, { readonly reason: DisconnectReason; readonly code: string; count: number }>();
  /** Every connected client's outbound queue. */
  readonly queues = new Set<QueueView>();

  opened(queue: QueueView): void {
    this.connects++;
    this.queues.add(queue);
  }

  closed(queue: QueueView, reason: DisconnectReason, code: number): void {
    this.queues.delete(queue);
    const label = codeLabel(code);
    const key = `${reason} ${label}`;
    const entry = this.disconnects.get(key);
    if (entry) entry.count++;
    else this.disconnects.set(key, { reason, code: label, count: 1 });
  }

  /** One pass over the live queues: how backed up the slowest client is, and the totals. */
  queueDepth(): { max: number; messages: number; bytes: number; backlogged: number } {
    let max = 0;
    let messages = 0;
    let bytes = 0;
    let backlogged = 0;
    for (const q of this.queues) {
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
