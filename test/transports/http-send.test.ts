import { describe, expect, it } from 'vitest';
import { createPollTransport } from '../../src/transports/poll';
import { createSseTransport } from '../../src/transports/sse';
import type { TransportFactory } from '../../src/transports/transport';
import { context, fakeFetch, hangingFetch, recorder, rejection } from './helpers';

const batch = [
  { event: 'typing', data: { user: 'ann' }, mid: 'm1' },
  { event: 'message', data: 'hi', mid: 'm2' },
];


describe.each([
  ['sse', createSseTransport],
  ['poll', createPollTransport],
] as Array<[string, TransportFactory]>)('%s transport: send', (_name, factory) => {
  /** A transport whose stream never answers, with `send` answered by `post`. */
  function open(post: (init: unknown) => Response | Promise<Response>, extra: Parameters<typeof context>[0] = {}) {
    const stream = hangingFetch();
    const posts: Array<{ url: string; init: any }> = [];
    const fetch = (url: string, init: any) => {
      if (init.method === 'POST') {
        posts.push({ url, init });
        return Promise.resolve().then(() => post(init));
      }
      return stream(url, init);
    };
    const rec = recorder();
    const t = factory(context({ fetch, ...extra }), rec);
    return { t, posts, rec };
  }

  it('POSTs the batch as one JSON array with auth, user headers and credentials; resolves on 2xx', async () => {
    const { t, posts } = open(() => new Response(null, { status: 204 }), { token: 'tkn', headers: { 'X-App': '1' }, withCredentials: true });
    await expect(t.send(batch)).resolves.toBeUndefined();
    expect(posts).toHaveLength(1);
    const [{ url, init }] = posts;
    expect(url).toBe('https://rt.example/rt/send');
    expect(init).toMatchObject({ method: 'POST', credentials: 'include', cache: 'no-store', redirect: 'follow' });
    expect(init.headers).toEqual({ 'X-App': '1', 'Content-Type': 'application/json', Authorization: 'Bearer tkn' });
    expect(JSON.parse(init.body)).toEqual(batch);
    t.close();
  });

  it('resolves on 200 and 202 too', async () => {
    const { t } = open(() => new Response('ok', { status: 200 }));
    await t.send(batch);
    const { t: t2 } = open(() => new Response('', { status: 202 }));
    await t2.send(batch);
    t.close();
    t2.close();
  });

  it.each([408, 429, 500, 503])('rejects HTTP %i with SEND_FAILED and the status', async (status) => {
    const { t } = open(() => new Response('busy', { status }));
    const err = await rejection(t.send(batch));
    expect(err.code).toBe('SEND_FAILED');
    expect(err.status).toBe(status);
    t.close();
  });

  it.each([400, 403, 413, 302])('rejects HTTP %i with SEND_REJECTED and the status', async (status) => {
    const { t } = open(() => new Response('no', { status }));
    const err = await rejection(t.send(batch));
    expect(err.code).toBe('SEND_REJECTED');
    expect(err.status).toBe(status);
    t.close();
  });

  it('rejects a network error with SEND_FAILED and its cause, token redacted', async () => {
    const { t } = open(() => {
      throw new TypeError('fetch failed for Bearer sekret');
    }, { token: 'sekret' });
    const err = await rejection(t.send(batch));
    expect(err.code).toBe('SEND_FAILED');
    expect(err.status).toBeUndefined();
    expect(String((err.cause as Error).message)).not.toContain('sekret');
    expect(err.message).not.toContain('sekret');
    t.close();
  });

  it('rejects with SEND_REJECTED saying sending is disabled when sendUrl is false', async () => {
    const { t, posts } = open(() => new Response(null, { status: 204 }), { sendUrl: false });
    const err = await rejection(t.send(batch));
    expect(err.code).toBe('SEND_REJECTED');
    expect(err.message).toContain('endpoints.send is false');
    expect(posts).toHaveLength(0);
    t.close();
  });

  it('rejects unserialisable data with BAD_OPTIONS without a request', async () => {
    const { t, posts } = open(() => new Response(null, { status: 204 }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = await rejection(t.send([{ event: 'x', data: cyclic, mid: 'm' }]));
    expect(err.code).toBe('BAD_OPTIONS');
    expect(posts).toHaveLength(0);
    t.close();
  });

  it('close() aborts a send in flight (SEND_FAILED) and refuses later sends', async () => {
    const pending = hangingFetch();
    const { t } = open((init: any) => pending('post', init) as Promise<Response>);
    const p = t.send(batch);
    await new Promise((r) => setTimeout(r, 0));
    t.close();
    const err = await rejection(p);
    expect(err.code).toBe('SEND_FAILED');
    expect(pending.aborted()).toBe(true);
    expect((await rejection(t.send(batch))).code).toBe('SEND_FAILED');
  });

  it('resolves a relative send URL against the page location', async () => {
    const g = globalThis as { location?: unknown };
    g.location = { href: 'https://app.example/chat/room?x=1' };
    try {
      const { t, posts } = open(() => new Response(null, { status: 204 }), { sendUrl: '../rt/send' });
      await t.send(batch);
      expect(posts[0].url).toBe('https://app.example/rt/send');
      t.close();
    } finally {
      delete g.location;
    }
  });

  it('resolves an empty batch without a request', async () => {
    const { t, posts } = open(() => new Response(null, { status: 500 }));
    await t.send([]);
    expect(posts).toHaveLength(0);
    t.close();
  });

  it('rejects a send URL that cannot be resolved with BAD_OPTIONS (not retryable)', async () => {
    const { t, posts } = open(() => new Response(null, { status: 204 }), { sendUrl: '/rt/send' });
    const err = await rejection(t.send(batch));
    expect(err.code).toBe('BAD_OPTIONS');
    expect(err.message).toMatch(/absolute URL/);
    expect(posts).toHaveLength(0);
    t.close();
  });

  it('does not need the stream to be open', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => new Response(null, { status: 204 }));
    const t = factory(context({ fetch }), rec);
    await t.send(batch);
    t.close();
  });
});
