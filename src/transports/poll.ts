/**
 * The long-polling transport (DESIGN §3): each response is an event-stream body the server ends
 * as soon as it has written events, or after its poll timeout with none; we poll again at once.
 * See `createEventStreamTransport`.
 */
import { createEventStreamTransport } from './http';
import type { TransportFactory } from './transport';

export const createPollTransport: TransportFactory = (ctx, listener) => createEventStreamTransport('poll', ctx, listener);
