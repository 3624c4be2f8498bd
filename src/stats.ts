/**
 * Hub-wide counters. Each writer increments its own events; nobody decrements. Plain numbers
 * on purpose: the hot path pays one increment, and /stats (or a metrics exporter) reads them.
 */
export interface HubStats {
  /** Messages received from clients. */
  messagesIn: number;
  /** Frames handed to sockets (one per recipient). */
  messagesOut: number;
  bytesOut: number;
  /** Frames discarded by an overflow policy (including the queue dropped on a slow-consumer close). */
  dropped: number;
  slowConsumerCloses: number;
  /** The most any one client's outbound queue has held (messages, bytes): proof that it stays within its bounds. */
  queuePeakMessages: number;
  queuePeakBytes: number;
  heartbeatTimeouts: number;
  pingsSent: number;
  connectionsTotal: number;
  rejectedUpgrades: number;
  hookErrors: number;
}

export const createStats = (): HubStats => ({
  messagesIn: 0,
  messagesOut: 0,
  bytesOut: 0,
  dropped: 0,
  slowConsumerCloses: 0,
  queuePeakMessages: 0,
  queuePeakBytes: 0,
  heartbeatTimeouts: 0,
  pingsSent: 0,
  connectionsTotal: 0,
  rejectedUpgrades: 0,
  hookErrors: 0,
});
