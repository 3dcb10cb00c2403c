/**
 * Public types of `surewire/server`. Kept apart from the implementation so that the facade,
 * the sessions and the router can all name them without importing each other.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** The streaming transports a hub serves. */
export type HubTransport = 'websocket' | 'sse' | 'poll';

/** One message a client sent, as handed to {@link HubOptions.onMessage}. */
export interface HubMessage {
  /** The client's event name (any non-empty string). */
  readonly event: string;
  /** The parsed JSON `data`; `null` when the client sent none. */
  readonly data: unknown;
  /** The client's unique message id; the hub hands each `mid` to `onMessage` once. */
  readonly mid: string;
}

/** Where a {@link HubMessage} came from. */
export interface HubMessageContext {
  /** `'websocket'` for a frame on an open socket, `'http'` for `POST {path}/send` (SSE and poll clients). */
  readonly transport: 'websocket' | 'http';
  /** The request that opened the WebSocket, or the `POST` request itself. */
  readonly req: IncomingMessage;
  /** The WebSocket connection the message arrived on; absent for `POST`. */
  readonly connection?: HubConnection;
}

/** Options of {@link createHub}. Every field is optional. */
export interface HubOptions {
  /**
   * Events kept for replay after a reconnect (a ring). A client whose `lastEventId` is older than
   * the oldest kept event gets `resumed: false`. `0` keeps none.
   * @defaultValue 1000
   */
  history?: number | undefined;
  /**
   * Milliseconds between heartbeats (SSE comment, WebSocket `{"type":"ping"}`), announced in the
   * hello so that clients derive their dead-connection timeout from it. `false` (or `0`) sends
   * none and announces none. At most 2147483647 (2^31 - 1, Node's longest timer; more throws).
   * @defaultValue 15000
   */
  heartbeat?: number | false | undefined;
  /**
   * Milliseconds a long-poll is held open when nothing is pending; it is then answered 200 with an
   * empty body. With heartbeats on, a poll is held at most `2 × heartbeat`: a held poll sends
   * nothing, and clients take `2 × heartbeat + 5000` ms of silence for a dead connection.
   * At most 2147483647 (2^31 - 1, Node's longest timer; more throws).
   * @defaultValue 25000
   */
  pollTimeout?: number | undefined;
  /**
   * Largest inbound WebSocket frame (bigger: close 1009) and `POST` body (bigger: 413), in bytes.
   * @defaultValue 65536
   */
  maxMessageBytes?: number | undefined;
  /**
   * Slow-client cutoff: a connection whose unsent bytes (`ws.bufferedAmount`,
   * `res.writableLength`) pass this is destroyed; the client resumes later by id. Replays are
   * flow-controlled and pause at half of it, so a large history does not trip it.
   * @defaultValue 4194304 (4 MiB)
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Origins allowed to connect. `'*'` allows any (the `Origin` is echoed so that credentials work).
   * Compared as origins, the way browsers serialize them: scheme and host in any case, a default
   * port and a trailing slash make no difference (`'https://App.example.com:443/'` admits
   * `https://app.example.com`). A request without an `Origin` header always passes. Others
   * (an `Origin` that is not a URL, `null` included) get 403 (also on upgrade).
   * @defaultValue '*'
   */
  allowOrigins?: '*' | readonly string[] | undefined;
  /**
   * Decides whether a request may connect or send. Read the token with {@link readToken}
   * (`Authorization: Bearer` on HTTP, `access_token` query on WebSocket). `false` answers 401
   * (WebSocket: accepted, then closed 4401, since browsers cannot see a refused upgrade's status).
   * A throw or rejection answers 500 (WebSocket: close 1011) and goes to `onError`, even when the
   * client left before it came.
   * @defaultValue every request passes
   */
  authenticate?: ((req: IncomingMessage) => boolean | Promise<boolean>) | undefined;
  /**
   * Receives every client message once per `mid` (a window of the last `dedupeWindow` mids), from
   * WebSocket frames and `POST {path}/send` alike. A throw, or the rejection of a promise it
   * returns (an `async` handler), goes to `onError`; the message still counts as handled (it is
   * acknowledged at once, without waiting for the promise, and not handed over again).
   */
  onMessage?: ((msg: HubMessage, ctx: HubMessageContext) => void) | undefined;
  /**
   * Errors the hub cannot answer to anyone: a throwing (or rejecting) `onMessage` or
   * `authenticate`. A throw from `onError` itself is swallowed.
   * @defaultValue `console.error`
   */
  onError?: ((err: unknown) => void) | undefined;
  /**
   * Base path for {@link Hub.handleUpgrade}, which then serves exactly `{path}/ws`; also the
   * default path of {@link Hub.attach}. Without it `handleUpgrade` serves any path ending in `/ws`
   * and `attach` serves at the root.
   * @defaultValue undefined
   */
  path?: string | undefined;
  /**
   * How many recent `mid`s are remembered to drop retried duplicates.
   * @defaultValue 10000
   */
  dedupeWindow?: number | undefined;
  /**
   * Milliseconds without any inbound frame or pong after which a WebSocket client is taken for
   * gone (a laptop closed, a NAT that forgot the connection: no FIN ever arrives) and dropped.
   * Every heartbeat also sends a protocol-level ping, which browsers and `ws` answer on their
   * own. `0` turns reaping off; it is off as well when heartbeats are. At most 2147483647 ms, like
   * every duration here (more throws).
   * @defaultValue `2 × heartbeat + 5000`, the rule clients use for the server
   */
  clientTimeout?: number | undefined;
  /**
   * The id before the first event: the first `publish` returns `firstId + 1`, and the hello of an
   * empty log announces `firstId`. An integer from 0 to 2^53 - 2^40 (room for 2^40 events
   * before ids would stop growing). The default is time-based so that a
   * restarted hub's ids stay above its previous ones: clients resuming across a restart then get
   * `resumed: false` rather than a cursor the new hub never issued, and do not drop its events
   * as duplicates of ids they already saw. Pass `0` for ids from `'1'` (tests, demos).
   * @defaultValue `Date.now() * 1000` at `createHub` (stays below 2^53 for centuries; ids stay
   * above the previous hub's unless it published a sustained million events per second)
   */
  firstId?: number | undefined;
}

