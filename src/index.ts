/**
 * surewire: real-time events that keep flowing — WebSocket, SSE or long-polling with fallback,
 * backoff with jitter, heartbeats, and resume without loss or repetition.
 * @packageDocumentation
 */
export { createClient } from './client';
export type { Client } from './client';
export { SurewireError, isSurewireError } from './errors';
export type { SurewireErrorCode, SurewireErrorInit } from './errors';
export type {
  ClientOptions,
  ReconnectOptions,
  HeartbeatOptions,
  EndpointOptions,
  Decode,
  DebugLogger,
  Provider,
} from './options';
export type { Jitter } from './backoff';
export type {
  ConnectionState,
  EventMap,
  FetchLike,
  InboundMessage,
  MessageMeta,
  RequestInitLike,
  ResponseLike,
  Status,
  TransportName,
  WebSocketConstructor,
  WebSocketLike,
} from './types';
