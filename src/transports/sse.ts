/**
 * The SSE transport over `fetch` and eventsource-parser (not the native `EventSource`, which can
 * neither send headers nor tell us why it failed). See `createEventStreamTransport`.
 */
import { createEventStreamTransport } from './http';
import type { TransportFactory } from './transport';

export const createSseTransport: TransportFactory = (ctx, listener) => createEventStreamTransport('sse', ctx, listener);
