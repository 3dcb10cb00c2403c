/**
 * Every code a {@link SurewireError} can carry. Compare `err.code` against these, never the
 * message text.
 * - `NETWORK`: A network error, refused connection or reset (also any WebSocket failure before open).
 * - `OPEN_TIMEOUT`: No open within `openTimeout`.
 * - `HTTP_STATUS`: An HTTP status with no more specific code (408, 429, 5xx, or an unnamed 4xx); see `status`.
 * - `UNAUTHORIZED`: HTTP 401 or WebSocket close 4401; fatal when a refreshed token is refused again.
 * - `FORBIDDEN`: HTTP 403 or WebSocket close 1008: the server refuses this client for good.
 * - `BAD_CONTENT_TYPE`: A 2xx answer whose content type is not `text/event-stream`.
 * - `NOT_OFFERED`: HTTP 404, 405 or 501: the transport is not offered at that endpoint.
 * - `NO_TRANSPORT`: Every transport answered "not offered here" in one round: nothing can work.
 * - `WS_CLOSE`: The WebSocket closed with a code that is not more specifically named; see `closeCode`.
 * - `STREAM_ENDED`: The server ended an SSE stream, or answered two polls in a row at once with no event (a poll must be held until there is one).
 * - `HEARTBEAT_TIMEOUT`: Nothing arrived for `heartbeat.timeout`: the connection was declared dead.
 * - `BAD_MESSAGE`: An inbound payload could not be decoded; see `raw`. The event was skipped.
 * - `HANDLER_ERROR`: A handler registered with `on`, `onMessage` or `onStatus` threw; see `cause`.
 * - `QUEUE_FULL`: `send()` while not open with `maxQueue` sends already waiting.
 * - `CLOSED`: The client was closed while the send was waiting.
 * - `SEND_REJECTED`: The server refused a send with a 4xx other than 408 or 429; see `status`.
 * - `SEND_FAILED`: A send failed in a way that will be retried (network, 408, 429, 5xx).
 * - `MAX_ATTEMPTS`: `reconnect.maxAttempts` attempts failed in a row.
 * - `TOKEN_FAILED`: The `token` or `headers` function threw or rejected.
 * - `BAD_OPTIONS`: `createClient` or a method was called with options or arguments it cannot use.
 */
export type SurewireErrorCode =
  | 'NETWORK'
  | 'OPEN_TIMEOUT'
  | 'HTTP_STATUS'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'BAD_CONTENT_TYPE'
  | 'NOT_OFFERED'
  | 'NO_TRANSPORT'
  | 'WS_CLOSE'
  | 'STREAM_ENDED'
  | 'HEARTBEAT_TIMEOUT'
  | 'BAD_MESSAGE'
  | 'HANDLER_ERROR'
  | 'QUEUE_FULL'
  | 'CLOSED'
  | 'SEND_REJECTED'
  | 'SEND_FAILED'
  | 'MAX_ATTEMPTS'
  | 'TOKEN_FAILED'
  | 'BAD_OPTIONS';

/** Extra facts an error may carry, depending on where it came from. */
export interface SurewireErrorInit {
  /** True when the client gave up: state is `closed` and nothing will be retried. */
  fatal?: boolean;
  /** The underlying error, when there is one. */
  cause?: unknown;
  /** HTTP status of the answer that caused it. */
  status?: number;
  /** WebSocket close code that caused it. */
  closeCode?: number;
  /** The undecodable payload, for `BAD_MESSAGE`. */
  raw?: string;
}

/**
 * The one error type surewire reports, through `onError`, `status.error` and rejected promises.
 * Guard with {@link isSurewireError}, which also works across realms (iframes, test VMs).
 */
export class SurewireError extends Error {
  override readonly name = 'SurewireError' as const;
  readonly code: SurewireErrorCode;
  readonly fatal: boolean;
  readonly status?: number;
  readonly closeCode?: number;
  readonly raw?: string;
  declare readonly cause?: unknown;

  constructor(code: SurewireErrorCode, message: string, init: SurewireErrorInit = {}) {
    super(message);
    this.code = code;
    this.fatal = init.fatal ?? false;
    // Like the standard `cause`: own, writable, configurable and (by default) not enumerable.
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, writable: true, configurable: true });
    // Only the facts this error has become own properties.
    for (const key of ['status', 'closeCode', 'raw'] as const) if (init[key] !== undefined) (this as SurewireErrorInit)[key] = init[key] as never;
  }
}

/** True for a {@link SurewireError}, including one made in another realm. */
export function isSurewireError(value: unknown): value is SurewireError {
  return value instanceof SurewireError || (typeof value == 'object' && (value as SurewireError | null)?.name == 'SurewireError' && typeof (value as SurewireError).code == 'string');
}
