/**
 * Every tunable of the hub, with its unit and invariant, in one place (gorilla's style).
 * Options override them per hub; outbound limits can also be overridden per client.
 */

/** A peer silent (no pong, no message) for this long is terminated. */
export const PONG_WAIT_MS = 60_000;
/** How often the hub-wide sweep pings every client. Invariant: PING_INTERVAL_MS < PONG_WAIT_MS. */
export const PING_INTERVAL_MS = (PONG_WAIT_MS * 9) / 10;

/** Largest inbound message (after reassembly of fragments); bigger closes with 1009. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Outbound queue per client, in messages (gorilla: 256) and bytes (Centrifugo: 1 MiB). */
export const MAX_QUEUE_MESSAGES = 256;
export const MAX_QUEUE_BYTES = 1024 * 1024;

/**
 * Bytes the socket may buffer before the writer starts queueing (uWebSockets.js: 64 KiB).
 * Memory per slow client is bounded by WRITE_HIGH_WATER_BYTES + MAX_QUEUE_BYTES + one frame.
 */
export const WRITE_HIGH_WATER_BYTES = 64 * 1024;

/** After sending a close frame, terminate the socket if the peer has not closed by then. */
export const CLOSE_TIMEOUT_MS = 5_000;

/** close(): how long clients get to finish the closing handshake before they are terminated. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** Registered clients per hub; upgrades beyond it get 503. */
export const MAX_CLIENTS = 100_000;

/** An upgrade whose authenticate() hook has not answered by then gets 503 (no upgrade). */
export const AUTH_TIMEOUT_MS = 10_000;

export const DEFAULT_PATH = '/ws';
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '0.0.0.0';

/** Topics: name length, topics one client may join, members one topic may have. */
export const MAX_TOPIC_LENGTH = 128;
export const MAX_TOPICS_PER_CLIENT = 100;
export const MAX_MEMBERS_PER_TOPIC = Number.POSITIVE_INFINITY;
/**
 * Topic memberships the whole hub may hold (one more subscribe: `too_many_topics`). Without it
 * the defaults allowed MAX_CLIENTS × MAX_TOPICS_PER_CLIENT = 10 million memberships, ~4 GiB of
 * heap when every one is a distinct 128-character topic (~400 B each, measured) — more than
 * Node's default heap limit on most machines. 2 million: at most ~0.8 GiB for memberships on
 * top of ~0.5 GiB for 100,000 idle clients (docs/performance.md#memory-with-topics).
 */
export const MAX_SUBSCRIPTIONS = 2_000_000;

/** More than MAX_BAD_FRAMES undecodable frames within BAD_FRAME_WINDOW_MS closes with 1008. */
export const MAX_BAD_FRAMES = 10;
export const BAD_FRAME_WINDOW_MS = 60_000;

/** Commands one client may have waiting on async canSubscribe/canPublish hooks. */
export const MAX_PENDING_COMMANDS = 64;

/** HTTP publish API: largest request body, bytes (larger: 413). */
export const API_MAX_BODY_BYTES = 256 * 1024;
/**
 * HTTP publish API: deepest nesting of `data` (objects/arrays); deeper: 400. JSON.parse takes any
 * depth, JSON.stringify overflows the stack at a few thousand (a 500 before). The cluster drops
 * envelopes nested deeper than MAX_ENVELOPE_DEPTH, so this must not exceed it.
 */
export const API_MAX_DATA_DEPTH = 128;

/** GET /stats: messages/s are computed over windows of at least this long, shared by every reader. */
export const STATS_RATE_WINDOW_MS = 1_000;

/** Upper bounds of the fan-out time histogram, seconds (10 µs … 1 s; +Inf is implied). */
export const FANOUT_BUCKETS_SECONDS = [
  0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
] as const;

/** From the upgrade request to the registered client (authenticate() included); beyond it: 408. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;

/** Standalone server: headers not complete by then get 408 and the socket is closed (slowloris). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Standalone server: a whole plain HTTP request (/stats, /healthz) must arrive within this. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node checks those two timeouts (its own default, 30 s, is coarser than they are). */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/**
 * Open connections (upgrading or upgraded) per client address; beyond it: 429. Unlimited by
 * default because behind a proxy every client shares one address unless trustProxy is set.
 */
