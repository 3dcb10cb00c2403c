/**
 * DESIGN §4 as one pure function: what a transport's {@link Failure} means for the client.
 * The client acts on the verdict; nothing else in the codebase decides retry versus give up.
 */
import { parseRetryAfter } from './backoff';
import { SurewireError, type SurewireErrorCode } from './errors';
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
  const result = (verdict: Verdict, code: SurewireErrorCode, message: string, extra: { status?: number; closeCode?: number; cause?: unknown } = {}): Classification => ({
    verdict,
    error: new SurewireError(code, message, { ...extra, fatal: verdict === 'fatal' }),
  });
  const lost = opened ? 'retry' : 'next';
  switch (failure.kind) {
    case 'network':
      return result(lost, 'NETWORK', opened ? 'Connection lost.' : 'Could not connect.', { cause: failure.cause });
    case 'timeout':
      return result(lost, 'OPEN_TIMEOUT', 'Not open within openTimeout.');
    case 'ended':
      return result(lost, 'STREAM_ENDED', 'The server ended the stream.');
    case 'dead':
      return result('retry', 'HEARTBEAT_TIMEOUT', 'Nothing arrived within heartbeat.timeout.');
    case 'no-content':
      return result('stop', 'HTTP_STATUS', 'HTTP 204: stop.', { status: 204 });
    case 'content-type':
      return { ...result('next', 'BAD_CONTENT_TYPE', `Not text/event-stream: ${failure.contentType}.`), notOffered: true };
    case 'http': {
      const { status } = failure;
      const extra = { status };
      const message = `HTTP ${status}.`;
      if (status === 404 || status === 405 || status === 501) return { ...result('next', 'NOT_OFFERED', message, extra), notOffered: true };
      if (status === 401) return result('reauth', 'UNAUTHORIZED', message, extra);
      if (status === 408 || status === 429 || status >= 500 || status < 400) {
        return { ...result('retry', 'HTTP_STATUS', message, extra), retryAfter: parseRetryAfter(failure.retryAfter, now) };
      }
      return result('fatal', status === 403 ? 'FORBIDDEN' : 'HTTP_STATUS', message, extra);
    }
    case 'close': {
      const { code } = failure;
      const extra = { closeCode: code };
      const message = `WebSocket closed ${code}${failure.reason ? ` (${failure.reason})` : ''}.`;
      if (code === 4401) return result('reauth', 'UNAUTHORIZED', message, extra);
      if (code === 1008 || code === 4403) return result('fatal', 'FORBIDDEN', message, extra);
      if (code >= 4400 && code <= 4499) return result('fatal', 'WS_CLOSE', message, extra);
      // 1000 not asked by us, 1001, 1006, 1009, 1011–1013, other 4xxx — and, beyond the table,
      // every other code: the connection survives whatever it can survive.
      return result('retry', 'WS_CLOSE', message, extra);
    }
  }
}
