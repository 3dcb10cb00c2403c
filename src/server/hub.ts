/**
 * The hub facade: owns the event log, the set of live sessions, the publish flush, the shared
 * heartbeat timer and the `ws` server, and wires the router to them.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { EventLog, type LogEntry, toBatches } from './event-log';
import { isWebSocketUpgrade, parseTarget, readLastEventId, refuseUpgrade, sendStatus, serveAsPlainHttp } from './http-guards';
import { createInbox } from './inbox';
import { normalizePath, resolveHubOptions } from './options';
import { servePoll } from './poll-session';
import { type Endpoints, relativeTo, routeRequest, routeUpgrade } from './router';
import { CLOSE_GRACE_MS, type Session, type SessionHost } from './session';
import { SseSession } from './sse-session';
import type { AttachOptions, Hub, HubConnection, HubOptions, HubStats } from './types';
import { isValidEventName } from './wire';
import { WsClose, WsSession } from './ws-session';

/**
 * Creates a hub: one ordered event log served over WebSocket, SSE and long-polling.
 *
 * @example
 * const hub = createHub({ history: 1000 });
 * hub.attach(httpServer, { path: '/rt' });
 * hub.publish('message', { text: 'hi' }); // → '1732406400000001' (firstId + 1)
 */
export function createHub(options: HubOptions = {}): Hub {
  const opts = resolveHubOptions(options);
  const log = new EventLog(opts.history, opts.firstId);
  const sessions = new Set<Session>();
  const inbox = createInbox(opts.dedupeWindow, opts.onMessage, opts.onError);
  // noServer: the hub routes upgrades itself. maxPayload makes ws close 1009 on a big frame.
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  /** Sockets accepted only to be closed (4401, 1011): `close()` must not wait for their grace timer. */
  const refused = new Set<WebSocket>();
  let nextConnectionId = 0;
  let pending: LogEntry[] = [];
  let flushHandle: NodeJS.Immediate | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;

  const host: SessionHost = {
    log,
    options: opts,
    removed(session) {
      sessions.delete(session);
      // The heartbeat timer runs only while someone listens, so an idle hub holds no timer.
      if (sessions.size === 0 && heartbeatTimer !== undefined) {
        clearInterval(heartbeatTimer);
        heartbeatTimer = undefined;
      }
    },
  };

  function track(session: Session): void {
    if (session.done) return;
    sessions.add(session);
    if (opts.heartbeat > 0 && heartbeatTimer === undefined) {
      // One timer for every connection rather than one each: each still gets a heartbeat at
      // least every `heartbeat` ms, which is what the hello promises.
      heartbeatTimer = setInterval(() => {
        for (const s of [...sessions]) s.heartbeat();
      }, opts.heartbeat);
    }
  }

  const newId = () => String(++nextConnectionId);

  /** Sends every event published since the last flush, batched, to every live session. */
  function flush(): void {
    flushHandle = undefined;
    const entries = pending;
    pending = [];
    if (sessions.size === 0) return;
    for (const batch of toBatches(entries)) {
      for (const s of [...sessions]) s.offer(batch);
    }
  }

  const endpoints: Endpoints = {
    options: opts,
    isClosed: () => closing !== undefined,
    resume: (lastEventId) => log.resolve(lastEventId),
    sse(req, res, start) {
      track(new SseSession(host, newId(), req, res, start));
    },
    poll(req, res, start) {
      const held = servePoll(host, newId(), req, res, start);
      if (held) track(held);
    },
    send(req, messages) {
      inbox.deliver(messages, { transport: 'http', req });
    },
    websocket(req, socket, head, auth) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (auth !== true) {
          // Accept, then close: a browser sees only "failed" for a refused upgrade (DESIGN §4).
          if (auth === false) ws.close(WsClose.unauthorized, 'Unauthorized');
          else ws.close(WsClose.internalError, 'Internal Error');
          // A peer that never answers the close frame must not keep the socket for ws's 30 s.
          const t = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
          refused.add(ws);
          ws.on('close', () => {
            clearTimeout(t);
            refused.delete(ws);
          });
          ws.on('error', () => {});
          return;
        }
        if (closing !== undefined) {
          ws.close(WsClose.goingAway, 'Going Away');
          return;
        }
        const start = log.resolve(readWsCursor(req));
        track(new WsSession(host, newId(), req, ws, start, inbox));
      });
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const target = parseTarget(req.url);
    routeRequest(endpoints, req, res, target, target.pathname, next && (() => next()));
  };

  // A function, not an arrow: as a server's 'upgrade' listener, `this` is that server.
  const handleUpgrade = function (this: unknown, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    // The server's only 'upgrade' listener answers every upgrade, as attach() does: nobody else
    // would, and the socket would be held forever. With other listeners, or called by hand, what
    // is not ours is left to them or to the caller.
    const alone = this instanceof NetServer && this.listenerCount('upgrade') === 1;
    if (!isWebSocketUpgrade(req)) {
      // An offer nobody else takes (h2c from curl --http2) is an ordinary request.
      if (!alone) return false;
      serveAsPlainHttp(this, req, socket, head);
      return true;
    }
    const { pathname } = parseTarget(req.url);
    const matches = opts.path === null ? pathname.endsWith('/ws') : pathname === `${opts.path}/ws`;
    if (matches) {
      routeUpgrade(endpoints, req, socket, head);
      return true;
    }
    if (!alone) return false;
    refuseUpgrade(socket, 404);
    return true;
  };

  function attach(server: Server, attachOptions: AttachOptions = {}): () => void {
    if (typeof server !== 'object' || server === null || typeof (server as Partial<Server>).listeners !== 'function') {
      throw new TypeError("hub.attach: pass a node:http or node:https server, e.g. `hub.attach(http.createServer(app), { path: '/rt' })`; for Express use `app.use('/rt', hub.handle)`.");
    }
    const base = attachOptions.path !== undefined ? normalizePath(attachOptions.path) : (opts.path ?? '');
    // Like engine.io: take over the existing 'request' listeners and call them for every path
    // the hub does not serve, so the app behind keeps working and never answers our paths too.
    const previous = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const target = parseTarget(req.url);
      const relative = relativeTo(base, target.pathname);
      const passOn = () => {
        if (previous.length === 0) return sendStatus(res, 404);
        for (const listener of previous) listener.call(server, req, res);
      };
      if (relative === null) passOn();
      // The hub owns its base path: an unknown path under it is 404 (DESIGN §5). At the root it
      // owns only its four routes and everything else is the app's.
      else routeRequest(endpoints, req, res, target, relative, base === '' ? passOn : undefined);
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Only a WebSocket upgrade is ours to take or refuse. Another offer that no other 'upgrade'
      // listener takes (h2c from curl --http2) is an ordinary request; one that another
      // listener may serve (a tunnel) is theirs.
      if (!isWebSocketUpgrade(req)) {
        if (server.listenerCount('upgrade') === 1) serveAsPlainHttp(server, req, socket, head);
        return;
      }
      const { pathname } = parseTarget(req.url);
      if (pathname === `${base}/ws`) return routeUpgrade(endpoints, req, socket, head);
      // Nobody else listens: refuse rather than leave the socket hanging forever.
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404);
    };
    server.on('request', onRequest);
    server.on('upgrade', onUpgrade);
    // close() does not detach: a closed hub keeps answering its paths 503, as Hub.close promises,
    // so a client retries rather than reach the app behind (which could answer `POST /send` 2xx
    // and lose the message) or nobody (which would hold the request forever).
    let attached = true;
    const detach = () => {
      if (!attached) return;
      attached = false;
      server.off('request', onRequest);
      server.off('upgrade', onUpgrade);
      server.off('close', detach);
      for (const listener of previous) server.on('request', listener);
    };
    server.once('close', detach);
    return detach;
  }

  function publish(event: string, data?: unknown): string {
    if (!isValidEventName(event)) {
      throw new TypeError(`hub.publish: \`event\` must be a non-empty string without CR/LF (and not 'surewire:hello'), e.g. hub.publish('message', data); got ${JSON.stringify(event)}.`);
    }
    // Serialize before taking an id, so a value JSON cannot encode throws without using one.
    const dataJson = data === undefined ? 'null' : JSON.stringify(data);
    if (typeof dataJson !== 'string') {
      throw new TypeError('hub.publish: `data` must be JSON-serializable (a function or symbol is not).');
    }
    const entry = log.append(event, dataJson);
    // With nobody connected there is nobody to flush to: later connections read the log. Once a
    // flush is due, every event joins it, so a batch always holds consecutive ids.
    if (closing === undefined && (sessions.size > 0 || flushHandle !== undefined)) {
      pending.push(entry);
      // setImmediate rather than a microtask: everything published in this turn of the event
      // loop, across I/O callbacks of the same poll phase, goes out in one frame.
      flushHandle ??= setImmediate(flush);
    }
    return String(entry.id);
  }

  function connections(): readonly HubConnection[] {
    return [...sessions].map((s) => s.connection);
  }

  async function disconnectAll(): Promise<void> {
    const all = [...sessions];
    for (const s of all) s.restart();
    await Promise.all(all.map((s) => s.ended));
  }

  function stats(): HubStats {
    const counts = { websocket: 0, sse: 0, poll: 0 };
    let bufferedBytes = 0;
    for (const s of sessions) {
      counts[s.transport]++;
      bufferedBytes += s.buffered();
    }
    return { connections: counts, bufferedBytes, history: log.size };
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      if (flushHandle !== undefined) clearImmediate(flushHandle);
      flushHandle = undefined;
      // Events still pending were published before close: deliver them before the goodbye.
      flush();
      for (const ws of refused) ws.terminate();
      const all = [...sessions];
      await Promise.all(all.map((s) => s.shutdown()));
      if (heartbeatTimer !== undefined) clearInterval(heartbeatTimer);
      heartbeatTimer = undefined;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    })();
    return closing;
  }

  return { attach, handle, handleUpgrade, publish, connections, disconnectAll, stats, close };
}

/**
 * The WebSocket cursor: the query parameter (all a browser can send on an upgrade), else the
 * header, which Node clients may set.
 */
function readWsCursor(req: IncomingMessage): string | undefined {
  return readLastEventId(req, parseTarget(req.url).query);
}
