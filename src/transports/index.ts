/** The three transports behind the seam of `transport.ts`, by name. */
import type { TransportName } from '../types';
import { createPollTransport } from './poll';
import { createSseTransport } from './sse';
import type { TransportFactory } from './transport';
import { createWebSocketTransport } from './websocket';

export type { Failure, Hello, Transport, TransportContext, TransportFactory, TransportListener, WireEvent } from './transport';
export { createPollTransport } from './poll';
export { createSseTransport } from './sse';
export { createWebSocketTransport } from './websocket';

/** Every transport factory, keyed by the name used in the `transports` option. */
export const transportFactories: Record<TransportName, TransportFactory> = {
  websocket: createWebSocketTransport,
  sse: createSseTransport,
  poll: createPollTransport,
};