export const MAX_CONNECTIONS_PER_IP = Number.POSITIVE_INFINITY;
/** Proxies in front of the hub whose X-Forwarded-For is believed (0: the header is ignored). */
export const TRUST_PROXY_HOPS = 0;

/**
 * Inbound rate per client, token buckets refilled lazily (no timers). Off (Infinity) by
 * default, like most hubs; docs/security.md gives settings. Invariant: byte burst ≥ maxPayload.
 */
export const RATE_MESSAGES_PER_SEC = Number.POSITIVE_INFINITY;
export const RATE_MESSAGES_BURST = 200;
export const RATE_BYTES_PER_SEC = Number.POSITIVE_INFINITY;
export const RATE_BYTES_BURST = 4 * MAX_PAYLOAD_BYTES;
/** More than RATE_MAX_VIOLATIONS dropped messages within RATE_VIOLATION_WINDOW_MS closes with 1008. */
export const RATE_MAX_VIOLATIONS = 10;
export const RATE_VIOLATION_WINDOW_MS = 10_000;
/**
 * Inbound control frames (pings; pongs that answer no heartbeat) per client, per second and at
 * once. On by default, unlike the rates above: no client needs more (browsers never ping), and
 * each ping asks the hub for a pong. Beyond it a frame is dropped unanswered; more than
 * RATE_MAX_VIOLATIONS drops within RATE_VIOLATION_WINDOW_MS close with 1008.
 */
export const RATE_CONTROL_FRAMES_PER_SEC = 10;
export const RATE_CONTROL_FRAMES_BURST = 50;

/**
 * Presence: members one answer lists at most (a client pages through the rest with the cursor),
 * and presence queries per client per second and at once. Both on by default: one 60-byte query
 * on a 10k-member topic answered 449 KiB, and a client asking in a loop sustained ~140 MB/s
 * (docs/security.md#presence). At 100 members and 10 queries/s a client gets ~60 KB/s of presence at most.
 */
export const PRESENCE_PAGE_SIZE = 100;
export const RATE_PRESENCE_QUERIES_PER_SEC = 10;
export const RATE_PRESENCE_QUERIES_BURST = 20;

/** Where a token may be carried (docs/security.md): query strings end up in logs, so not by default. */
export const TOKEN_SOURCES = ['header', 'protocol'] as const;
export const TOKEN_QUERY_PARAM = 'token';
/** A subprotocol `bearer.<token>` carries a token from a browser; it is never echoed back. */
export const TOKEN_PROTOCOL_PREFIX = 'bearer.';
/**
 * The longest a token-expiry timer waits at once, ms: setTimeout fires at once beyond 2^31 - 1
 * (24.8 days), so a later expiry is reached in steps of this.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;
/** Allowed clock difference between the token issuer and the hub for nbf, seconds (jwtAuth); exp is enforced as given. */
export const JWT_CLOCK_TOLERANCE_SEC = 5;
/** A JWKS document fetched for jwtAuth: abandoned after this long (the upgrade then gets 503), ms. */
export const JWKS_TIMEOUT_MS = 5_000;
/** A JWKS is re-fetched at most this often when a token names an unknown key (key rotation), ms. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Shortest HS256 secret jwtAuth accepts, bytes (RFC 7518 §3.2: a key as long as the hash). */
export const JWT_MIN_SECRET_BYTES = 32;
/** Longest token a `refresh` command may carry, characters (a JWT with claims is well under 2 KiB). */
export const MAX_REFRESH_TOKEN_LENGTH = 8_192;
/** The Stately inspector relay (--inspect): its port (the hub's default, 8080, is taken). */
export const DEFAULT_INSPECTOR_PORT = 8081;
/** Inspection events held while the relay connection opens; older ones are dropped. */
export const INSPECTOR_MAX_DEFERRED_EVENTS = 200;
/** Bytes waiting on the relay socket beyond which inspection events are dropped, not queued. */
export const INSPECTOR_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Client ids listed in the hub's inspected snapshot (the count is always exact). */
export const INSPECTOR_SNAPSHOT_IDS = 20;

/**
 * Cluster: every node heartbeats this often; a node unheard of for NODE_TIMEOUT_MS is dead and its
 * clients leave presence. Invariant: NODE_TIMEOUT_MS > 2 × CLUSTER_HEARTBEAT_MS (one lost heartbeat
 * must not kill a live node).
 */
