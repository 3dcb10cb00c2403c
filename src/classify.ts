/**
 * DESIGN §4 as one pure function: what a transport's {@link Failure} means for the client.
 * The client acts on the verdict; nothing else in the codebase decides retry versus give up.
 */
import { parseRetryAfter } from './backoff';
import { SurewireError } from './errors';
import type { Failure } from './transports/transport';

/**
 * - `next`: try the next transport now (this one cannot work here, or never opened).
 * - `retry`: back off, then try the same transport first.
 * - `reauth`: call `token` again and retry at once (a second one before an open is fatal).
 * - `fatal`: give up with an error.
 * - `stop`: give up quietly (HTTP 204).
 */
export type Verdict = 'next' | 'retry' | 'reauth' | 'fatal' | 'stop';

/** The outcome of {@link classify}. */
export interface Classification {
  verdict: Verdict;
  /** What to report; `fatal` is set when the verdict is `fatal`. */
  error: SurewireError;
  /** 404/405/501 or a wrong content type: the transport is not offered at this endpoint. */
  notOffered?: boolean;
  /** A server-given floor for the next delay, in ms (`Retry-After`). */
  retryAfter?: number;
}

/**
 * Classifies how a connection ended.
 * @param opened - whether the transport had opened and received at least one byte. A transport
 *   that opened but died before its first byte counts as not opened (a buffering proxy).
 * @param now - for `Retry-After` dates.
 */
export function classify(failure: Failure, opened: boolean, now: number = Date.now()): Classification {
  switch (failure.kind) {
    case 'network':
      return {
        verdict: opened ? 'retry' : 'next',
        error: new SurewireError('NETWORK', opened ? 'The connection was lost.' : 'Could not connect (network error, refused or reset).', { cause: failure.cause }),
      };
    case 'timeout':
      return { verdict: opened ? 'retry' : 'next', error: new SurewireError('OPEN_TIMEOUT', 'The transport did not open within openTimeout.') };
    case 'no-content':
      return { verdict: 'stop', error: new SurewireError('HTTP_STATUS', 'The server answered 204: stop reconnecting.', { status: 204 }) };
    case 'content-type':
      return {
        verdict: 'next',
        notOffered: true,
        error: new SurewireError('BAD_CONTENT_TYPE', `Expected text/event-stream, got ${failure.contentType ?? 'no content type'}.`),
      };
    case 'ended':
      return { verdict: opened ? 'retry' : 'next', error: new SurewireError('STREAM_ENDED', 'The server ended the stream.') };
    case 'dead':
      return { verdict: 'retry', error: new SurewireError('HEARTBEAT_TIMEOUT', 'Nothing arrived within heartbeat.timeout: the connection is dead.') };
    case 'http':
      return classifyStatus(failure.status, failure.retryAfter, now);
    case 'close':
      return classifyClose(failure.code, failure.reason);
  }
}

function classifyStatus(status: number, retryAfterHeader: string | null | undefined, now: number): Classification {
  if (status === 404 || status === 405 || status === 501) {
    return { verdict: 'next', notOffered: true, error: new SurewireError('NOT_OFFERED', `HTTP ${status}: the transport is not offered at this endpoint.`, { status }) };
  }
  if (status === 401) {
    return { verdict: 'reauth', error: new SurewireError('UNAUTHORIZED', 'HTTP 401: the server refused the credentials.', { status }) };
  }
  if (status === 408 || status === 429 || status >= 500 || status < 400) {
    const retryAfter = parseRetryAfter(retryAfterHeader, now);
    const error = new SurewireError('HTTP_STATUS', `HTTP ${status}: will retry.`, { status });
    return retryAfter === undefined ? { verdict: 'retry', error } : { verdict: 'retry', error, retryAfter };
  }
  const code = status === 403 ? 'FORBIDDEN' : 'HTTP_STATUS';
  return { verdict: 'fatal', error: new SurewireError(code, `HTTP ${status}: the server refused the connection for good.`, { status, fatal: true }) };
}

function classifyClose(code: number, reason: string): Classification {
  const why = reason ? ` (${reason})` : '';
  if (code === 4401) {
    return { verdict: 'reauth', error: new SurewireError('UNAUTHORIZED', `WebSocket closed 4401${why}: the server refused the credentials.`, { closeCode: code }) };
  }
  if (code === 1008 || (code >= 4400 && code <= 4499)) {
    const errorCode = code === 1008 || code === 4403 ? 'FORBIDDEN' : 'WS_CLOSE';
    return { verdict: 'fatal', error: new SurewireError(errorCode, `WebSocket closed ${code}${why}: the server refused this client for good.`, { closeCode: code, fatal: true }) };
  }
  // 1000 not asked by us, 1001, 1006, 1009, 1011–1013, other 4xxx — and, beyond the table,
  // every other code: the connection survives whatever it can survive.
  return { verdict: 'retry', error: new SurewireError('WS_CLOSE', `WebSocket closed ${code}${why}.`, { closeCode: code }) };
}
