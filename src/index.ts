export { createHub, type Hub, type HubActor, type ClientInfo, type CloseOptions } from './hub.js';
export type { HubOptions, AuthResult, ClientHandle, ResolvedOptions } from './options.js';
export type { OriginPolicy } from './origin.js';
export { extractToken, staticTokenAuth, selectProtocol, type TokenSource, type TokenOptions } from './auth-token.js';
export { clientAddress } from './client-address.js';
export type { RateLimits } from './rate-limit.js';
export type { Connection, ConnectionHandlers } from './connection.js';
export type { HubStats } from './stats.js';
export type { Logger, LogLevel } from './logger.js';
export { consoleLogger, createLogger } from './logger.js';
export { metricsHandler } from './metrics/handler.js';
export { createHttpApi, type HttpApiOptions, type HttpApiHandler, type HttpApiErrorCode } from './http-api.js';
export { DISCONNECT_REASONS, type DisconnectReason } from './disconnect-reason.js';
export { CloseCode } from './close-codes.js';
export { HubConfigError, HubServerError, type ConfigErrorReason } from './errors.js';
export * as limits from './limits.js';
export { encodeFrame } from './frame.js';
export { readServerConfig, parseCliArgs, helpText, SETTINGS, type ServerConfig } from './config.js';
export { HubServer, type HubServerShape } from './hub-server.js';
export { make as makeHubServer, layer as hubServerLayer } from './hub-server-live.js';
export { hubRoutes, type RoutesOptions } from './http-routes.js';
export { hubMachine, clientMachine } from '../machines/index.js';
export type * from "../machines/hub.types.js";
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
export type { Broker, BrokerState } from './broker/broker.js';
export { memoryBroker, createMemoryBus, type MemoryBus } from './broker/memory.js';
export { redisBroker, type RedisBrokerOptions } from './broker/redis.js';
export { natsBroker, type NatsBrokerOptions } from './broker/nats.js';
export type { ClusterStats } from './cluster/cluster.js';
export type { ClusterOptionsInput } from './options.js';
export { startInspector, isHubInspector, type HubInspector, type InspectorOptions } from './inspector/inspector.js';
export { sanitizeEvent, sanitizeContext } from './inspector/sanitize.js';
export { hubPage, type PageOptions } from './page/page.js';
