/**
 * HTTP routing: which request goes to which transport, and the guards in the order DESIGN §5
 * implies — unknown path 404, origin 403, preflight, method 405, authentication 401, then the
 * transport's own checks. Upgrades get the same origin and authentication rules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ResumePoint } from './event-log';
import {
  type AuthVerdict,
  answerPreflight,
  originAllowed,
  parseTarget,
  readBody,
  readLastEventId,
  refuseUpgrade,
  runAuthenticate,
  sendStatus,
  setCorsHeaders,
  type Target,
} from './http-guards';
import type { ResolvedHubOptions } from './options';
import type { HubMessage } from './types';
import { asItems, classifyInbound } from './wire';

/** What the router hands over once a request passed every guard. */
export interface Endpoints {
  readonly options: ResolvedHubOptions;
  /** True once the hub closed: new requests get 503. */
  isClosed(): boolean;
  /** Where a connection with this `lastEventId` starts. */
  resume(lastEventId: string | undefined): ResumePoint;
  sse(req: IncomingMessage, res: ServerResponse, start: ResumePoint): void;
  poll(req: IncomingMessage, res: ServerResponse, start: ResumePoint): void;
  /** Messages from `POST /send`, already validated. */
  send(req: IncomingMessage, messages: readonly HubMessage[]): void;
  /**
   * Completes an upgrade that passed origin checks; `auth` is what `authenticate` said (an
   * `'error'` was already reported to `onError`).
   */
  websocket(req: IncomingMessage, socket: Duplex, head: Buffer, auth: AuthVerdict): void;
}

/** The routes under a base path. */
type Route = 'ws' | 'sse' | 'poll' | 'send';

const ROUTES: Record<string, Route> = { '/ws': 'ws', '/sse': 'sse', '/poll': 'poll', '/send': 'send' };

/** The route of a path relative to the hub's base, or `null` when the hub does not serve it. */
export function routeOf(relative: string): Route | null {
  return Object.prototype.hasOwnProperty.call(ROUTES, relative) ? ROUTES[relative] : null;
}

/**
 * The path of `pathname` relative to `base` (`'/rt/sse'` under `'/rt'` is `'/sse'`), or `null`
 * when it lies outside.
 */
export function relativeTo(base: string, pathname: string): string | null {
  if (base === '') return pathname;
  if (pathname === base) return '/';
  return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : null;
}

/**
 * Handles one request whose path relative to the hub is `relative`. Calls `next` (or answers
 * 404) when the hub does not serve that path.
 */
export function routeRequest(hub: Endpoints, req: IncomingMessage, res: ServerResponse, target: Target, relative: string, next?: () => void): void {
  const route = routeOf(relative);
  if (route === null) {
    if (next) next();
    else sendStatus(res, 404);
    return;
  }
  const { options } = hub;
  if (!originAllowed(req, options)) return sendStatus(res, 403);
  setCorsHeaders(req, res);
  if (req.method === 'OPTIONS') return answerPreflight(req, res);
  const method = route === 'send' ? 'POST' : 'GET';
  if (req.method !== method) return sendStatus(res, 405, { Allow: `${method}, OPTIONS` });
  // A plain GET on the WebSocket endpoint: say what is missing rather than a bare 404.
  if (route === 'ws') return sendStatus(res, 426, { Upgrade: 'websocket', Connection: 'Upgrade' });
  // 503 without Retry-After: clients back off as for any 5xx.
  if (hub.isClosed()) return sendStatus(res, 503);

  runAuthenticate(req, options, (auth) => {
    if (res.destroyed || res.headersSent) return;
    if (auth !== true) {
      if (auth === false) return sendStatus(res, 401, { 'WWW-Authenticate': 'Bearer' });
      return sendStatus(res, 500);
    }
    // The hub may have closed while an async authenticate ran.
    if (hub.isClosed()) return sendStatus(res, 503);
    if (route === 'send') return handleSend(hub, req, res);
    const start = hub.resume(readLastEventId(req, target.query));
    if (route === 'sse') hub.sse(req, res, start);
    else hub.poll(req, res, start);
  });
}

/** `POST /send` (DESIGN §3): JSON only (415), bounded (413), well-formed (400), then 204. */
function handleSend(hub: Endpoints, req: IncomingMessage, res: ServerResponse): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return sendStatus(res, 415, { Accept: 'application/json' });
  readBody(req, hub.options.maxMessageBytes, (result) => {
    if (res.destroyed) return;
    if (!result.ok) return sendStatus(res, result.status, result.status === 413 ? { Connection: 'close' } : {});
    let value: unknown;
    try {
      value = JSON.parse(result.body);
    } catch {
      return sendStatus(res, 400);
    }
    // All or nothing: a batch with one bad item is refused whole, so nothing is half-delivered
    // and the client's retry (with the same mids) cannot double anything.
    const messages: HubMessage[] = [];
    for (const raw of asItems(value)) {
      const item = classifyInbound(raw);
      if (item.kind !== 'message') return sendStatus(res, 400);
      messages.push(item.message);
    }
    hub.send(req, messages);
    res.statusCode = 204;
    res.end();
  });
}

/**
 * Handles an upgrade to the hub's WebSocket endpoint: 503 when closed, 403 for a refused origin
 * (refused before the handshake, as DESIGN §5 says), then `authenticate`, whose verdict the
 * endpoint turns into a close code after accepting (browsers cannot read a refused upgrade).
 */
export function routeUpgrade(hub: Endpoints, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Until `ws` takes the socket, a reset must not become an unhandled 'error' event.
  const onError = () => socket.destroy();
  socket.on('error', onError);
  if (hub.isClosed()) return refuseUpgrade(socket, 503);
  if (!originAllowed(req, hub.options)) return refuseUpgrade(socket, 403);
  runAuthenticate(req, hub.options, (auth) => {
    if (socket.destroyed) return;
    if (hub.isClosed()) return refuseUpgrade(socket, 503);
    // From here `ws` listens for errors on the socket itself.
    socket.off('error', onError);
    hub.websocket(req, socket, head, auth);
  });
}

/** Parses the request target once; re-exported for the facade. */
export { parseTarget };
