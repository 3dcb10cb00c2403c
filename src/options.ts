/**
 * Client options: the one place where defaults live. Resolved once by {@link resolveOptions};
 * no other module reads a raw option or a default.
 */
import type { Jitter } from './backoff';
import { SurewireError } from './errors';
import { resolveUrl } from './transports/url';
import type { FetchLike, TransportName, WebSocketConstructor } from './types';

/** A value, or a function (possibly async) that returns it, called before every attempt. */
export type Provider<T> = T | (() => T | Promise<T>);

/** Reconnect timing. Delay for attempt n: `random(0, min(maxDelay, initialDelay · factor^n))`. */
export interface ReconnectOptions {
  /** Base delay in ms; an SSE `retry:` field replaces it. @defaultValue 1000 */
  initialDelay?: number | undefined;
  /** Ceiling of the exponential part in ms (`Retry-After` may exceed it). @defaultValue 30000 */
  maxDelay?: number | undefined;
  /** Growth per attempt. @defaultValue 2 */
  factor?: number | undefined;
  /** `full`, `equal`, `decorrelated` or `none`. @defaultValue 'full' */
  jitter?: Jitter | undefined;
  /** Failed attempts in a row before giving up with `MAX_ATTEMPTS`. @defaultValue Infinity */
  maxAttempts?: number | undefined;
}

/** Dead-connection detection. */
export interface HeartbeatOptions {
  /** ms between the client's WebSocket pings (which also measure `rtt`). @defaultValue 15000 */
  interval?: number | undefined;
  /**
   * ms without any inbound byte after which the connection is declared dead. When unset, a
   * server hello announcing heartbeat h sets it to `2h + 5000`. @defaultValue 35000
   */
  timeout?: number | undefined;
}

/** Per-transport endpoint URLs; each overrides `{url}/ws|sse|poll|send`, `false` disables it. */
export interface EndpointOptions {
  websocket?: string | false | undefined;
  sse?: string | false | undefined;
  poll?: string | false | undefined;
  send?: string | false | undefined;
}

/** How event data is turned into the value handlers receive. */
export type Decode = 'json' | 'text' | ((raw: string, event: string) => unknown);

/** A logger for the `debug` option. It never receives tokens. */
export type DebugLogger = (message: string, details?: Record<string, unknown>) => void;

/** Everything `createClient` accepts. Only `url` (or `endpoints`) is required. */
export interface ClientOptions {
  /** Base URL: WebSocket at `{url}/ws`, SSE at `{url}/sse`, poll at `{url}/poll`, sends at `{url}/send`. May be relative in a browser, and may carry a query string, which every endpoint keeps. */
  url?: string | undefined;
  /** Overrides or disables individual endpoints. */
  endpoints?: EndpointOptions | undefined;
  /** Transports in order of preference. @defaultValue ['websocket', 'sse', 'poll'] */
  transports?: readonly TransportName[] | undefined;
  reconnect?: ReconnectOptions | undefined;
  /** Heartbeat settings, or `false` to never declare a connection dead. */
  heartbeat?: HeartbeatOptions | false | undefined;
  /** ms an attempt may take to open, waiting for `token` and `headers` included, before the next transport is tried. @defaultValue 5000 */
  openTimeout?: number | undefined;
  /** ms one HTTP request (a long-poll, or a send) may take before it counts as a network failure (a send is then retried with the same `mid`). @defaultValue 40000 */
  pollTimeout?: number | undefined;
  /** Bearer token, or a function called before every attempt (and again after a 401). */
  token?: Provider<string | null | undefined> | undefined;
  /** Extra headers for HTTP transports and sends, or a function called before every attempt. */
  headers?: Provider<Record<string, string>> | undefined;
  /** Send cookies with HTTP requests (`credentials: 'include'`). @defaultValue false */
  withCredentials?: boolean | undefined;
  /** Resume after this id (for example one saved in `localStorage`). */
  lastEventId?: string | undefined;
  /**
   * `json` (strict), `text`, or a function of the raw data and the event name. `text` is for
   * plain-text servers: over SSE and poll the data lines as they are, over WebSocket a string
   * `data` member as it is (anything else as JSON text). @defaultValue 'json'
   */
  decode?: Decode | undefined;
  /** Sends that may wait (while not open, or behind a batch in flight); beyond it `send()` rejects with `QUEUE_FULL`. @defaultValue 1000 */
  maxQueue?: number | undefined;
  /** Connect at once; with `false`, call `connect()`. @defaultValue true */
  autoConnect?: boolean | undefined;
  /** WebSocket implementation (Node: `import WebSocket from 'ws'`). @defaultValue globalThis.WebSocket */
  WebSocket?: WebSocketConstructor | undefined;
  /** fetch implementation. @defaultValue globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** `true` logs to `console.debug`; a function receives every line. Tokens are never logged. @defaultValue false */
  debug?: boolean | DebugLogger | undefined;
}

