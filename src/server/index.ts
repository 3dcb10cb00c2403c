/// <reference types="node" />
/**
 * `surewire/server`: the Node reference server for the surewire protocol (DESIGN §5). Node
 * only; client code must never import it.
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
