/**
 * The checks every request passes before a transport sees it: URL parsing, CORS and origin,
 * authentication, the cursor and token parameters, and a bounded JSON body reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server as TlsServer } from 'node:tls';
import { type ResolvedHubOptions, toOrigin } from './options';

/** A request target split into its path and query. */
export interface Target {
  readonly pathname: string;
  readonly query: URLSearchParams;
}

/**
 * Splits `req.url` by hand: `new URL('//evil/x', base)` would read `evil` as a host, and the
 * hub only needs the path and the query anyway.
 */
export function parseTarget(url: string | undefined): Target {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return { pathname: q === -1 ? raw : raw.slice(0, q), query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)) };
}

/**
 * The client's resume cursor: the `lastEventId` query parameter, else the `Last-Event-ID`
 * header (DESIGN §3: the query wins, since it is what every transport carries).
 */
export function readLastEventId(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const fromQuery = query.get('lastEventId');
  if (fromQuery !== null) return fromQuery;
  const header = req.headers['last-event-id'];
  return typeof header === 'string' ? header : undefined;
}

/**
 * The client's token for `authenticate`: `Authorization: Bearer <t>` (HTTP transports), else the
 * `access_token` query parameter (WebSocket, whose browser API cannot set headers).
 *
 * @example createHub({ authenticate: (req) => readToken(req) === process.env.TOKEN })
 */
export function readToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return parseTarget(req.url).query.get('access_token') ?? undefined;
}

/** Whether the request's `Origin` may connect; refuse with 403 when not. */
export function originAllowed(req: IncomingMessage, options: ResolvedHubOptions): boolean {
  const origin = req.headers.origin;
  // Requests without an Origin (servers, curl, same-origin GETs in some browsers) always pass.
  if (origin === undefined || options.allowOrigins === null) return true;
  // Both sides normalized, so case and a default port do not matter; an invalid one never matches.
  const normalized = toOrigin(origin);
  return normalized !== null && options.allowOrigins.has(normalized);
}

/**
 * CORS response headers for an allowed cross-origin request. The origin is echoed rather than
 * `*`, because browsers refuse `*` on credentialed requests (`withCredentials`).
 */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  res.setHeader('Vary', 'Origin');
}

/**
 * Answers a CORS preflight: the methods the hub serves and every requested header (with
 * credentials a `*` would not count as a wildcard, so the request's own list is echoed).
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = req.headers['access-control-request-headers'];
  res.statusCode = 204;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', typeof requested === 'string' && requested.trim() !== '' ? requested : 'Authorization, Last-Event-ID, Content-Type');
  res.setHeader('Access-Control-Max-Age', '600');
  res.end();
}

/** Ends a response with a status and a short plain-text reason. */
export function sendStatus(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Refuses an upgrade with a plain HTTP answer on the raw socket, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  // Node takes its own 'error' listener off a socket it hands to 'upgrade': without one, a peer
  // that resets while the answer is written (`write ECONNRESET`) would crash the process.
  socket.on('error', () => socket.destroy());
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
  // end() waits for the peer to close its side; a client that never does must not hold the socket.
  socket.once('finish', () => socket.destroy());
}

/** What `authenticate` said: yes, no, or it threw (or rejected). */
export type AuthVerdict = boolean | 'error';

/** Whether an upgrade asks for a WebSocket, the only upgrade the hub takes (RFC 6455 §4.2.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade?.trim().toLowerCase() === 'websocket';
}

/** Upgrade requests already handed back to the http server, so that two listeners do not both do it. */
const reparsed = new WeakSet<IncomingMessage>();

/**
 * Serves an upgrade request that does not ask for a WebSocket (`Upgrade: h2c` from `curl --http2`
 * or Java's HttpClient) as the ordinary HTTP request it also is: a server may ignore the offer
 * (RFC 9110 §7.8), but Node hands every request with an `Upgrade` header to the `'upgrade'`
 * listeners once there is one, so without this nobody would answer it.
 *
 * The request is written back without the offer in front of the bytes Node has not parsed (the
 * body, pipelined requests) and the socket is injected into `server` as a new connection (a use
 * Node documents for `'connection'`): Node's own parser then reads it, body, keep-alive and
 * timeouts included, and emits `'request'`. A `'connection'` listener of yours sees that socket
 * twice. When earlier requests pipelined on the socket still await their responses, it waits for
 * them first, so that answers go out in order and the request is answered at all.
 */