/** Options with every default applied and every endpoint resolved. */
export interface ResolvedOptions {
  /** The transports that have an endpoint, in order of preference. */
  transports: TransportName[];
  endpoints: Record<TransportName, string> & { send: string | false };
  reconnect: Required<ReconnectOptions>;
  heartbeat: { interval: number; timeout: number; timeoutFromUser: boolean } | false;
  openTimeout: number;
  pollTimeout: number;
  token: Provider<string | null | undefined> | undefined;
  headers: Provider<Record<string, string>> | undefined;
  withCredentials: boolean;
  lastEventId: string | undefined;
  decode: Decode;
  maxQueue: number;
  autoConnect: boolean;
  WebSocket: WebSocketConstructor | undefined;
  fetch: FetchLike | undefined;
  debug: DebugLogger | undefined;
}

const TRANSPORTS: readonly TransportName[] = ['websocket', 'sse', 'poll'];

// The largest delay setTimeout honours; beyond it (Infinity included) browsers and Node fire at
// once. A timer option of Infinity means "never", so it is held at this (~24.8 days).
const MAX_TIMEOUT = 2_147_483_647;
const timer = (ms: number): number => Math.min(ms, MAX_TIMEOUT);

/** Throws `BAD_OPTIONS` "`name` must be expected" unless `ok`. */
function must(ok: unknown, name: string, expected: string): void {
  if (!ok) throw new SurewireError('BAD_OPTIONS', `\`${name}\` must be ${expected}`, { fatal: true });
}

/** A number > 0 (≥ `min` when given), or `fallback` when not given. */
function num(name: string, value: number | undefined, fallback: number, min?: number): number {
  if (value === undefined) return fallback;
  // Comparisons with NaN are false, so NaN fails both tests.
  must(typeof value == 'number' && (min === undefined ? value > 0 : value >= min), name, `a number ${min === undefined ? '> 0' : `>= ${min}`}`);
  return value;
}

const string = (name: string, value: unknown): void => must(value === undefined || typeof value == 'string', name, 'a string');
// `'false'` from an env file or JSON config is truthy: it would send cookies, or connect.
const boolean = (name: string, value: unknown): void => must(value === undefined || typeof value == 'boolean', name, 'true or false');