export const CLUSTER_HEARTBEAT_MS = 1_000;
export const NODE_TIMEOUT_MS = 3_500;
/** Channel prefix: clusters sharing one Redis or NATS must use different ones. */
export const CLUSTER_PREFIX = 'actorhub';
/** Standalone server: how long to retry an unreachable broker at start (0: fail at once). */
export const BROKER_WAIT_MS = 0;
/** A node id or cluster prefix: it becomes part of channel names. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Cluster: largest broker message a node decodes, in bytes (UTF-16 code units of the payload);
 * larger ones are dropped unparsed and counted. A node's whole presence state (a `sync`) is
 * sent in parts of SYNC_PART_BYTES, so it bounds one part, not the state.
 */
export const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;
/**
 * Cluster: a node's state (its `sync` reply) is sent in parts of about this many bytes, each a
 * broker message of its own, so that no directory size makes one message larger than
 * MAX_ENVELOPE_BYTES (nor than NATS's default max_payload, 1 MiB). A single client's entry
 * larger than this travels alone in its part. Capped at the envelope bound.
 */
export const SYNC_PART_BYTES = 256 * 1024;
/** Cluster: most parts one sync may announce (at SYNC_PART_BYTES, 16 GiB of state); more is malformed. */
export const MAX_SYNC_PARTS = 65_536;
/** Cluster: deepest nesting of message data and client metadata in a broker message (objects/arrays). */
export const MAX_ENVELOPE_DEPTH = 128;
/**
 * Broker reconnect backoff (Redis, NATS; the one schedule for every broker): the first delay and
 * the cap, ms, doubling in between with jitter. Short enough that a broker restart costs a node
 * about a second of cluster traffic, capped so that a broker down for minutes is not hammered.
 */
export const RECONNECT_BASE_MS = 100;
export const RECONNECT_CAP_MS = 5_000;
/** Cluster: a flood of malformed broker messages must not become a flood of log lines: one warning per this period, with the count, ms. */
export const MALFORMED_LOG_EVERY_MS = 10_000;

/**
 * A client's presence metadata (what authenticate() or a JWT's `meta` claim gives it) travels to
 * every other node of a cluster in its `c+`/`j` envelopes and in every `sync` of its node. Bounded
 * where the client is admitted, so that no node holds a client its peers would drop as malformed
 * (their presence would then list none of that node's clients): nesting in objects/arrays (well
 * under MAX_ENVELOPE_DEPTH), and bytes of its JSON (a `c+` carrying it stays under NATS's default
 * 1 MiB max_payload and MAX_ENVELOPE_BYTES; a sync puts an entry this large in a part of its own).
 */
export const CLIENT_META_MAX_DEPTH = 32;
export const CLIENT_META_MAX_BYTES = 512 * 1024;

/**
 * Bytes per write of a history replay: frames are concatenated up to this (a larger frame goes
 * alone). A replay of a thousand small messages is then a few queue entries, not a thousand, so it
 * cannot overflow MAX_QUEUE_MESSAGES by count; 64 KiB matches WRITE_HIGH_WATER_BYTES.
 */
export const REPLAY_BATCH_BYTES = 64 * 1024;

/*
 * The client SDK (actorhub/client, docs/client.md): its defaults, each overridable in createClient().
 * This file stays free of imports so that the SDK's browser bundle can include it.
 */
/** Reconnect backoff: full jitter over [0, min(max, min · 2^attempt)] (centrifuge-js: 500 ms … 20 s). */
export const CLIENT_RECONNECT_MIN_DELAY_MS = 500;
export const CLIENT_RECONNECT_MAX_DELAY_MS = 20_000;
/** A connection up this long resets the backoff (shorter ones keep growing it: no hot reconnect loop). */
export const CLIENT_STABLE_AFTER_MS = 10_000;
/** The client pings (protocol `ping`) after this much time connected without one; browsers cannot see WebSocket pings. */
export const CLIENT_PING_INTERVAL_MS = 25_000;
/** A ping unanswered for this long means a dead (half-open) connection: dropped and reconnected. */
export const CLIENT_PONG_TIMEOUT_MS = 10_000;
/** A command (publish, send, presence, history) not acked within this rejects with `timeout`, queued time included. */
export const CLIENT_ACK_TIMEOUT_MS = 10_000;
/** Socket open and `welcome` received within this, or the attempt counts as failed. */
export const CLIENT_CONNECT_TIMEOUT_MS = 10_000;
/** Commands held while disconnected; one more rejects at once with `queue_full`. */
export const CLIENT_MAX_QUEUED_COMMANDS = 100;
/**
 * Members a subscription with `presence: true` holds in `sub.presence`: after each (re)subscribe
 * it follows the hub's presence pages (100 members each by default) until it has this many.
 */