export function serveAsPlainHttp(server: NetServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (reparsed.has(req)) return;
  reparsed.add(req);
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    const lower = name.toLowerCase();
    if (lower === 'upgrade') continue;
    if (lower === 'connection') {
      const kept = value.split(',').map((t) => t.trim()).filter((t) => t !== '' && t.toLowerCase() !== 'upgrade');
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
    } else {
      lines.push(`${name}: ${value}`);
    }
  }
  // latin1 gives back the bytes Node read: it decodes header octets one to one.
  const bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]);
  // Node took its 'error' listener off; a reset while we wait must not crash the process.
  const onError = () => socket.destroy();
  socket.on('error', onError);
  whenNoResponseInFlight(socket, () => {
    socket.off('error', onError);
    // The response before it said `Connection: close`: the client expects no answer.
    if (socket.destroyed || socket.writableEnded) return;
    socket.unshift(bytes);
    // An https server parses HTTP on 'secureConnection' ('connection' is the raw TCP socket there).
    server.emit(server instanceof TlsServer ? 'secureConnection' : 'connection', socket);
  });
}

/**
 * Runs `then` once the responses to requests pipelined before the upgrade have all been written.
 * Node's connection state that parsed them still owns them: a socket injected meanwhile would
 * queue its own response behind one that the old state finishes and the new one never hears
 * of, so the request would never be answered. Node assigns each pipelined response to
 * `socket._httpMessage` in turn (the next one from its own `'finish'` listener, which runs before
 * ours); there is no public way to see them. Not called when the socket closes first.
 */
function whenNoResponseInFlight(socket: Duplex, then: () => void): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight === undefined || inFlight === null) return then();
  const next = () => {
    inFlight.off('finish', next);
    inFlight.off('close', next);
    if (!socket.destroyed) whenNoResponseInFlight(socket, then);
  };
  inFlight.on('finish', next);
  inFlight.on('close', next);
}

/**
 * Runs `authenticate`, synchronously when it answers synchronously, so that the common case adds
 * no tick. A throw or rejection goes to `onError` before `done` hears `'error'`: it is reported
 * whatever became of the request meanwhile (a client that gave up must not hide an auth outage).
 */
export function runAuthenticate(req: IncomingMessage, options: ResolvedHubOptions, done: (verdict: AuthVerdict) => void): void {
  if (options.authenticate === null) return done(true);
  const failed = (error: unknown) => {
    options.onError(error);
    done('error');
  };
  let result: boolean | Promise<boolean>;
  try {
    result = options.authenticate(req);
  } catch (error) {
    return failed(error);
  }
  if (typeof result === 'object' && result !== null && typeof (result as Promise<boolean>).then === 'function') {
    (result as Promise<boolean>).then((ok) => done(ok === true), failed);
  } else {
    done(result === true);
  }
}

/** How a bounded body read ended. */
export type BodyResult = { ok: true; body: string } | { ok: false; status: 400 | 413 };

/**
 * Reads a request body up to `limit` bytes. Refuses at once when `Content-Length` is too big,
 * and stops collecting as soon as a chunked body passes the limit: nothing unbounded is held.
 */
export function readBody(req: IncomingMessage, limit: number, done: (result: BodyResult) => void): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return done({ ok: false, status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: BodyResult) => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    done(result);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      chunks.length = 0;
      finish({ ok: false, status: 413 });
      // Node discards the rest of the body after the response (it is not kept), and the 413 goes
      // with `Connection: close` so a client cannot keep streaming on this socket.
      return;
    }
    chunks.push(chunk);
  };
  req.on('data', onData);
  req.on('end', () => finish({ ok: true, body: Buffer.concat(chunks, size).toString('utf8') }));
  req.on('error', () => finish({ ok: false, status: 400 }));
}
