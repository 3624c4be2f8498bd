/**
 * A message framed once for every recipient. The hub never looks inside: the writer only
 * needs its size for the byte limit, and hands it to the connection as is.
 */
export interface Frame {
  readonly byteLength: number;
}

/** What a connection tells its owner (the client's writer). */
export interface ConnectionHandlers {
  message(data: Buffer, binary: boolean): void;
  /** A ping from the peer (payload ≤ 125 bytes). The transport does not answer it: the writer does, within its bounds. */
  ping(data: Buffer): void;
  /** A pong from the peer: the answer to a heartbeat ping, or unsolicited. */
  pong(data: Buffer): void;
  /** The socket flushed its buffer below the high-water mark: write more. */
  drain(): void;
  /**
   * The socket is gone, whoever closed it. Called once. `code` is what the peer sent (1006:
   * nothing); `sentCode` is set when the transport itself closed it for a protocol error (1007, 1009...).
   */
  closed(code: number, reason: string, sentCode?: number): void;
}

/**
 * The socket side of a client, as its writer sees it. Only the writer of the client that
 * owns the connection calls these methods: nobody else writes to a socket.
 */
export interface Connection {
  readonly remoteAddress: string | undefined;
  /** Bytes handed to the socket and not yet flushed to the kernel. */
  readonly bufferedAmount: number;
  readonly isOpen: boolean;
  /** False once the socket buffers enough that the writer should queue instead. */
  readonly writable: boolean;
  /** Starts forwarding socket events; returns a function that stops it. */
  listen(handlers: ConnectionHandlers): () => void;
  /** Writes a frame prepared by the hub's encoder. No-op once closing. */
  write(frame: Frame): void;
  ping(): void;
  /**
   * Writes a pong carrying `data` (≤ 125 bytes), like write(): the writer calls it only while
   * the socket keeps up, so an unread pong never piles up in the socket (docs/security.md).
   */
  pong(data: Buffer): void;
  /** Sends a close frame now (never queued) and terminates if the peer does not answer in time. */
  close(code: number, reason: string): void;
  /** Destroys the socket without a closing handshake. */
  terminate(): void;
  /** Stops reading the peer (one closed for abuse): its frames cost nothing more; the close timeout ends it. */
  stopReading?(): void;
}
