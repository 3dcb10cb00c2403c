/**
 * Client options: the one place where defaults live. Resolved once by {@link resolveOptions};
 * no other module reads a raw option or a default.
 */
import type { Jitter } from './backoff';
import { SurewireError } from './errors';
import type { FetchLike, TransportName, WebSocketConstructor } from './types';

/** A value, or a function (possibly async) that returns it, called before every attempt. */
export type Provider<T> = T | (() => T | Promise<T>);

/** Reconnect timing. Delay for attempt n: `random(0, min(maxDelay, initialDelay · factor^n))`. */
export interface ReconnectOptions {
  /** Base delay in ms; an SSE `retry:` field replaces it. @defaultValue 1000 */
  initialDelay?: number;
  /** Ceiling of the exponential part in ms (`Retry-After` may exceed it). @defaultValue 30000 */
  maxDelay?: number;
  /** Growth per attempt. @defaultValue 2 */
  factor?: number;
  /** `full`, `equal`, `decorrelated` or `none`. @defaultValue 'full' */
  jitter?: Jitter;
  /** Failed attempts in a row before giving up with `MAX_ATTEMPTS`. @defaultValue Infinity */
  maxAttempts?: number;
}

/** Dead-connection detection. */
export interface HeartbeatOptions {
  /** ms between the client's WebSocket pings (which also measure `rtt`). @defaultValue 15000 */
  interval?: number;
  /**
   * ms without any inbound byte after which the connection is declared dead. When unset, a
   * server hello announcing heartbeat h sets it to `2h + 5000`. @defaultValue 35000
   */
  timeout?: number;
}

/** Per-transport endpoint URLs; each overrides `{url}/ws|sse|poll|send`, `false` disables it. */
export interface EndpointOptions {
  websocket?: string | false;
  sse?: string | false;
  poll?: string | false;
  send?: string | false;
}

/** How event data is turned into the value handlers receive. */
export type Decode = 'json' | 'text' | ((raw: string, event: string) => unknown);

/** A logger for the `debug` option. It never receives tokens. */
export type DebugLogger = (message: string, details?: Record<string, unknown>) => void;

