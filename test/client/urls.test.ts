// @vitest-environment node
/**
 * URLs that no request could use, outside a browser (no page to resolve a relative URL against):
 * createClient accepts them (a module shared by a server render and the page may create its
 * client on the server), connect() refuses them with a fatal BAD_OPTIONS instead of failing
 * every attempt as a network error, for ever.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../../src/client';
import type { ClientOptions } from '../../src/options';
import type { SurewireError } from '../../src/errors';

afterEach(() => vi.useRealTimers());

function client(options: ClientOptions) {
  vi.useFakeTimers();
  const fetch = vi.fn(async () => new Response(null, { status: 503 }));
  const c = createClient({ fetch, ...options });
  const errors: SurewireError[] = [];
  c.onError((e) => errors.push(e));
  return { c, fetch, errors };
}

describe('a relative URL outside a browser', () => {
  it.each([
    ['url: /rt', { url: '/rt', transports: ['sse', 'poll'] }, /^The sse URL must be absolute here \(no page URL to resolve it against\)$/],
    ['endpoints.send: relative', { url: 'https://x.test/rt', endpoints: { send: 'send' }, transports: ['sse'] }, /The send URL must be absolute/],
  ] as const)('%s: createClient accepts it, connect() ends fatally with BAD_OPTIONS, no request, no timer', async (_, options, message) => {
    const { c, fetch, errors } = client({ ...options, autoConnect: false } as ClientOptions);
    expect(c.status.state).toBe('idle');
    const sent = c.send('x', 1);
    c.connect();
    expect(c.status).toMatchObject({ state: 'closed', error: { code: 'BAD_OPTIONS', fatal: true } });
    expect(c.status.error!.message).toMatch(message);
    expect(errors).toEqual([c.status.error]);
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a handler that restarts a closed client is refused once, not for ever inside connect()', () => {
    const { c, errors } = client({ url: '/rt', transports: ['sse'], autoConnect: false });
    let restarts = 0;
    c.onStatus((s) => {
      if (s.state === 'closed' && ++restarts < 100) c.connect();
    });
    c.onError(() => c.connect());
    c.connect();
    expect(restarts).toBe(1);
    expect(errors).toHaveLength(1);
    expect(c.status.state).toBe('closed');
    // Later, outside the refusal, connect() is refused again (once): the URL is still unusable.
    c.connect();
    expect(errors).toHaveLength(2);
  });

  it('also when the refusal happens inside another status dispatch (close() on an idle client, then a restart)', () => {
    const { c, errors } = client({ url: '/rt', transports: ['sse'], autoConnect: false });
    let restarts = 0;
    c.onStatus((s) => {
      if (s.state === 'closed' && ++restarts < 100) c.connect();
    });
    c.close(); // idle → closed, whose dispatch starts the refusal: its snapshot is queued behind
    expect({ restarts, errors: errors.length }).toEqual({ restarts: 2, errors: 1 });
    expect(c.status).toMatchObject({ state: 'closed', error: { code: 'BAD_OPTIONS' } });
    c.connect();
    expect(errors).toHaveLength(2);
  });

  it('WebSocket alone needs no send URL: a relative one is not refused', async () => {
    const { c } = client({ url: '/rt', endpoints: { websocket: 'wss://x.test/rt/ws' }, transports: ['websocket'], autoConnect: false, WebSocket: class {} as never });
    c.connect();
    expect(c.status.state).toBe('connecting');
    c.close();
  });

  it.each([[''], ['  ']])("an endpoint of %j (an unset variable) is refused by createClient, page or not", (empty) => {
    expect(() => createClient({ url: 'https://x.test/rt', endpoints: { sse: empty } })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS', message: '`endpoints.sse` must be a URL or false' }));
  });

  it('with autoConnect, createClient returns a closed client that says why', () => {
    const { c } = client({ url: '/rt' });
    expect(c.status).toMatchObject({ state: 'closed', error: { code: 'BAD_OPTIONS', fatal: true } });
  });

  it('an absolute URL connects as usual', async () => {
    const { c, fetch } = client({ url: 'https://x.test/rt', transports: ['sse'] });
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(c.status.state).not.toBe('closed');
    c.close();
  });
});
