/**
 * Hub-wide counters. Each writer increments its own events; nobody decrements. Plain numbers
 * on purpose: the hot path pays one increment, and /stats (or a metrics exporter) reads them.
 */
export interface HubStats {
  /** Messages received from clients. */
  messagesIn: number;
  bytesIn: number;
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
  /** The same, by HTTP status (a small fixed set: 401, 403, 404, 409, 429, 500, 503). */
  rejectedByStatus: Record<string, number>;
  hookErrors: number;
  /** Exceptions inside hub actions, caught by supervision: the event was dropped, the hub went on (src/supervision.ts). */
  hubErrors: number;
  /** 1 once the hub actor has failed (a failure supervision could not catch); the hub then closes everyone with 1011. */
  hubFailures: number;
  /** Upgrades answered 408 because the gate (authenticate included) outlasted handshakeTimeoutMs. */
  handshakeTimeouts: number;
  /** Inbound messages dropped by a client's rate limit. */
  rateLimited: number;
  /** Clients closed with 1008 for exceeding their rate limit persistently. */
  rateLimitCloses: number;
  /** Pings, and pongs that answered no heartbeat, received from clients (not in messagesIn). */
  controlFramesIn: number;
  /** Control frames dropped unanswered by the control-frame limit. */
  controlFramesDropped: number;
  /** Clients closed with 1008 for flooding control frames. */
  controlFloodCloses: number;
  /** Pongs written in answer to clients' pings. */
  pongsSent: number;
  /** Pings left unanswered because a later one came while the socket was backed up (only the latest is answered). */
  pongsCoalesced: number;
}

export const createStats = (): HubStats => ({
  messagesIn: 0,
  bytesIn: 0,
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
  rejectedByStatus: {},
  hookErrors: 0,
  hubErrors: 0,
  hubFailures: 0,
  handshakeTimeouts: 0,
  rateLimited: 0,
  rateLimitCloses: 0,
  controlFramesIn: 0,
  controlFramesDropped: 0,
  controlFloodCloses: 0,
  pongsSent: 0,
  pongsCoalesced: 0,
});