export const CLIENT_MAX_PRESENCE_MEMBERS = 1_000;
/**
 * Offsets a subscription holds above its position (delivered, or own publishes that will not come
 * back) while a hole below them is open. Beyond this many, the oldest hole is given up as a `gap`:
 * a message that has not come by then is not coming. About 50 bytes each.
 */
export const CLIENT_MAX_KNOWN_OFFSETS = 1_000;
/**
 * Attempts in a row whose socket closed before it opened, after which `connect_failed` is
 * reported (once per run of failures). A browser sees a hub that is down and a hub refusing the
 * token with HTTP 401 alike (1006 before open), so it keeps retrying, with backoff; this tells
 * the application that it is not a blip.
 */
export const CLIENT_CONNECT_FAILURES_REPORTED = 5;

/**
 * Per-topic history (docs/protocol.md#recovery): messages kept per topic (0 = history off, the
 * default), how long a stream lives after its last publish (ms), and how many streams the
 * in-memory store holds at most (beyond: the least recently published stream is dropped, and
 * with it its epoch). Memory is bounded by HISTORY_MAX_STREAMS × size × message size.
 */
export const HISTORY_SIZE = 0;
export const HISTORY_TTL_MS = 5 * 60_000;
export const HISTORY_MAX_STREAMS = 10_000;
/** Cluster: a history store command (append, read) not answered within this fails: `unavailable`. */
export const HISTORY_COMMAND_TIMEOUT_MS = 5_000;
/**
 * NATS history: how often each node checks that the JetStream stream it reads notifications from
 * is still the same one (deleted and recreated: it starts reading the new one from its start), ms.
 */
export const HISTORY_NATS_WATCH_MS = 1_000;
/**
 * NATS history: publishes into one topic that queue on a node while its previous record is being
 * stored go out together as one record of at most this many messages and bytes (one round trip
 * for a burst). The stream keeps `size` records per topic, so at most size × this many messages
 * on the server; readers see the newest `size`.
 */
export const HISTORY_NATS_MAX_BATCH = 100;
/** See HISTORY_NATS_MAX_BATCH: a record's bytes at most (a single larger message still goes alone). */
export const HISTORY_NATS_MAX_BATCH_BYTES = 256 * 1024;
/** NATS history: an append that loses the expected-last-subject-sequence race this many times in a row fails. */
export const HISTORY_NATS_MAX_ATTEMPTS = 100;
/**
 * NATS history: the notifications consumer handed nothing over for this long while the stream
 * holds later records (deleted on the server, or a stale connection nats.js would only notice
 * after two missed idle heartbeats, 30 s): it is replaced by one that starts after the last
 * record handed over, ms. Must exceed HISTORY_NATS_WATCH_MS, the check's own period.
 */
export const HISTORY_NATS_STALL_MS = 5_000;
/**
 * NATS history: the notifications loop hands a backlog over for at most this long before it lets
 * I/O and timers in, so 5,000 subscribers' recovery reads are not starved by one catch-up, ms.
 */
export const HISTORY_NATS_SLICE_MS = 50;

/** Live viewer (/inspect): how often it pushes counts and events to each open page, in ms. */
export const VIEWER_TICK_MS = 250;
/** Events per tick sent to a page; past this they are counted per type, not listed (sampling). */
export const VIEWER_EVENTS_PER_TICK = 40;
/** Events and snapshots of the followed client kept per tick. */
export const VIEWER_FOLLOW_EVENTS_PER_TICK = 100;
/** Pages open on /inspect at once; one more is refused with 503. */
export const VIEWER_MAX_PAGES = 8;
/** Bytes a page may have unread before a tick skips it: a slow page never grows the server. */
export const VIEWER_MAX_UNREAD_BYTES = 1024 * 1024;

/**
 * `history` reads one client may have in flight. They do not hold its other commands back (a
 * publish pipelined behind a read is handled at once), so they are bounded apart from
 * MAX_PENDING_COMMANDS: each may hold a page of up to the history size in memory. One more is
 * answered `overloaded`.
 */
export const MAX_PENDING_HISTORY_READS = 8;
