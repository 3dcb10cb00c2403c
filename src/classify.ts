/**
 * DESIGN §4 as one pure function: what a transport's {@link Failure} means for the client.
 * The client acts on the verdict; nothing else in the codebase decides retry versus give up.
 */
import { parseRetryAfter } from './backoff';
import { SurewireError, type SurewireErrorCode, type SurewireErrorInit } from './errors';
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
  const result = (verdict: Verdict, code: SurewireErrorCode, message: string, init?: SurewireErrorInit, more?: Partial<Classification>): Classification => ({
    verdict,
    error: new SurewireError(code, message, { ...init, fatal: verdict == 'fatal' }),
    ...more,
  });
  const lost = opened ? 'retry' : 'next';
  switch (failure.kind) {
    case 'network':
      return result(lost, 'NETWORK', 'network error', { cause: failure.cause });
    case 'timeout':
      return result(lost, 'OPEN_TIMEOUT', 'openTimeout');
    case 'ended':
      return result(lost, 'STREAM_ENDED', 'stream ended');
    case 'dead':
      return result('retry', 'HEARTBEAT_TIMEOUT', 'heartbeat.timeout');
    case 'no-content':
      return result('stop', 'HTTP_STATUS', 'HTTP 204', { status: 204 });
    case 'content-type':
      return result('next', 'BAD_CONTENT_TYPE', `content-type ${failure.contentType}`, {}, { notOffered: true });
    case 'http': {
      const { status } = failure;
      const http = (verdict: Verdict, code: SurewireErrorCode, more?: Partial<Classification>): Classification => result(verdict, code, `HTTP ${status}`, { status }, more);
      if (status == 404 || status == 405 || status == 501) return http('next', 'NOT_OFFERED', { notOffered: true });
      if (status == 401) return http('reauth', 'UNAUTHORIZED');
      if (status == 408 || status == 429 || status >= 500 || status < 400) return http('retry', 'HTTP_STATUS', { retryAfter: parseRetryAfter(failure.retryAfter, now) });
      return http('fatal', status == 403 ? 'FORBIDDEN' : 'HTTP_STATUS');
    }
    case 'close': {
      const { code } = failure;
      const close = (verdict: Verdict, error: SurewireErrorCode): Classification => result(verdict, error, `closed ${code}${failure.reason ? ` (${failure.reason})` : ''}`, { closeCode: code });
      if (code == 4401) return close('reauth', 'UNAUTHORIZED');
      if (code == 1008 || code == 4403) return close('fatal', 'FORBIDDEN');
      // 4400–4499 are fatal. 1000 not asked by us, 1001, 1006, 1009, 1011–1013, other 4xxx —
      // and, beyond the table, every other code: the connection survives whatever it can survive.
      return close(code >= 4400 && code <= 4499 ? 'fatal' : 'retry', 'WS_CLOSE');
    }
  }
}
