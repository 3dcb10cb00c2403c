/**
 * Every code a {@link SurewireError} can carry. Compare `err.code` against these, never the
 * message text.
 */
export const ErrorCodes = [
  /** A network error, refused connection or reset (also any WebSocket failure before open). */
  'NETWORK',
  /** No open within `openTimeout`. */
  'OPEN_TIMEOUT',
  /** An HTTP status with no more specific code (408, 429, 5xx, or an unnamed 4xx); see `status`. */
  'HTTP_STATUS',
  /** HTTP 401 or WebSocket close 4401; fatal when a refreshed token is refused again. */
  'UNAUTHORIZED',
  /** HTTP 403 or WebSocket close 1008: the server refuses this client for good. */
  'FORBIDDEN',
  /** A 2xx answer whose content type is not `text/event-stream`. */
  'BAD_CONTENT_TYPE',
  /** HTTP 404, 405 or 501: the transport is not offered at that endpoint. */
  'NOT_OFFERED',
  /** Every transport answered "not offered here" in one round: nothing can work. */
  'NO_TRANSPORT',
  /** The WebSocket closed with a code that is not more specifically named; see `closeCode`. */
  'WS_CLOSE',
  /** The server ended an SSE stream or a poll answered with no usable body. */
  'STREAM_ENDED',
  /** Nothing arrived for `heartbeat.timeout`: the connection was declared dead. */
  'HEARTBEAT_TIMEOUT',
  /** An inbound payload could not be decoded; see `raw`. The event was skipped. */
  'BAD_MESSAGE',
  /** A handler registered with `on`, `onMessage` or `onStatus` threw; see `cause`. */
  'HANDLER_ERROR',
  /** `send()` while not open with `maxQueue` sends already waiting. */
  'QUEUE_FULL',
  /** The client was closed while the send was waiting. */
  'CLOSED',
  /** The server refused a send with a 4xx other than 408 or 429; see `status`. */
  'SEND_REJECTED',
  /** A send failed in a way that will be retried (network, 408, 429, 5xx). */
  'SEND_FAILED',
  /** `reconnect.maxAttempts` attempts failed in a row. */
  'MAX_ATTEMPTS',
  /** The `token` or `headers` function threw or rejected. */
  'TOKEN_FAILED',
  /** `createClient` or a method was called with options or arguments it cannot use. */
  'BAD_OPTIONS',
] as const;

/** One of {@link ErrorCodes}. */
export type SurewireErrorCode = (typeof ErrorCodes)[number];

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
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, enumerable: false, writable: true, configurable: true });
    if (init.status !== undefined) this.status = init.status;
    if (init.closeCode !== undefined) this.closeCode = init.closeCode;
    if (init.raw !== undefined) this.raw = init.raw;
  }
}

/** True for a {@link SurewireError}, including one made in another realm. */
export function isSurewireError(value: unknown): value is SurewireError {
  return value instanceof SurewireError || (typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'SurewireError' && typeof (value as { code?: unknown }).code === 'string');
}