/** Options of {@link Hub.attach}. */
export interface AttachOptions {
  /**
   * Base path: the hub serves `{path}/ws`, `{path}/sse`, `{path}/poll`, `{path}/send`.
   * @defaultValue the hub's `path` option, else `''` (the root)
   */
  path?: string | undefined;
}

/** One live connection: an open WebSocket, an SSE stream or a pending long-poll. */
export interface HubConnection {
  /** Unique within the hub, in order of arrival (`'1'`, `'2'`, …). */
  readonly id: string;
  readonly transport: HubTransport;
  /** The request that opened it: read your own query parameters (e.g. a `cid`) or headers here. */
  readonly req: IncomingMessage;
  /** Hard drop: destroys the socket without a goodbye, like a network cut. */
  close(): void;
  /**
   * Stops writing anything (events, heartbeats, pongs, acks, poll answers) and ignores inbound
   * messages until the connection is closed: a stalled connection the client's heartbeat must
   * catch. The hub still notices when the peer goes away.
   */
  pause(): void;
}

/** A snapshot from {@link Hub.stats}. */
export interface HubStats {
  /** Live connections per transport (pending polls for `poll`). */
  readonly connections: { readonly websocket: number; readonly sse: number; readonly poll: number };
  /** Bytes written but not yet flushed to the network, over every connection. */
  readonly bufferedBytes: number;
  /** Events currently held for replay. */
  readonly history: number;
}

/** An Express/Connect-style middleware; `next` is called for paths the hub does not serve. */
export type HubRequestHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/** A `node:http` `'upgrade'` listener; returns whether the hub took the socket. */
export type HubUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** The reference server: one ordered event log served over WebSocket, SSE and long-poll. */
export interface Hub {
  /**
   * Serves the hub on a `node:http`/`https` server under `path`: wraps the server's existing
   * `'request'` listeners (paths outside `path` are passed to them untouched, or answered 404
   * when there are none; unknown paths under a non-root `path` are 404; call `attach` after
   * adding your own `'request'` listener, since one added later also sees the hub's requests) and adds an `'upgrade'` listener for `{path}/ws` (other WebSocket upgrades are left to other
   * listeners, or refused 404 when there are none). A request offering another upgrade
   * (`Upgrade: h2c`, sent by `curl --http2` and Java's HttpClient) is served as plain HTTP, as it
   * would be without an `'upgrade'` listener, unless another `'upgrade'` listener is there to
   * take it (a tunnel of yours). Returns the disposer that restores the server; the server's
   * `'close'` event also calls it. {@link Hub.close} does not: a closed hub stays attached and
   * answers its paths 503 until then.
   */
  attach(server: Server, options?: AttachOptions): () => void;
  /**
   * Middleware for `app.use('/rt', hub.handle)`: `req.url` is relative to the mount
   * (`/sse`, `/poll`, `/send`). Other paths go to `next`, or 404 without it. A plain `GET /ws`
   * (no upgrade) is answered 426.
   */
  readonly handle: HubRequestHandler;
  /**
   * `server.on('upgrade', hub.handleUpgrade)`: takes WebSocket upgrades to `{path}/ws` when the hub
   * has a `path` option, otherwise to any path ending in `/ws`. When this is the server's only
   * `'upgrade'` listener (`this` is the server), it answers every other upgrade too, as
   * {@link Hub.attach} does: a WebSocket upgrade to another path is refused 404, and a request
   * offering another upgrade (`Upgrade: h2c`) is handed back to the server as plain HTTP, to its
   * `'request'` listeners. With other `'upgrade'` listeners, or called by hand, it returns `false`
   * for those and leaves them alone.
   */
  readonly handleUpgrade: HubUpgradeHandler;
  /**
   * Appends an event to the log and sends it to every live connection; events published in the
   * same tick go out together (one WebSocket frame, one write). Returns its id: decimal strings,
   * strictly increasing from `firstId + 1` ({@link HubOptions.firstId}). `data` must be
   * JSON-serializable (`undefined` becomes `null`); otherwise, or for an event name SSE cannot
   * carry (empty, CR/LF, `surewire:hello`), it throws a `TypeError` and takes no id. After
   * `close()` events are still logged but sent to nobody.
   */
  publish(event: string, data?: unknown): string;
  /** Every live WebSocket, SSE stream and pending poll, as a fresh array. */
  connections(): readonly HubConnection[];
  /**
   * A restart that keeps the history: WebSockets closed 1012, SSE streams ended, pending polls
   * answered 200 empty, paused connections destroyed. New connections keep being served, and
   * clients resume by id. Resolves when every one of them has closed.
   */
  disconnectAll(): Promise<void>;
  /** Counters for monitoring and leak tests. */
  stats(): HubStats;
  /**
   * Ends every connection (WebSocket close 1001, SSE streams ended, pending polls answered 200
   * empty), clears every timer and resolves when all is closed. Later requests to the hub's paths
   * get 503, upgrades to its `/ws` too, so clients retry elsewhere rather than reach your app:
   * an attached hub stays attached until the disposer {@link Hub.attach} returned is called or
   * the server closes. Does not close your http server. Safe to call twice.
   */
  close(): Promise<void>;
}
