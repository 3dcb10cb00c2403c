/// <reference types="node" />
/**
 * `surewire/server`: the Node reference server for the surewire protocol (DESIGN §5). Node
 * only; client code must never import it.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { createHub, readToken } from 'surewire/server';
 *
 * const hub = createHub({ authenticate: (req) => readToken(req) === 'secret', onMessage: (msg) => console.log(msg) });
 * const server = http.createServer(app);
 * hub.attach(server, { path: '/rt' });      // /rt/ws, /rt/sse, /rt/poll, POST /rt/send
 * // or, Express-style: app.use('/rt', hub.handle); server.on('upgrade', hub.handleUpgrade)
 * // with createHub({ path: '/rt' }) so that handleUpgrade takes exactly /rt/ws.
 * hub.publish('message', { text: 'hi' });   // → '1732406400000001': time-based, see `firstId`
 * await hub.close();
 * ```
 *
 * @packageDocumentation
 */
export { createHub } from './hub';
export { readToken } from './http-guards';
export { HUB_DEFAULTS } from './options';
export type {
  AttachOptions,
  Hub,
  HubConnection,
  HubMessage,
  HubMessageContext,
  HubOptions,
  HubRequestHandler,
  HubStats,
  HubTransport,
  HubUpgradeHandler,
} from './types';
