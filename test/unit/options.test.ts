import { describe, expect, it } from 'vitest';
import { joinEndpoint, resolveOptions, type ClientOptions } from '../../src/options';
import { isSurewireError } from '../../src/errors';

function badOptions(options: unknown): { code: string; fatal: boolean; message: string } {
  try {
    resolveOptions(options as ClientOptions);
  } catch (error) {
    expect(isSurewireError(error)).toBe(true);
    return error as { code: string; fatal: boolean; message: string };
  }
  throw new Error('resolveOptions accepted ' + JSON.stringify(options));
}

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({ url: 'https://example.com/rt' });
    expect(o.transports).toEqual(['websocket', 'sse', 'poll']);
    expect(o.endpoints).toEqual({
      websocket: 'https://example.com/rt/ws',
      sse: 'https://example.com/rt/sse',
      poll: 'https://example.com/rt/poll',
      send: 'https://example.com/rt/send',
    });
    expect(o.reconnect).toEqual({ initialDelay: 1000, maxDelay: 30000, factor: 2, jitter: 'full', maxAttempts: Infinity });
    expect(o.heartbeat).toEqual({ interval: 15000, timeout: 35000, timeoutFromUser: false });
    expect(o).toMatchObject({ openTimeout: 5000, maxQueue: 1000, autoConnect: true, decode: 'json', withCredentials: false });
    expect(o.debug).toBeUndefined();
  });

  it('endpoints override or disable single transports, and disabled ones leave the order', () => {
    const o = resolveOptions({ url: 'https://x/rt', endpoints: { websocket: false, poll: 'https://other/p' }, transports: ['poll', 'websocket', 'sse'] });
    expect(o.transports).toEqual(['poll', 'sse']);
    expect(o.endpoints.poll).toBe('https://other/p');
    expect(o.endpoints.sse).toBe('https://x/rt/sse');
    const only = resolveOptions({ endpoints: { sse: 'https://a/s' } });
    expect(only.transports).toEqual(['sse']);
    expect(only.endpoints.send).toBe(false);
    expect(resolveOptions({ url: 'https://x', transports: ['sse', 'sse'] }).transports).toEqual(['sse']);
  });

  it('heartbeat: false and a user timeout are kept apart from the hello-derived one', () => {
    expect(resolveOptions({ url: 'https://x', heartbeat: false }).heartbeat).toBe(false);
    expect(resolveOptions({ url: 'https://x', heartbeat: { timeout: 9000 } }).heartbeat).toEqual({ interval: 15000, timeout: 9000, timeoutFromUser: true });
  });

  it('debug: true logs through console.debug, a function gets every line, and neither may throw out', () => {
    const lines: string[] = [];
    resolveOptions({ url: 'https://x', debug: (line) => lines.push(line) }).debug!('one', { a: 1 });
    expect(lines).toEqual(['one']);
    expect(typeof resolveOptions({ url: 'https://x', debug: true }).debug).toBe('function');
    expect(resolveOptions({ url: 'https://x', debug: false }).debug).toBeUndefined();
    const throwing = resolveOptions({ url: 'https://x', debug: () => {
      throw new Error('sink full');
    } }).debug!;
    expect(() => throwing('two')).not.toThrow();
  });

  it.each([
    [undefined, /^`options` must be an object$/],
    [null, /`options` must be an object/],
    ['https://x', /`options` must be an object/],
    [{ url: 42 }, /^`url` must be a string$/],
    [{ url: '' }, /^`url` must be a URL, not empty$/],
    [{ url: '  ' }, /^`url` must be a URL, not empty$/],
    [{}, /`transports` must be given an endpoint by `url` or `endpoints`/],
    [{ url: 'https://x', endpoints: { websocket: false, sse: false, poll: false } }, /`transports` must be given an endpoint/],
    [{ endpoints: { websocket: false } }, /`transports` must be given an endpoint/],
    [{ url: 'https://x', transports: ['websocket', 'carrier-pigeon'] }, /`transports` must be a list of websocket, sse, poll/],
    [{ url: 'https://x', transports: 'sse' }, /`transports` must be a list/],
    // Each would fail every attempt as a network error, for ever. (Relative ones are refused by connect().)
    [{ url: 'ftp://x/rt' }, /^`url` must be an http\(s\) or ws\(s\) URL without credentials$/],
    [{ url: 'https://user:secret@x/rt' }, /^`url` must be an http\(s\) or ws\(s\) URL without credentials$/],
    [{ url: 'https://x/rt', endpoints: { send: 'file:///tmp/send' } }, /`endpoints.send` must be an http\(s\) or ws\(s\) URL/],
    // every() skips the hole; the client would then ask for a transport named undefined.
    [{ url: 'https://x', transports: [, 'sse'] }, /`transports` must be a list of websocket, sse, poll/],
    [{ url: 'https://x', transports: [] }, /`transports` must be non-empty/],
    [{ url: 'https://x', transports: ['websocket'], endpoints: { websocket: false } }, /`transports` must be given an endpoint/],
    [{ url: 'https://x', reconnect: { jitter: 'some' } }, /`reconnect.jitter` must be one of full, equal, decorrelated, none/],
    [{ url: 'https://x', reconnect: { initialDelay: -1 } }, /`reconnect.initialDelay` must be a number > 0/],
    [{ url: 'https://x', reconnect: { initialDelay: 0 } }, /`reconnect.initialDelay` must be a number > 0/],
    [{ url: 'https://x', reconnect: { maxDelay: Number.NaN } }, /`reconnect.maxDelay` must be a number >= 0/],
    [{ url: 'https://x', reconnect: { maxDelay: '100' } }, /`reconnect.maxDelay` must be a number >= 0/],
    [{ url: 'https://x', reconnect: { factor: 0.5 } }, /`reconnect.factor` must be a number >= 1/],
    [{ url: 'https://x', reconnect: { factor: '3' as never } }, /`reconnect.factor` must be a number >= 1/],
    [{ url: 'https://x', reconnect: { maxAttempts: -1 } }, /`reconnect.maxAttempts` must be a number >= 0/],
    [{ url: 'https://x', reconnect: { maxAttempts: null as never } }, /`reconnect.maxAttempts` must be a number >= 0/],
    [{ url: 'https://x', heartbeat: { interval: 0 } }, /`heartbeat.interval` must be a number > 0/],
    [{ url: 'https://x', heartbeat: { timeout: '30s' } }, /`heartbeat.timeout` must be a number > 0/],
    [{ url: 'https://x', openTimeout: 0 }, /`openTimeout` must be a number > 0/],
    [{ url: 'https://x', pollTimeout: null }, /`pollTimeout` must be a number > 0/],
    [{ url: 'https://x', maxQueue: -5 }, /`maxQueue` must be a number >= 0/],
    [{ url: 'https://x', decode: 'xml' }, /`decode` must be 'json', 'text' or a function/],
    [{ url: 'https://x', lastEventId: 42 }, /`lastEventId` must be a string/],
  ])('rejects %j with BAD_OPTIONS naming the option and what it must be', (options, message) => {
    const error = badOptions(options);
    expect(error.code).toBe('BAD_OPTIONS');
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(message);
  });

  it('timer options of Infinity mean "never", held at what setTimeout can wait (not fired at once)', () => {
    const o = resolveOptions({ url: 'https://x', openTimeout: Infinity, heartbeat: { interval: Infinity, timeout: Infinity } });
    expect(o.openTimeout).toBe(2_147_483_647);
    expect(o.heartbeat).toMatchObject({ interval: 2_147_483_647, timeout: 2_147_483_647 });
  });

  it('maxDelay below initialDelay is raised to it (never a ceiling under the floor)', () => {
    expect(resolveOptions({ url: 'https://x', reconnect: { initialDelay: 5000, maxDelay: 100 } }).reconnect.maxDelay).toBe(5000);
  });
});

describe('joinEndpoint', () => {
  it.each([
    ['https://x/rt', 'https://x/rt/ws'],
    ['https://x/rt/', 'https://x/rt/ws'],
    ['https://x/rt//', 'https://x/rt/ws'],
    ['https://x/rt?app=1&v=2', 'https://x/rt/ws?app=1&v=2'],
    ['https://x/rt/?app=1', 'https://x/rt/ws?app=1'],
    ['https://x/rt?app=1#frag', 'https://x/rt/ws?app=1'],
    ['https://x/rt#frag', 'https://x/rt/ws'],
    ['/rt', '/rt/ws'],
  ])('%s → %s', (base, joined) => {
    expect(joinEndpoint(base, 'ws')).toBe(joined);
  });

  it('every endpoint resolved from a base keeps its query string', () => {
    const o = resolveOptions({ url: 'https://x/rt?tenant=a' });
    expect(Object.values(o.endpoints)).toEqual(['https://x/rt/ws?tenant=a', 'https://x/rt/sse?tenant=a', 'https://x/rt/poll?tenant=a', 'https://x/rt/send?tenant=a']);
  });
});
