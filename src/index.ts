/**
 * actorhub's public surface: everything a user may import from 'actorhub', and nothing else
 * (docs/api.md explains each group; docs/api/actorhub.api.md is the report `npm run api:check`
 * compares against). The machines have their own entry, 'actorhub/machines'.
 */

// The hub and its options.
export { createHub } from './hub.js';
export type {
  AuthResult,
  ClientHandle,
  ClientInfo,
  CloseOptions,
  ClusterOptionsInput,
  ClusterSettings,
  HistoryOptions,
  Hub,
  HubActor,
  HubOptions,
  Protocol,
  Reauthentication,
  ResolvedCluster,
  ResolvedOptions,
  TopicHook,
  TokenGrant,
  TopicOptions,
} from './types.js';
export type { ClientId, OutboundLimits, OverflowPolicy, TopicGrant } from '../machines/client.types.js';
export type {
  HubCommand,
  HubErrorCode,
  Member,
  NodeId,
  PublishOutcome,
  Ref,
  Settable,
  Topic,
} from '../machines/hub.types.js';
export type { TopicSchemas } from './protocol/topic-schemas.js';
export type { StandardSchemaV1 } from './client/standard-schema.js';
export type { HubMachine } from '../machines/hub.machine.js';
export * as limits from './limits.js';
export { HubConfigError, HubServerError, PublishError, type ConfigErrorReason } from './errors.js';

// History: what a store implements, what a read returns.
export { HistoryError, type HistoryErrorCode, type HistoryQuery, type HistoryResult } from './history/read.js';
export { memoryHistory, type MemoryHistoryOptions } from './history/memory.js';
// The shared stores a cluster's history needs (createHub requires one with `cluster`).
export { redisHistory, type RedisHistoryOptions } from './history/redis.js';
export { natsHistory, type NatsHistoryOptions } from './history/nats.js';
export type {
  Answer,
  AppendMessage,
  HistoryPage,
  HistorySettings,
  HistoryStore,
  HistoryStoreStats,
  ReadOptions,
  StoredMessage,
  StoredNotice,
  StreamPosition,
  SyncHistoryStore,
} from './history/store.js';

// Admission: origins, allowed hosts, tokens, rate limits.
export { isHostAllowed, type OriginPolicy } from './admission/origin.js';
export { extractToken, staticTokenAuth, type TokenSource, type TokenOptions } from './admission/auth-token.js';
export { jwtAuth, type JwtAuth, type JwtAuthOptions, type TokenVerdict } from './admission/jwt-auth.js';
export type { RateLimits } from './admission/rate-limit.js';

// What clients see: the JSON protocol's frames, close codes, disconnect reasons.
export {
  PROTOCOL_VERSION,
  Inbound,
  Outbound,
  type InboundFrame,
  type OutboundFrame,
  type WelcomeFrame,
  type ProtocolRef,
} from './protocol/schema.js';
export type { ProtocolErrorCode } from './protocol/error-codes.js';
export { CloseCode } from './transport/close-codes.js';
export { DISCONNECT_REASONS, type DisconnectReason } from './transport/disconnect-reason.js';

// Cluster: brokers.
export type { Broker, BrokerState } from './cluster/broker/broker.js';
export { memoryBroker, createMemoryBus, type MemoryBus } from './cluster/broker/memory.js';
export { redisBroker, type RedisBrokerOptions } from './cluster/broker/redis.js';
export { natsBroker, type NatsBrokerOptions } from './cluster/broker/nats.js';
export type { ClusterStats } from './cluster/cluster.js';

// Observability: logs, counters, metrics, the inspector.
export type { HubStats } from './observability/stats.js';
export { consoleLogger, createLogger, type Logger, type LogLevel } from './observability/logger.js';
export { metricsHandler } from './observability/metrics/handler.js';
export { startInspector, type HubInspector, type InspectorOptions } from './observability/inspector/inspector.js';
export { sanitizeEvent, sanitizeContext } from './observability/inspector/sanitize.js';
export { createViewer, type HubViewer, type ViewerOptions } from './observability/viewer/viewer.js';

// Serving: the HTTP API, routes and page for your own server, or the whole server as an Effect service.
export { createHttpApi, type HttpApiOptions, type HttpApiHandler, type HttpApiErrorCode } from './server/http-api.js';
export { hubRoutes, type RoutesOptions } from './server/http-routes.js';
export { hubPage, type PageOptions } from './server/page/page.js';
export {
  readServerConfig,
  type ApiConfig,
  type BrokerConfig,
  type ClusterConfig,
  type ServerConfig,
} from './server/config.js';
export { HubServer, type HubServerShape } from './server/hub-server.js';
export type { TlsFiles, TlsMaterial } from './server/tls.js';
export { make as makeHubServer, layer as hubServerLayer } from './server/hub-server-live.js';
