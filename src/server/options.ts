/**
 * Resolves {@link HubOptions} once, so that no other module repeats a default (STYLE: defaults
 * are resolved once, never `opts.x ?? DEFAULT.x` at each use site).
 */
import type { IncomingMessage } from 'node:http';
import type { HubMessage, HubMessageContext, HubOptions } from './types';

/** {@link HubOptions} with every default applied and every value checked. */
export interface ResolvedHubOptions {
  readonly history: number;
  /** `0` when heartbeats are off. */
  readonly heartbeat: number;
  /** How long a poll is really held: capped at `2 × heartbeat` when heartbeats are on. */
  readonly pollTimeout: number;
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  /** `null` allows every origin. */
  readonly allowOrigins: ReadonlySet<string> | null;
  readonly authenticate: ((req: IncomingMessage) => boolean | Promise<boolean>) | null;
  readonly onMessage: (msg: HubMessage, ctx: HubMessageContext) => void;
  readonly onError: (err: unknown) => void;
  /** Normalized: no trailing slash, `''` for the root; `null` when not given. */
  readonly path: string | null;
  readonly dedupeWindow: number;
  /** `0` when reaping is off. */
  readonly clientTimeout: number;
  /** The id before the first event: the first published id is `firstId + 1`. */
  readonly firstId: number;
}

/** The defaults, as documented on {@link HubOptions}. */
export const HUB_DEFAULTS = {
  history: 1000,
  heartbeat: 15_000,
  pollTimeout: 25_000,
  maxMessageBytes: 65_536,
  maxBufferedBytes: 4 * 1024 * 1024,
  dedupeWindow: 10_000,
} as const;

/**
 * Events and bytes per outgoing batch: one WebSocket frame, one SSE write, one poll answer. Big
 * enough to amortize per-frame costs, small enough that the first events of a burst are not held
 * back by the serialization of the rest.
 */
export const BATCH_MAX_EVENTS = 512;
/** See {@link BATCH_MAX_EVENTS}. */
export const BATCH_MAX_BYTES = 256 * 1024;

/**
 * Turns `'/rt/'`, `'rt'` and `'/rt'` into `'/rt'`, and `'/'` into `''`, so that routes are
 * always `path + '/sse'`.
 */
export function normalizePath(path: string): string {
  let p = path.trim();
  if (!p.startsWith('/')) p = `/${p}`;
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/**
 * The longest delay a Node timer takes: above it `setTimeout`/`setInterval` warn and fire after
 * 1 ms, which would turn a long poll into a spin and a heartbeat into a flood.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

function count(name: keyof typeof HUB_DEFAULTS | 'clientTimeout', value: unknown, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `≥ ${min}` : `≥ ${min} and ≤ ${max} (ms; Node fires longer timers after 1 ms)`;
    throw new TypeError(`createHub: \`${name}\` must be a finite number ${range}, got ${String(value)}. Omit it for the default (${fallback}).`);
  }
  return Math.floor(value);
}

/**
 * `firstId`, by default microseconds since the epoch: a restarted hub then numbers above every id
 * its predecessor issued unless that one published a sustained million events per second, and
 * decimal ids stay below 2^53 until the year 2255.
 */
function resolveFirstId(value: unknown): number {
  if (value === undefined) return Date.now() * 1000;
  // Headroom for 2^40 events: past 2^53 `newest + 1` stops changing and ids would repeat.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER - 2 ** 40) {
    throw new TypeError(`createHub: \`firstId\` must be an integer from 0 to 2^53 - 2^40 (the first event gets firstId + 1), got ${String(value)}. Omit it for the time-based default, which keeps a restarted hub's ids above its previous ones.`);
  }
  return value;
}

/** Checks and completes the user's options; throws a `TypeError` that says how to fix misuse. */
export function resolveHubOptions(options: HubOptions): ResolvedHubOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createHub: `options` must be an object, e.g. `createHub({ history: 1000 })`, or omitted.');
  }
  const heartbeat = options.heartbeat === false ? 0 : count('heartbeat', options.heartbeat, HUB_DEFAULTS.heartbeat, 0, MAX_TIMER_MS);
  let allowOrigins: ReadonlySet<string> | null = null;
  if (options.allowOrigins !== undefined && options.allowOrigins !== '*') {
    if (!Array.isArray(options.allowOrigins)) {
      throw new TypeError("createHub: `allowOrigins` must be '*' or an array of origins like ['https://app.example.com'].");
    }
    allowOrigins = new Set(
      options.allowOrigins.map((o) => {
        const origin = toOrigin(String(o));
        if (origin === null) {
          throw new TypeError(`createHub: \`allowOrigins\` entries must be origins like 'https://app.example.com', got ${JSON.stringify(o)}.`);
        }
        return origin;
      }),
    );
  }
  for (const fn of ['authenticate', 'onMessage', 'onError'] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw new TypeError(`createHub: \`${fn}\` must be a function, e.g. \`createHub({ ${fn}: (…) => … })\`.`);
    }
  }
  return {
    history: count('history', options.history, HUB_DEFAULTS.history, 0),
    heartbeat,
    // A held poll is silent, and the hello's heartbeat h tells clients to give up after 2h + 5000 ms
    // of silence (DESIGN §3 "Hello"): hold it no longer than 2h, so a quiet channel never looks dead.
    pollTimeout: Math.min(count('pollTimeout', options.pollTimeout, HUB_DEFAULTS.pollTimeout, 1, MAX_TIMER_MS), heartbeat > 0 ? 2 * heartbeat : Infinity),
    maxMessageBytes: count('maxMessageBytes', options.maxMessageBytes, HUB_DEFAULTS.maxMessageBytes, 1),
    maxBufferedBytes: count('maxBufferedBytes', options.maxBufferedBytes, HUB_DEFAULTS.maxBufferedBytes, 1),
    allowOrigins,
    authenticate: options.authenticate ?? null,
    onMessage: options.onMessage ?? (() => {}),
    onError: guardOnError(options.onError ?? ((err: unknown) => console.error('surewire/server:', err))),
    path: options.path === undefined ? null : normalizePath(options.path),
    dedupeWindow: count('dedupeWindow', options.dedupeWindow, HUB_DEFAULTS.dedupeWindow, 1),
    clientTimeout: heartbeat === 0 ? 0 : count('clientTimeout', options.clientTimeout, 2 * heartbeat + 5000, 0, MAX_TIMER_MS),
    firstId: resolveFirstId(options.firstId),
  };
}

/**
 * `onError` made safe to call from anywhere: it runs inside ws's 'message' listener, a request's
 * callbacks and promise handlers, where a throw of its own would crash the process or become an
 * unhandled rejection.
 */
function guardOnError(onError: (err: unknown) => void): (err: unknown) => void {
  return (err) => {
    try {
      onError(err);
    } catch {
      // onError itself failed: there is nobody left to tell.
    }
  };
}

/**
 * An origin as browsers serialize it (RFC 6454 §6.1): lowercase scheme and host, no default port,
 * no path; `null` when `value` is not an absolute URL with a host (the opaque origin `null` too).
 */
export function toOrigin(value: string): string | null {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
