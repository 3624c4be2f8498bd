export { createHub, type Hub, type HubActor, type ClientInfo, type CloseOptions } from './hub.js';
export type { HubOptions, AuthResult, ClientHandle, ResolvedOptions } from './options.js';
export type { OriginPolicy } from './admission/origin.js';
export {
  extractToken,
  staticTokenAuth,
  selectProtocol,
  type TokenSource,
  type TokenOptions,
} from './admission/auth-token.js';
export { clientAddress } from './admission/client-address.js';
export type { RateLimits } from './admission/rate-limit.js';
export type { Connection, ConnectionHandlers } from '../machines/connection.js';
export type { HubStats } from './observability/stats.js';
export type { Logger, LogLevel } from './observability/logger.js';
export { consoleLogger, createLogger } from './observability/logger.js';
export { metricsHandler } from './observability/metrics/handler.js';
export { createHttpApi, type HttpApiOptions, type HttpApiHandler, type HttpApiErrorCode } from './server/http-api.js';
export { DISCONNECT_REASONS, type DisconnectReason } from './transport/disconnect-reason.js';
export { CloseCode } from './transport/close-codes.js';
export { HubConfigError, HubServerError, type ConfigErrorReason } from './errors.js';
export * as limits from './limits.js';
export { encodeFrame } from './transport/frame.js';
export { readServerConfig, parseCliArgs, helpText, type ServerConfig } from './server/config.js';
export { SETTINGS } from './server/settings.js';
export { HubServer, type HubServerShape } from './server/hub-server.js';
export { make as makeHubServer, layer as hubServerLayer } from './server/hub-server-live.js';
export { hubRoutes, type RoutesOptions } from './server/http-routes.js';
export { hubMachine, clientMachine } from '../machines/index.js';
export type * from '../machines/hub.types.js';
export type * from '../machines/client.types.js';
export type { TopicHook, Protocol, TopicOptions } from './options.js';
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
export { TopicIndex, TOPIC_PATTERN } from '../machines/topic-index.js';
export type { Broker, BrokerState } from './cluster/broker/broker.js';
export { memoryBroker, createMemoryBus, type MemoryBus } from './cluster/broker/memory.js';
export { redisBroker, type RedisBrokerOptions } from './cluster/broker/redis.js';
export { natsBroker, type NatsBrokerOptions } from './cluster/broker/nats.js';
export type { ClusterStats } from './cluster/cluster.js';
export type { ClusterOptionsInput } from './options.js';
export {
  startInspector,
  isHubInspector,
  type HubInspector,
  type InspectorOptions,
} from './observability/inspector/inspector.js';
export { sanitizeEvent, sanitizeContext } from './observability/inspector/sanitize.js';
export { hubPage, type PageOptions } from './server/page/page.js';