/** `{url}/{path}`, keeping the base URL's query string and fragment out of the path. */
export function joinEndpoint(base: string, path: string): string {
  // Trailing slashes, then the query (kept, after the path) and the fragment (dropped).
  return base.replace(/\/*(\?[^#]*)?(#[^]*)?$/, `/${path}$1`);
}

/**
 * Applies defaults and validates. Throws a `BAD_OPTIONS` {@link SurewireError} that names the
 * option and what it must be.
 */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  must(options && typeof options == 'object', 'options', 'an object');
  const { url, endpoints = {} } = options;
  string('url', url);
  // '' (an unset variable) would make every endpoint a path of the page, or of nothing outside one.
  must(url?.trim() !== '', 'url', 'a URL, not empty');
  must(endpoints && typeof endpoints == 'object', 'endpoints', 'an object');

  const order = options.transports ?? TRANSPORTS;
  // Array.from: every() skips the holes of a sparse array, which would pass as no transport at all.
  must(Array.isArray(order) && Array.from(order).every((name) => TRANSPORTS.includes(name)), 'transports', `a list of ${TRANSPORTS.join(', ')}`);
  const resolved = {} as Record<TransportName | 'send', string | false>;
  for (const name of [...TRANSPORTS, 'send'] as const) {
    const given = endpoints[name];
    // '' (an unset variable) would resolve to the page itself in a browser, and to nothing outside one.
    must(given === false || given === undefined || (typeof given == 'string' && given.trim()), `endpoints.${name}`, 'a URL or false');
    // Paths: {url}/ws, {url}/sse, {url}/poll, {url}/send.
    // `false` stays false (?? passes it through): the endpoint is disabled.
    const endpoint = (resolved[name] = given ?? (url !== undefined && joinEndpoint(url, name == 'websocket' ? 'ws' : name)));
    // A URL that no request can use would fail every attempt as a network error, for ever: another
    // scheme, or credentials (fetch refuses them). One that cannot be resolved here (relative,
    // outside a browser) is refused by connect(): a module that a server render shares with the
    // page may create its client on the server, and connect only in the browser.
    let parsed: URL | undefined;
    try {
      parsed = endpoint === false ? undefined : resolveUrl(endpoint);
    } catch {
      // connect() reports it
    }
    must(!parsed || (/^(http|ws)s?:$/.test(parsed.protocol) && !parsed.username && !parsed.password), given === undefined ? 'url' : `endpoints.${name}`, 'an http(s) or ws(s) URL without credentials');
  }
  const transports = [...new Set<TransportName>(order)].filter((name) => resolved[name] !== false);
  must(transports.length, 'transports', order.length ? 'given an endpoint by `url` or `endpoints`' : 'non-empty');

  const r = options.reconnect ?? {};
  const jitter = r.jitter ?? 'full';
  const jitters: Jitter[] = ['full', 'equal', 'decorrelated', 'none'];
  must(jitters.includes(jitter), 'reconnect.jitter', `one of ${jitters.join(', ')}`);
  // > 0: a base of 0 never grows (0 · factor^n), and a failing server would get a hot loop.
  const initialDelay = num('reconnect.initialDelay', r.initialDelay, 1000);
  const reconnect: Required<ReconnectOptions> = {
    initialDelay,
    maxDelay: Math.max(initialDelay, num('reconnect.maxDelay', r.maxDelay, 30000, 0)),
    factor: num('reconnect.factor', r.factor, 2, 1),
    jitter,
    maxAttempts: num('reconnect.maxAttempts', r.maxAttempts, Infinity, 0),
  };

  const hb = options.heartbeat;
  const heartbeat =
    hb === false
      ? false
      : {
          interval: timer(num('heartbeat.interval', hb?.interval, 15000)),
          timeout: timer(num('heartbeat.timeout', hb?.timeout, 35000)),
          timeoutFromUser: hb?.timeout !== undefined,
        };

  const { lastEventId, debug, withCredentials, autoConnect } = options;
  boolean('withCredentials', withCredentials);
  boolean('autoConnect', autoConnect);
  must(debug === undefined || typeof debug == 'boolean' || typeof debug == 'function', 'debug', 'true, false or a function');
  const decode = options.decode ?? 'json';
  must(decode == 'json' || decode == 'text' || typeof decode == 'function', 'decode', "'json', 'text' or a function");
  string('lastEventId', lastEventId);

  return {
    transports,
    endpoints: resolved as ResolvedOptions['endpoints'],
    reconnect,
    heartbeat,
    openTimeout: timer(num('openTimeout', options.openTimeout, 5000)),
    pollTimeout: num('pollTimeout', options.pollTimeout, 40000),
    token: options.token,
    headers: options.headers,
    withCredentials: withCredentials ?? false,
    // '' cannot be a cursor (an empty `id:` is no id): it would stop a hello's id from becoming one.
    lastEventId: lastEventId || undefined,
    decode,
    maxQueue: num('maxQueue', options.maxQueue, 1000, 0),
    autoConnect: autoConnect ?? true,
    WebSocket: options.WebSocket,
    fetch: options.fetch,
    debug: debug
      ? (message, details) => {
          // A logger that throws (a remote sink with a full buffer) must not stop the client mid-change.
          try {
            debug === true ? console.debug(`[surewire] ${message}`, details ?? '') : debug(message, details);
          } catch {
            // dropped: the log line is lost, the connection is not
          }
        }
      : undefined,
  };
}