/** Everything `createClient` accepts. Only `url` (or `endpoints`) is required. */
export interface ClientOptions {
  /** Base URL: WebSocket at `{url}/ws`, SSE at `{url}/sse`, poll at `{url}/poll`, sends at `{url}/send`. May be relative in a browser, and may carry a query string, which every endpoint keeps. */
  url?: string;
  /** Overrides or disables individual endpoints. */
  endpoints?: EndpointOptions;
  /** Transports in order of preference. @defaultValue ['websocket', 'sse', 'poll'] */
  transports?: readonly TransportName[];
  reconnect?: ReconnectOptions;
  /** Heartbeat settings, or `false` to never declare a connection dead. */
  heartbeat?: HeartbeatOptions | false;
  /** ms a transport attempt may take to open before the next transport is tried. @defaultValue 5000 */
  openTimeout?: number;
  /** ms one HTTP request (a long-poll, or a send) may take before it counts as a network failure (a send is then retried with the same `mid`). @defaultValue 40000 */
  pollTimeout?: number;
  /** Bearer token, or a function called before every attempt (and again after a 401). */
  token?: Provider<string | null | undefined>;
  /** Extra headers for HTTP transports and sends, or a function called before every attempt. */
  headers?: Provider<Record<string, string>>;
  /** Send cookies with HTTP requests (`credentials: 'include'`). @defaultValue false */
  withCredentials?: boolean;
  /** Resume after this id (for example one saved in `localStorage`). */
  lastEventId?: string;
  /** `json` (strict), `text`, or a function of the raw data and the event name. @defaultValue 'json' */
  decode?: Decode;
  /** Sends held while not open; beyond it `send()` rejects with `QUEUE_FULL`. @defaultValue 1000 */
  maxQueue?: number;
  /** Connect at once; with `false`, call `connect()`. @defaultValue true */
  autoConnect?: boolean;
  /** WebSocket implementation (Node: `import WebSocket from 'ws'`). @defaultValue globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** fetch implementation. @defaultValue globalThis.fetch */
  fetch?: FetchLike;
  /** `true` logs to `console.debug`; a function receives every line. Tokens are never logged. @defaultValue false */
  debug?: boolean | DebugLogger;
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
const PATHS = { websocket: 'ws', sse: 'sse', poll: 'poll', send: 'send' } as const;

// The largest delay setTimeout honours; beyond it (Infinity included) browsers and Node fire at
// once. A timer option of Infinity means "never", so it is held at this (~24.8 days).
const MAX_TIMEOUT = 2_147_483_647;
const timer = (ms: number): number => Math.min(ms, MAX_TIMEOUT);

const bad = (message: string): SurewireError => new SurewireError('BAD_OPTIONS', message, { fatal: true });

/** `{url}/{path}`, keeping the base URL's query string and fragment out of the path. */
export function joinEndpoint(base: string, path: string): string {
  const cut = base.search(/[?#]/);
  const head = cut < 0 ? base : base.slice(0, cut);
  const tail = cut < 0 ? '' : base.slice(cut).replace(/#.*$/, '');
  return `${head.replace(/\/+$/, '')}/${path}${tail}`;
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw bad(`\`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${String(value)}.`);
  }
  return value;
}

/**
 * Applies defaults and validates. Throws a `BAD_OPTIONS` {@link SurewireError} that says what
 * to change.
 */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw bad('createClient needs an options object. Did you mean `createClient({ url: "https://example.com/rt" })`?');
  }
  const { url, endpoints = {} } = options;
  if (url !== undefined && typeof url !== 'string') throw bad('`url` must be a string such as "https://example.com/rt".');

  const order = options.transports ?? TRANSPORTS;
  if (!Array.isArray(order) || order.some((name) => !TRANSPORTS.includes(name))) {
    throw bad(`\`transports\` must be a list of ${TRANSPORTS.map((t) => `'${t}'`).join(', ')}, got ${JSON.stringify(order)}.`);
  }
  const resolved = {} as Record<TransportName | 'send', string | false>;
  for (const name of [...TRANSPORTS, 'send'] as const) {
    const given = endpoints[name];
    resolved[name] = given === false ? false : (given ?? (url === undefined ? false : joinEndpoint(url, PATHS[name])));
  }
  const transports = [...new Set<TransportName>(order)].filter((name) => resolved[name] !== false);
  if (transports.length === 0 && order.length === 0) {
    throw bad(`\`transports\` is empty: leave it out for ['websocket', 'sse', 'poll'], or list at least one of them.`);
  }
  if (transports.length === 0 && url !== undefined) {
    throw bad(`Every transport in \`transports\` (${order.join(', ')}) is disabled in \`endpoints\`: drop a \`false\` (e.g. \`endpoints.websocket\`) or list another transport.`);
  }
  if (transports.length === 0) {
    throw bad('No transport has an endpoint: give `url` (e.g. "https://example.com/rt") or `endpoints.websocket` / `endpoints.sse` / `endpoints.poll`.');
  }

  const r = options.reconnect ?? {};
  const jitter = r.jitter ?? 'full';
  if (!['full', 'equal', 'decorrelated', 'none'].includes(jitter)) throw bad("`reconnect.jitter` must be 'full', 'equal', 'decorrelated' or 'none'.");
  // 0 would switch backoff off: 0 · factor^n never grows, and a failing server gets a hot loop.
  if (r.initialDelay === 0) throw bad('`reconnect.initialDelay` must be more than 0 ms: a base of 0 never grows, so every retry would come at once. For fast first retries use a small base, e.g. 100.');
  const initialDelay = positive('reconnect.initialDelay', r.initialDelay, 1000);
  const reconnect: Required<ReconnectOptions> = {
    initialDelay,
    maxDelay: Math.max(initialDelay, positive('reconnect.maxDelay', r.maxDelay, 30000, true)),
    factor: r.factor ?? 2,
    jitter,
    maxAttempts: r.maxAttempts ?? Infinity,
  };
  if (!(reconnect.factor >= 1)) throw bad('`reconnect.factor` must be at least 1.');
  if (!(reconnect.maxAttempts >= 0)) throw bad('`reconnect.maxAttempts` must be 0 or more (Infinity to never give up).');

  const hb = options.heartbeat;
  const heartbeat =
    hb === false
      ? false
      : {
          interval: timer(positive('heartbeat.interval', hb?.interval, 15000)),
          timeout: timer(positive('heartbeat.timeout', hb?.timeout, 35000)),
          timeoutFromUser: hb?.timeout !== undefined,
        };

  const decode = options.decode ?? 'json';
  if (decode !== 'json' && decode !== 'text' && typeof decode !== 'function') throw bad("`decode` must be 'json', 'text' or a function (raw, event) => data.");
  if (options.lastEventId !== undefined && typeof options.lastEventId !== 'string') throw bad('`lastEventId` must be a string (event ids are opaque strings).');

  const debug = options.debug;
  return {
    transports,
    endpoints: resolved as ResolvedOptions['endpoints'],
    reconnect,
    heartbeat,
    openTimeout: timer(positive('openTimeout', options.openTimeout, 5000)),
    pollTimeout: positive('pollTimeout', options.pollTimeout, 40000),
    token: options.token,
    headers: options.headers,
    withCredentials: options.withCredentials ?? false,
    lastEventId: options.lastEventId,
    decode,
    maxQueue: positive('maxQueue', options.maxQueue, 1000, true),
    autoConnect: options.autoConnect ?? true,
    WebSocket: options.WebSocket,
    fetch: options.fetch,
    debug: debug === true ? (message, details) => console.debug(`[surewire] ${message}`, details ?? '') : typeof debug === 'function' ? debug : undefined,
  };
}
