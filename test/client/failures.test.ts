// @vitest-environment jsdom
/**
 * DESIGN §4 through the real client: every row of the failure table, driven through the public
 * API with mock-socket for WebSocket and a scripted fetch for SSE and poll, on fake time.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  advance,
  block,
  flush,
  helloBlock,
  liveStream,
  rig,
  scriptedFetch,
  sse,
  status,
  trackedWebSocket,
  uniqueBase,
  steady,
  useRigs,
} from './helpers';

const { cleanups, setup, server } = useRigs();

describe('network error, refused, reset', () => {
  it('before open: tries the next transport at once; after the last, backs off', async () => {
    const { base } = uniqueBase(); // no WebSocket server: the upgrade fails
    const f = scriptedFetch().on('sse', new TypeError('Failed to fetch')).on('poll', new TypeError('Failed to fetch'));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, fetch: f.fetch, reconnect: steady });
    await advance(10);
    expect(r.path()).toEqual(['connecting', 'connecting:websocket', 'connecting:sse', 'connecting:poll', 'reconnecting']);
    expect(r.codes()).toEqual(['NETWORK', 'NETWORK', 'NETWORK']);
    expect(r.errors.every((e) => !e.fatal)).toBe(true);
    expect(r.client.status).toMatchObject({ state: 'reconnecting', attempt: 1, error: { code: 'NETWORK' } });
    // Backing off: nothing until the delay (1000 ms, no jitter) passes, then a new round from the top.
    await advance(980);
    expect(ws.urls).toHaveLength(1);
    await advance(20);
    expect(ws.urls).toHaveLength(2);
  });

  it('after open: reconnects with backoff, same transport first', async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const second = liveStream();
    const f = scriptedFetch().on('sse', first, second);
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, fetch: f.fetch, transports: ['websocket', 'sse'], reconnect: steady });
    await advance(10); // websocket refused → sse opens
    first.push(': hi\n\n');
    await flush();
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
    first.fail(new TypeError('network error'));
    await flush();
    expect(r.client.status).toMatchObject({ state: 'reconnecting', attempt: 1, error: { code: 'NETWORK', fatal: false } });
    await advance(999);
    expect(f.of('sse')).toHaveLength(1);
    await advance(1);
    // The last transport that opened goes first: the blocked WebSocket is not waited for again.
    expect(f.of('sse')).toHaveLength(2);
    expect(ws.urls).toHaveLength(1);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
  });
});

describe('the last transport that opened goes first', () => {
  it('in every later round, also after a round that failed everywhere, and after close() and connect()', async () => {
    const { base } = uniqueBase(); // the WebSocket is blocked (no server)
    const open1 = liveStream();
    const f = scriptedFetch()
      .on('sse', open1, new TypeError('reset'))
      .otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['websocket', 'sse'], WebSocket: trackedWebSocket().WebSocket, fetch: f.fetch, reconnect: steady });
    await advance(10);
    open1.push(': hi\n\n');
    await flush();
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
    const tried = () => r.log.map(([m]) => /trying (\w+)/.exec(m)?.[1]).filter(Boolean);
    expect(tried()).toEqual(['websocket', 'sse']);
    open1.end(); // drops after open: back off, sse first; sse fails → websocket fails → back off
    await flush();
    await advance(1000);
    expect(tried()).toEqual(['websocket', 'sse', 'sse', 'websocket']);
    await advance(2010); // the next round starts with sse again, not with the blocked websocket
    expect(tried()).toEqual(['websocket', 'sse', 'sse', 'websocket', 'sse']);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
    r.client.close();
    r.client.connect();
    await flush();
    expect(tried().at(-1)).toBe('sse');
  });
});

describe('openTimeout', () => {
  it('no open within openTimeout: next transport, and the hanging request is aborted', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', 'hang').on('poll', liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, openTimeout: 2000 });
    await advance(1999);
    expect(f.of('poll')).toHaveLength(0);
    await advance(1);
    expect(f.of('poll')).toHaveLength(1);
    expect(f.of('sse')[0]!.init.signal?.aborted).toBe(true);
    expect(r.codes()[0]).toBe('OPEN_TIMEOUT');
    expect(r.path()).toEqual(['connecting', 'connecting:sse', 'connecting:poll', 'open:poll']);
  });

  it('openTimeout: Infinity never times out (it is not fired at once)', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch(); // every request hangs
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, openTimeout: Infinity });
    await advance(600_000);
    expect(f.calls).toHaveLength(1);
    expect(r.codes()).toEqual([]);
  });
});

describe('token', () => {
  it('a token function that never settles counts against openTimeout instead of holding the client for ever', async () => {
    const { base } = uniqueBase();
    const token = vi.fn().mockReturnValueOnce(new Promise(() => {})).mockResolvedValue('ok');
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, token, openTimeout: 2000, reconnect: steady });
    await advance(1990);
    expect(r.client.status.state).toBe('connecting');
    await advance(10);
    expect(r.codes()).toEqual(['OPEN_TIMEOUT']);
    await advance(1000);
    expect(f.of('sse')[0]!.init.headers?.Authorization).toBe('Bearer ok');
    expect(r.client.status.state).toBe('open');
  });

  it('one openTimeout per attempt: a slow token leaves the transport only the rest of it', async () => {
    const { base } = uniqueBase();
    const token = vi.fn(() => new Promise<string>((resolve) => setTimeout(() => resolve('slow'), 1500)));
    const f = scriptedFetch(); // every request hangs
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, token, openTimeout: 2000, reconnect: steady });
    await advance(1500);
    expect(f.of('sse')).toHaveLength(1);
    await advance(490);
    expect(f.of('poll')).toHaveLength(0);
    await advance(10);
    // 2000 ms after the attempt began, not 2000 ms after the token came: the next transport.
    expect(r.codes()).toEqual(['OPEN_TIMEOUT']);
    expect(f.of('sse')[0]!.init.signal?.aborted).toBe(true);
    expect(r.client.status).toMatchObject({ state: 'connecting', transport: 'poll' });
  });

  it('a token function that throws or rejects: TOKEN_FAILED, retried after backoff', async () => {
    const { base } = uniqueBase();
    const token = vi
      .fn()
      .mockImplementationOnce(() => {
        throw new Error('storage unavailable');
      })
      .mockRejectedValueOnce(new Error('refresh failed'))
      .mockReturnValue('ok');
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, token, reconnect: steady });
    await flush();
    expect(r.errors[0]).toMatchObject({ code: 'TOKEN_FAILED', fatal: false, cause: { message: 'storage unavailable' } });
    await advance(1000);
    expect(r.codes()).toEqual(['TOKEN_FAILED', 'TOKEN_FAILED']);
    await advance(2000);
    expect(f.calls).toHaveLength(1);
    expect(r.client.status.state).toBe('open');
  });
});

describe('opened, but died before a single byte', () => {
  it('SSE: counts as failed before open, the next transport is tried at once', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', sse('')).otherwise('poll', () => liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, reconnect: steady });
    await flush();
    expect(f.of('poll')).toHaveLength(1);
    expect(r.path()).toEqual(['connecting', 'connecting:sse', 'open:sse', 'reconnecting:poll', 'open:poll']);
    expect(r.codes()).toEqual(['STREAM_ENDED']);
  });

  it('WebSocket closed before its first frame: the next transport is tried, not the same one again', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.close({ code: 1006 }));
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['websocket', 'sse'], WebSocket: trackedWebSocket().WebSocket, fetch: f.fetch, reconnect: steady });
    await advance(10);
    expect(s.sockets).toHaveLength(1);
    expect(f.of('sse')).toHaveLength(1);
    expect(r.path()).toEqual(['connecting', 'connecting:websocket', 'open:websocket', 'reconnecting:sse', 'open:sse']);
  });

  it('silent after open until the heartbeat timeout (a buffering proxy): the next transport at once', async () => {
    const { base, ws: url } = uniqueBase();
    server(url); // opens, never says a word
    const f = scriptedFetch().otherwise('poll', () => liveStream());
    const r = setup({ url: base, transports: ['websocket', 'poll'], WebSocket: trackedWebSocket().WebSocket, fetch: f.fetch, heartbeat: { interval: 60_000, timeout: 3000 }, reconnect: steady });
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'websocket' });
    await advance(3000);
    expect(r.codes()).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(f.of('poll')).toHaveLength(1); // at once, no backoff
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'poll' });
  });

  it('a transport that went silent is demoted: the next round tries it last', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url); // opens, never says a word
    const f = scriptedFetch().on('sse', new TypeError('Failed to fetch')).otherwise('sse', () => liveStream());
    const ws = trackedWebSocket();
    const r = setup({ url: base, transports: ['websocket', 'sse'], WebSocket: ws.WebSocket, fetch: f.fetch, heartbeat: { interval: 60_000, timeout: 3000 }, reconnect: steady });
    await advance(3010); // websocket silent → dead → sse fails on the network → round over, back off
    expect(r.client.status.state).toBe('reconnecting');
    await advance(1000);
    expect(f.of('sse')).toHaveLength(2);
    expect(ws.urls).toHaveLength(1);
    expect(s.sockets).toHaveLength(1);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
  });
});

describe('HTTP answers', () => {
  it('2xx with a content type other than text/event-stream: next transport', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('sse', status(200, { 'content-type': 'text/html' }, '<html>'))
      .on('poll', liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch });
    await flush();
    expect(r.errors[0]).toMatchObject({ code: 'BAD_CONTENT_TYPE', fatal: false });
    expect(r.errors[0]!.message).toContain('text/html');
    expect(f.of('poll')).toHaveLength(1);
  });

  it.each([404, 405, 501])('HTTP %i: next transport (not offered here)', async (code) => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(code)).otherwise('poll', () => liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch });
    await flush();
    expect(r.errors[0]).toMatchObject({ code: 'NOT_OFFERED', status: code, fatal: false });
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'poll' });
  });

  it('a round in which every transport is not offered ends fatally with NO_TRANSPORT', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(404)).on('poll', status(200, { 'content-type': 'application/json' }, '{}'));
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch });
    await flush();
    expect(r.client.status.state).toBe('closed');
    expect(r.client.status.error).toMatchObject({ code: 'NO_TRANSPORT', fatal: true });
    expect(r.errors.at(-1)).toBe(r.client.status.error);
    await advance(120_000);
    expect(f.calls).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a round where the WebSocket fails on the network and the rest are not offered backs off instead', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(404)).otherwise('poll', () => status(404));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, fetch: f.fetch, reconnect: steady });
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'reconnecting', error: { code: 'NOT_OFFERED' } });
  });

  it('HTTP 204: state closed, no error, no retry', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(204));
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch });
    await flush();
    expect(r.client.status).toMatchObject({ state: 'closed', transport: null });
    expect(r.client.status.error).toBeUndefined();
    expect(r.errors).toEqual([]);
    await advance(60_000);
    expect(f.calls).toHaveLength(1);
  });

  it('HTTP 204 after open (a poll answered 204): stop as well', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('poll', sse(block({ id: '1', data: 1 })), status(204));
    const r = setup({ url: base, transports: ['poll'], fetch: f.fetch });
    await flush();
    expect(r.messages).toHaveLength(1);
    expect(r.client.status.state).toBe('closed');
    expect(r.errors).toEqual([]);
  });

  it('HTTP 401: the token is fetched again and the attempt retried at once; a second 401 is fatal', async () => {
    const { base } = uniqueBase();
    const token = vi.fn().mockReturnValueOnce('t1').mockResolvedValueOnce('t2');
    const f = scriptedFetch().on('sse', status(401), status(401));
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, token });
    await flush();
    expect(token).toHaveBeenCalledTimes(2);
    expect(f.of('sse').map((c) => c.init.headers?.Authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    expect(f.of('poll')).toHaveLength(0); // fatal at once, whatever transports remain
    expect(r.client.status).toMatchObject({ state: 'closed', error: { code: 'UNAUTHORIZED', fatal: true, status: 401 } });
  });

  it('HTTP 401 then a good token: opens; a later 401 (an expired token, after that open) is refreshed again', async () => {
    const { base } = uniqueBase();
    let n = 0;
    const token = vi.fn(() => `t${++n}`);
    const stream = liveStream();
    const f = scriptedFetch().on('sse', status(401), stream, status(401)).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, token, reconnect: steady });
    await flush();
    stream.push(block({ id: '1', data: 1 }));
    await flush();
    expect(r.client.status.state).toBe('open');
    stream.end();
    await flush();
    await advance(1000); // back off, then 401 → new token → open
    expect(f.of('sse').map((c) => c.init.headers?.Authorization)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3', 'Bearer t4']);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'sse' });
  });

  it('HTTP 403 and other unnamed 4xx are fatal, whatever transports remain', async () => {
    for (const code of [403, 400, 410]) {
      const { base } = uniqueBase();
      const f = scriptedFetch().on('sse', status(code, { 'retry-after': '1' }));
      const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch });
      await flush();
      expect(r.client.status).toMatchObject({ state: 'closed', error: { code: code === 403 ? 'FORBIDDEN' : 'HTTP_STATUS', fatal: true, status: code } });
      expect(f.of('poll')).toHaveLength(0);
      r.client.close();
    }
    await advance(10_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([408, 429, 500, 502, 503])('HTTP %i backs off (same transport, no fallback)', async (code) => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(code)).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, reconnect: steady });
    await flush();
    expect(r.client.status).toMatchObject({ state: 'reconnecting', error: { code: 'HTTP_STATUS', status: code, fatal: false } });
    await advance(1000);
    expect(f.of('sse')).toHaveLength(2);
    expect(f.of('poll')).toHaveLength(0);
  });

  it('Retry-After in seconds is a floor, honoured even above maxDelay', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503, { 'retry-after': '120' })).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { initialDelay: 100, maxDelay: 1000 } });
    await flush();
    await advance(119_990);
    expect(f.of('sse')).toHaveLength(1);
    await advance(10);
    expect(f.of('sse')).toHaveLength(2);
  });

  it('Retry-After as an HTTP date is a floor too', async () => {
    const { base } = uniqueBase();
    const at = new Date(Date.now() + 45_000).toUTCString(); // whole seconds: up to 1 s earlier than +45 s
    const f = scriptedFetch().on('sse', status(429, { 'retry-after': at })).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { initialDelay: 100, maxDelay: 500 } });
    await flush();
    await advance(43_000);
    expect(f.of('sse')).toHaveLength(1);
    await advance(2_000);
    expect(f.of('sse')).toHaveLength(2);
  });

  it('a Retry-After beyond what setTimeout can hold (~24.8 days) still waits instead of firing at once', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503, { 'retry-after': String(40 * 86_400) })).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch });
    await flush();
    await advance(3_600_000);
    expect(f.of('sse')).toHaveLength(1);
    expect(r.client.status.state).toBe('reconnecting');
  });

  it('a Retry-After shorter than the backoff does not shorten it', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503, { 'retry-after': '1' })).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'none', initialDelay: 5000 } });
    await flush();
    await advance(4990);
    expect(f.of('sse')).toHaveLength(1);
    await advance(10);
    expect(f.of('sse')).toHaveLength(2);
  });
});

describe('WebSocket close codes', () => {
  async function openWs(token?: () => string) {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ id: String(Date.now()), data: 'hi' })));
    const ws = trackedWebSocket();
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({ url: base, WebSocket: ws.WebSocket, fetch: f.fetch, token, reconnect: steady });
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'websocket' });
    return { s, ws, f, r };
  }

  it.each([1000, 1001, 1006, 1009, 1011, 1012, 1013, 4000, 4500])('close %i: back off, then the WebSocket again', async (code) => {
    const { s, ws, f, r } = await openWs();
    s.close(code, 'bye');
    await advance(5);
    expect(r.client.status).toMatchObject({ state: 'reconnecting', error: { code: 'WS_CLOSE', closeCode: code, fatal: false } });
    await advance(995);
    expect(ws.urls).toHaveLength(1);
    await advance(10);
    expect(ws.urls).toHaveLength(2);
    expect(f.calls).toHaveLength(0);
    expect(r.client.status.state).toBe('open');
  });

  it.each([1008, 4400, 4403, 4499])('close %i: fatal', async (code) => {
    const { s, ws, f, r } = await openWs();
    s.close(code, 'no');
    await advance(5);
    expect(r.client.status).toMatchObject({ state: 'closed', error: { fatal: true, closeCode: code } });
    await advance(60_000);
    expect(ws.urls).toHaveLength(1);
    expect(f.calls).toHaveLength(0);
  });

  it('close 4401: token called again, reconnect at once with it; 4401 again before an open is fatal', async () => {
    let n = 0;
    const token = vi.fn(() => `tok${++n}`);
    const { s, ws, r } = await openWs(token);
    expect(ws.query(0).get('access_token')).toBe('tok1');
    s.close(4401, 'expired');
    await advance(5);
    expect(token).toHaveBeenCalledTimes(2);
    expect(ws.urls).toHaveLength(2); // at once, no backoff
    expect(ws.query(1).get('access_token')).toBe('tok2');
    await advance(5);
    expect(r.client.status.state).toBe('open');
    // After that successful open, a later expiry is refreshed once more…
    s.close(4401, 'expired');
    await advance(10);
    expect(ws.query(2).get('access_token')).toBe('tok3');
    expect(r.client.status.state).toBe('open');
  });

  it('a server that accepts the upgrade and closes 4401 before a byte: one refresh, then fatal (no reauth loop)', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.close({ code: 4401, reason: 'who are you' }));
    const token = vi.fn(() => 'stale');
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, fetch: scriptedFetch().fetch, token });
    await advance(40);
    expect(s.sockets).toHaveLength(2);
    expect(token).toHaveBeenCalledTimes(2);
    expect(r.client.status).toMatchObject({ state: 'closed', error: { code: 'UNAUTHORIZED', fatal: true, closeCode: 4401 } });
  });
});

describe('SSE retry:', () => {
  it('retry: N becomes the base delay of later reconnects', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', sse('retry: 7000\n' + block({ id: '1', data: 1 }))).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'none', initialDelay: 1000, maxDelay: 2000 } });
    await flush();
    expect(f.of('sse')).toHaveLength(1);
    await advance(6990);
    expect(f.of('sse')).toHaveLength(1);
    await advance(10);
    expect(f.of('sse')).toHaveLength(2);
  });
});

describe('SSE retry: 0', () => {
  it('does not turn backoff off: a zero base cannot grow, so the configured base stays', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', sse('retry: 0\n' + block({ id: '1', data: 1 }))).otherwise('sse', () => status(503));
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'none', initialDelay: 1000, maxDelay: 30_000 } });
    await flush();
    await advance(10_000); // 1000 + 2000 + 4000 (+ 8000 pending): three retries, not a hot loop
    expect(f.of('sse')).toHaveLength(4);
  });
});

describe('SSE retry: is a floor too', () => {
  it('with full jitter, no reconnect comes sooner than the server asked (STYLE: server hints are floors, not jittered)', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0); // the jitter's lowest draw
    cleanups.push(() => random.mockRestore());
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', sse('retry: 5000\n' + block({ id: '1', data: 1 }))).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'full', initialDelay: 100 } });
    await flush();
    await advance(4990);
    expect(f.of('sse')).toHaveLength(1);
    await advance(10);
    expect(f.of('sse')).toHaveLength(2);
  });
});

describe('heartbeat', () => {
  it('no inbound byte for heartbeat.timeout: the connection is closed and the client reconnects', async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, heartbeat: { timeout: 10_000 }, reconnect: steady });
    await flush();
    first.push(': hb\n\n');
    await flush();
    await advance(9000);
    first.push(': hb\n\n'); // activity pushes the deadline back
    await advance(9000);
    expect(r.codes()).toEqual([]);
    await advance(1000);
    expect(r.codes()).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(first.cancelled).toBe(true);
    expect(r.client.status.state).toBe('reconnecting');
    await advance(1000);
    expect(f.of('sse')).toHaveLength(2);
  });

  it("a hello's heartbeat sets the timeout to 2h + 5000 when the user set none", async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch });
    await flush();
    first.push(helloBlock({ heartbeat: 1000 }, '5'));
    await flush();
    await advance(6990);
    expect(r.codes()).toEqual([]);
    await advance(10);
    expect(r.codes()).toEqual(['HEARTBEAT_TIMEOUT']);
  });

  it("a user's heartbeat.timeout wins over the hello's", async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, heartbeat: { timeout: 20_000 } });
    await flush();
    first.push(helloBlock({ heartbeat: 1000 }, '5'));
    await flush();
    await advance(19_000);
    expect(r.codes()).toEqual([]);
    await advance(1000);
    expect(r.codes()).toEqual(['HEARTBEAT_TIMEOUT']);
  });

  it('heartbeat: false never declares a connection dead', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, heartbeat: false });
    await flush();
    await advance(600_000);
    expect(r.client.status.state).toBe('open');
    expect(r.codes()).toEqual([]);
  });

  it('WebSocket: pings every interval, and the pong sets status.rtt', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => {
      socket.on('message', (raw) => {
        if (JSON.parse(String(raw)).type === 'ping') {
          setTimeout(() => socket.send('{"type":"pong"}'), 30);
        }
      });
    });
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, heartbeat: { interval: 1000, timeout: 5000 } });
    await advance(10);
    expect(r.client.status.rtt).toBeUndefined();
    await advance(1000);
    await advance(40);
    expect(s.received.filter((m) => (m as { type?: string }).type === 'ping').length).toBeGreaterThanOrEqual(1);
    expect(r.client.status.rtt).toBeGreaterThanOrEqual(30);
    expect(r.client.status.rtt).toBeLessThan(100);
    // Pongs are traffic: the connection stays open well past the timeout.
    await advance(20_000);
    expect(r.client.status.state).toBe('open');
  });
});

describe('undecodable payloads', () => {
  it('WebSocket: BAD_MESSAGE with the raw text; the connection stays and later events arrive', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    s.send('this is {not json');
    s.send({ id: '1', event: 'chat', data: 'ok' });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'BAD_MESSAGE', raw: 'this is {not json', fatal: false });
    expect(r.client.status.state).toBe('open');
    expect(r.messages.map((m) => m.data)).toEqual(['ok']);
  });

  it('WebSocket, a decode function that throws: BAD_MESSAGE carries the raw text the function was given', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const given: string[] = [];
    const r = setup({
      url: base,
      WebSocket: trackedWebSocket().WebSocket,
      decode: (raw) => {
        given.push(raw);
        throw new Error('no');
      },
    });
    await advance(10);
    s.send({ id: '1', event: 'chat' }); // no data: the function gets ''
    s.send({ id: '2', event: 'chat', data: { a: 1 } });
    expect(given).toEqual(['', '{"a":1}']);
    expect(r.errors.map((e) => e.raw)).toEqual(given);
  });

  it('SSE with decode json: the bad event is skipped with BAD_MESSAGE; the next one arrives', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on('sse', stream);
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch });
    await flush();
    stream.push(block({ id: '1', data: '{oops' }) + block({ id: '2', data: { fine: true } }));
    await flush();
    expect(r.errors.map((e) => [e.code, e.raw])).toEqual([['BAD_MESSAGE', '{oops']]);
    expect(r.messages.map((m) => m.data)).toEqual([{ fine: true }]);
    expect(r.client.status).toMatchObject({ state: 'open', lastEventId: '2' });
  });
});

describe('reconnect options reach the backoff', () => {
  it.each([
    ['full', 0.5, [500, 1000, 2000]],
    ['equal', 0, [500, 1000, 2000]],
    ['none', 0.9, [1000, 2000, 4000]],
    ['decorrelated', 0.5, [2000, 3500, 5750]], // base + r·(3·previous − base), previous starting at base
  ] as const)('%s jitter (random = %d): delays %j', async (jitter, r, delays) => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(r);
    cleanups.push(() => random.mockRestore());
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(503));
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter, initialDelay: 1000, maxDelay: 60_000 } });
    await flush();
    for (const [i, delay] of delays.entries()) {
      await advance(delay - 5);
      expect(f.calls, `before retry ${i + 1}`).toHaveLength(i + 1);
      await advance(5);
      expect(f.calls, `at retry ${i + 1}`).toHaveLength(i + 2);
    }
  });
});

describe('maxAttempts', () => {
  it('gives up with a fatal MAX_ATTEMPTS after maxAttempts reconnects in a row', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(503));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { ...steady, maxAttempts: 3 } });
    await advance(60_000);
    expect(f.of('sse')).toHaveLength(4); // the first attempt and 3 reconnects
    expect(r.client.status).toMatchObject({ state: 'closed', error: { code: 'MAX_ATTEMPTS', fatal: true } });
    expect((r.client.status.error as { cause?: { status?: number } }).cause?.status).toBe(503);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('maxAttempts: 0 gives up at the first failure', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(500));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { maxAttempts: 0 } });
    await flush();
    expect(r.client.status.error?.code).toBe('MAX_ATTEMPTS');
  });

  it('the attempt count resets after 5 s open, so later failures start over', async () => {
    const { base } = uniqueBase();
    const good = liveStream();
    const f = scriptedFetch().on('sse', status(503), status(503), good).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { ...steady, maxAttempts: 2 } });
    await advance(1000);
    await advance(2000);
    good.push(': hi\n\n');
    await flush();
    expect(r.client.status).toMatchObject({ state: 'open', attempt: 2 });
    await advance(4990);
    expect(r.client.status.attempt).toBe(2);
    await advance(10);
    expect(r.client.status.attempt).toBe(0);
    // Two more failures are allowed again, and the delay is back at initialDelay.
    good.end();
    await flush();
    expect(r.client.status).toMatchObject({ state: 'reconnecting', attempt: 1 });
    await advance(1000);
    expect(f.of('sse')).toHaveLength(4);
  });

  it('a connection that drops before 5 s does not reset the count', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503), sse(block({ id: '1', data: 1 })), status(503), status(503)).otherwise('sse', () => status(503));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { ...steady, maxAttempts: 3 } });
    await advance(60_000);
    expect(r.client.status.error?.code).toBe('MAX_ATTEMPTS');
  });
});
