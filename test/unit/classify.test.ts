/** DESIGN §4, row by row, through the pure `classify`. */
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/classify';
import type { Failure } from '../../src/transports/transport';

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const both = [false, true] as const;

describe('classify (DESIGN §4)', () => {
  it('network error: next transport before open, retry after', () => {
    const cause = new Error('ECONNREFUSED');
    const before = classify({ kind: 'network', cause }, false, now);
    expect(before).toMatchObject({ verdict: 'next', error: { code: 'NETWORK', fatal: false, cause } });
    expect(before.notOffered).toBeFalsy();
    expect(classify({ kind: 'network' }, true, now)).toMatchObject({ verdict: 'retry', error: { code: 'NETWORK', fatal: false } });
  });

  it('no open within openTimeout: next transport', () => {
    expect(classify({ kind: 'timeout' }, false, now)).toMatchObject({ verdict: 'next', error: { code: 'OPEN_TIMEOUT' } });
    expect(classify({ kind: 'timeout' }, false, now).notOffered).toBeFalsy();
  });

  it('opened but died before a byte: the client passes opened=false, so it is "next"', () => {
    expect(classify({ kind: 'ended' }, false, now).verdict).toBe('next');
    expect(classify({ kind: 'close', code: 1006, reason: '' }, false, now).verdict).toBe('retry'); // close codes rule on their own
    expect(classify({ kind: 'ended' }, true, now)).toMatchObject({ verdict: 'retry', error: { code: 'STREAM_ENDED' } });
  });

  it('2xx with a wrong content type: next transport, not offered', () => {
    const c = classify({ kind: 'content-type', contentType: 'text/html' }, false, now);
    expect(c).toMatchObject({ verdict: 'next', notOffered: true, error: { code: 'BAD_CONTENT_TYPE', fatal: false } });
    expect(c.error.message).toContain('text/html');
  });

  it.each([404, 405, 501])('HTTP %i: next transport, not offered', (status) => {
    for (const opened of both) {
      expect(classify({ kind: 'http', status }, opened, now)).toMatchObject({ verdict: 'next', notOffered: true, error: { code: 'NOT_OFFERED', status, fatal: false } });
    }
  });

  it('HTTP 204: stop, no error is fatal', () => {
    for (const opened of both) {
      const c = classify({ kind: 'no-content' }, opened, now);
      expect(c.verdict).toBe('stop');
      expect(c.error.fatal).toBe(false);
    }
  });

  it('HTTP 401 and WS close 4401: reauth', () => {
    for (const opened of both) {
      expect(classify({ kind: 'http', status: 401 }, opened, now)).toMatchObject({ verdict: 'reauth', error: { code: 'UNAUTHORIZED', status: 401 } });
      expect(classify({ kind: 'close', code: 4401, reason: 'token expired' }, opened, now)).toMatchObject({ verdict: 'reauth', error: { code: 'UNAUTHORIZED', closeCode: 4401 } });
    }
  });

  it.each([400, 402, 403, 406, 409, 410, 413, 415, 418, 422, 451])('HTTP %i: fatal', (status) => {
    for (const opened of both) {
      const c = classify({ kind: 'http', status, retryAfter: '5' }, opened, now);
      expect(c.verdict).toBe('fatal');
      expect(c.error).toMatchObject({ fatal: true, status, code: status === 403 ? 'FORBIDDEN' : 'HTTP_STATUS' });
      expect(c.retryAfter).toBeUndefined();
    }
  });

  it.each([1008, 4400, 4403, 4404, 4499])('WS close %i: fatal', (code) => {
    for (const opened of both) {
      const c = classify({ kind: 'close', code, reason: 'go away' }, opened, now);
      expect(c.verdict).toBe('fatal');
      expect(c.error).toMatchObject({ fatal: true, closeCode: code });
      expect(c.error.message).toContain('go away');
    }
  });

  it.each([408, 429, 500, 502, 503, 504, 599])('HTTP %i: back off, Retry-After as a floor', (status) => {
    for (const opened of both) {
      expect(classify({ kind: 'http', status }, opened, now)).toMatchObject({ verdict: 'retry', error: { code: 'HTTP_STATUS', status, fatal: false } });
      expect(classify({ kind: 'http', status }, opened, now).retryAfter).toBeUndefined();
      expect(classify({ kind: 'http', status, retryAfter: '12' }, opened, now).retryAfter).toBe(12_000);
      expect(classify({ kind: 'http', status, retryAfter: 'Thu, 01 Jan 2026 12:01:00 GMT' }, opened, now).retryAfter).toBe(60_000);
      expect(classify({ kind: 'http', status, retryAfter: 'later please' }, opened, now).retryAfter).toBeUndefined();
    }
  });

  it.each([1000, 1001, 1006, 1009, 1011, 1012, 1013, 4000, 4001, 4399, 4500, 4999])('WS close %i: back off', (code) => {
    for (const opened of both) {
      expect(classify({ kind: 'close', code, reason: '' }, opened, now)).toMatchObject({ verdict: 'retry', error: { code: 'WS_CLOSE', closeCode: code, fatal: false } });
    }
  });

  it('heartbeat timeout: retry', () => {
    expect(classify({ kind: 'dead' }, true, now)).toMatchObject({ verdict: 'retry', error: { code: 'HEARTBEAT_TIMEOUT', fatal: false } });
  });

  it('covers every failure kind (a new kind must be classified)', () => {
    const kinds: Failure[] = [
      { kind: 'network' },
      { kind: 'timeout' },
      { kind: 'http', status: 500 },
      { kind: 'no-content' },
      { kind: 'content-type', contentType: null },
      { kind: 'close', code: 1006, reason: '' },
      { kind: 'ended' },
      { kind: 'dead' },
    ];
    for (const failure of kinds) {
      const c = classify(failure, true, now);
      expect(['next', 'retry', 'reauth', 'fatal', 'stop']).toContain(c.verdict);
      expect(c.error.name).toBe('SurewireError');
      expect(c.error.fatal).toBe(c.verdict === 'fatal');
    }
  });
});
