// @vitest-environment jsdom
/**
 * The client's life through its public API: status snapshots, handlers and their disposers,
 * sends, close/connect, offline/online, resume and dedupe, debug output without secrets, and
 * leaks (timers and global listeners) after close().
 */
import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../../src/client';
import type { WebSocketConstructor } from '../../src/types';
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

const { cleanups, setup, server, setOnline } = useRigs();

describe('status', () => {
  it('idle before connect; snapshots are frozen and replaced, never mutated', async () => {
    const { base, ws: url } = uniqueBase();
    server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket }, false);
    const idle = r.client.status;
    expect(idle).toEqual({ state: 'idle', transport: null, attempt: 0, lastEventId: undefined });
    expect(Object.isFrozen(idle)).toBe(true);
    expect(() => {
      (idle as { state: string }).state = 'open';
    }).toThrow(TypeError);
    r.client.connect();
    await advance(10);
    expect(idle.state).toBe('idle'); // the old snapshot is untouched
    expect(r.client.status).not.toBe(idle);
    expect(r.client.status).toBe(r.statuses.at(-1));
    expect(r.statuses.every((s) => Object.isFrozen(s))).toBe(true);
    expect(new Set(r.statuses).size).toBe(r.statuses.length);
    expect(r.states()).toEqual(['connecting', 'connecting', 'open']);
    const same = r.client.status;
    expect(r.client.status).toBe(same); // no change, no new object
  });

  it('onStatus, onError and on return disposers; once fires once', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, reconnect: steady });
    const seen = vi.fn();
    const offStatus = r.client.onStatus(seen);
    const errs = vi.fn();
    const offError = r.client.onError(errs);
    const chat = vi.fn();
    const offChat = r.client.on('chat', chat);
    const first = vi.fn();
    r.client.once('chat', first);
    await advance(10);
    s.send({ event: 'chat', data: 1 });
    s.send({ event: 'chat', data: 2 });
    expect(chat).toHaveBeenCalledTimes(2);
    expect(chat).toHaveBeenCalledWith(1, { id: undefined, event: 'chat', data: 1, transport: 'websocket' });
    expect(first).toHaveBeenCalledTimes(1);
    offChat();
    offStatus();
    const statusCalls = seen.mock.calls.length;
    expect(statusCalls).toBeGreaterThan(0);
    s.send({ event: 'chat', data: 3 });
    s.close(1006);
    await advance(10);
    expect(errs).toHaveBeenCalledTimes(1);
    offError();
    await advance(1100);
    expect(r.client.status.state).toBe('open');
    s.close(1006);
    await advance(10);
    expect(chat).toHaveBeenCalledTimes(2);
    expect(seen).toHaveBeenCalledTimes(statusCalls);
    expect(errs).toHaveBeenCalledTimes(1);
    expect(r.errors.length).toBeGreaterThanOrEqual(2); // the rig's own handler still hears them
  });

  it('off removes a handler; a throwing handler is reported as HANDLER_ERROR and the others still run', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    const boom = new Error('handler bug');
    const good = vi.fn();
    const removed = vi.fn();
    r.client.on('chat', () => {
      throw boom;
    });
    r.client.on('chat', good);
    r.client.on('chat', removed);
    r.client.off('chat', removed);
    await advance(10);
    s.send({ event: 'chat', data: 'x' });
    expect(good).toHaveBeenCalledTimes(1);
    expect(removed).not.toHaveBeenCalled();
    expect(r.messages).toHaveLength(1);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'HANDLER_ERROR', cause: boom, fatal: false })]);
    expect(r.client.status.state).toBe('open');
  });

  it('server events named open, error and * are ordinary events', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    const got: string[] = [];
    for (const name of ['open', 'error', '*', 'close']) r.client.on(name, (d) => got.push(`${name}:${String(d)}`));
    await advance(10);
    s.send([{ event: 'open', data: 1 }, { event: 'error', data: 2 }, { event: '*', data: 3 }, { event: 'close', data: 4 }]);
    expect(got).toEqual(['open:1', 'error:2', '*:3', 'close:4']);
    expect(r.errors).toEqual([]);
    expect(r.client.status.state).toBe('open');
  });
});

describe('send', () => {
  it('queues while not open and flushes in order on open (WebSocket), each with its own mid', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket }, false);
    const done: string[] = [];
    const sends = ['a', 'b', 'c'].map((t) => r.client.send('chat', { t }).then(() => done.push(t)));
    await flush();
    expect(done).toEqual([]);
    r.client.connect();
    await advance(10);
    await Promise.all(sends);
    expect(done).toEqual(['a', 'b', 'c']);
    const msgs = s.messages() as Array<{ event: string; data: { t: string }; mid: string }>;
    expect(msgs.map((m) => m.data.t)).toEqual(['a', 'b', 'c']);
    expect(msgs.every((m) => m.event === 'chat' && typeof m.mid === 'string' && m.mid.length > 0)).toBe(true);
    expect(new Set(msgs.map((m) => m.mid)).size).toBe(3);
  });

  it('WebSocket with server acks: an unacknowledged send goes again after a reconnect with its mid; an acked one does not', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello', ack: true })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, reconnect: steady });
    await advance(10);
    await r.client.send('chat', 'a');
    await r.client.send('chat', 'b');
    await advance(5);
    const [a, b] = s.messages() as Array<{ data: string; mid: string }>;
    s.send({ type: 'ack', mids: [a!.mid] });
    s.close(1006);
    await advance(1010); // close (4 ms) + backoff (1000 ms) + open (4 ms)
    await advance(10); // the re-sent frame's delivery (4 ms)
    expect(s.sockets).toHaveLength(2);
    const again = (s.messages() as Array<{ data: string; mid: string }>).slice(2);
    expect(again).toEqual([{ event: 'chat', data: 'b', mid: b!.mid }]);
  });

  it('beyond maxQueue, send rejects with QUEUE_FULL', async () => {
    const { base } = uniqueBase();
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, maxQueue: 2 }, false);
    const a = r.client.send('x', 1);
    const b = r.client.send('x', 2);
    await expect(r.client.send('x', 3)).rejects.toMatchObject({ name: 'SurewireError', code: 'QUEUE_FULL' });
    r.client.close();
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('close() rejects queued sends with CLOSED; send after close() rejects too', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch(); // sse hangs: never opens
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch });
    const queued = r.client.send('x', 1);
    await flush();
    r.client.close();
    await expect(queued).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(r.client.send('x', 2)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('SSE: one POST {send} with a JSON array; 2xx resolves, 4xx rejects with SEND_REJECTED, 5xx is retried with the same mid', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on('sse', stream).on('send', status(204), status(422), status(503), status(200));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, token: 'tk', reconnect: steady });
    const a = r.client.send('chat', { n: 1 });
    const b = r.client.send('chat', { n: 2 });
    await flush();
    stream.push(': hi\n\n');
    await flush();
    await expect(Promise.all([a, b])).resolves.toBeDefined();
    const first = f.of('send')[0]!;
    expect(first.init.method).toBe('POST');
    expect(first.init.headers).toMatchObject({ 'Content-Type': 'application/json', Authorization: 'Bearer tk' });
    expect(first.json).toEqual([
      { event: 'chat', data: { n: 1 }, mid: expect.any(String) },
      { event: 'chat', data: { n: 2 }, mid: expect.any(String) },
    ]);
    await expect(r.client.send('chat', { n: 3 })).rejects.toMatchObject({ code: 'SEND_REJECTED', status: 422 });
    let resolved = false;
    const c = r.client.send('chat', { n: 4 }).then(() => (resolved = true));
    await flush();
    expect(f.of('send')).toHaveLength(3);
    expect(resolved).toBe(false);
    await advance(1000);
    await c;
    const [failed, retried] = f.of('send').slice(2) as Array<{ json: Array<{ mid: string }> }>;
    expect(retried.json[0]!.mid).toBe(failed.json[0]!.mid);
    expect(r.client.status.state).toBe('open'); // a failed send does not touch the connection
  });

  it('send with a bad event name is answered with the fix', async () => {
    const { base } = uniqueBase();
    const r = setup({ url: base, transports: ['sse'], fetch: scriptedFetch().fetch }, false);
    await expect(r.client.send('' as never, 1 as never)).rejects.toMatchObject({ code: 'BAD_OPTIONS', message: expect.stringMatching(/needs an event name/) });
  });
});

describe('close and connect', () => {
  it('close() is final until connect(), safe twice, and keeps handlers; connect() resumes from the same cursor', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket, i) => {
      if (i === 0) socket.send(JSON.stringify({ id: '7', event: 'chat', data: 'a' }));
    });
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket });
    const chat = vi.fn();
    r.client.on('chat', chat);
    await advance(10);
    r.client.close();
    r.client.close();
    expect(r.client.status).toMatchObject({ state: 'closed', transport: null, lastEventId: '7' });
    expect(r.client.status.error).toBeUndefined();
    await advance(60_000);
    expect(ws.urls).toHaveLength(1);
    r.client.connect();
    await advance(10);
    expect(ws.query(1).get('lastEventId')).toBe('7');
    s.send({ id: '8', event: 'chat', data: 'b' });
    expect(chat.mock.calls.map((c) => c[0])).toEqual(['a', 'b']);
    expect(r.errors).toEqual([]);
  });

  it('connect() while already connecting or open does nothing', async () => {
    const { base, ws: url } = uniqueBase();
    server(url);
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket });
    r.client.connect();
    await advance(10);
    r.client.connect();
    await advance(10);
    expect(ws.urls).toHaveLength(1);
  });

  it('autoConnect (the default) connects from createClient', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const client = createClient({ url: base, WebSocket: trackedWebSocket().WebSocket });
    cleanups.push(() => client.close());
    expect(client.status.state).toBe('connecting');
    await advance(10);
    expect(s.sockets).toHaveLength(1);
    expect(client.status.state).toBe('open');
  });
});

describe('offline', () => {
  it('no attempt is spent while offline; online connects at once', async () => {
    setOnline(false);
    const { base, ws: url } = uniqueBase();
    server(url);
    const ws = trackedWebSocket();
    const f = scriptedFetch();
    const r = setup({ url: base, WebSocket: ws.WebSocket, fetch: f.fetch });
    await advance(120_000);
    expect(ws.urls).toHaveLength(0);
    expect(f.calls).toHaveLength(0);
    expect(r.client.status).toMatchObject({ state: 'connecting', attempt: 0 });
    setOnline(true);
    expect(ws.urls).toHaveLength(1); // at once
    await advance(10);
    expect(r.client.status.state).toBe('open');
  });

  it('a connection lost while offline waits for online without spending attempts, then reconnects at once', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send('{"type":"hello"}'));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, reconnect: { ...steady, maxAttempts: 1 } });
    await advance(10);
    setOnline(false);
    s.close(1006);
    await advance(10);
    expect(r.client.status.state).toBe('reconnecting');
    await advance(600_000);
    expect(ws.urls).toHaveLength(1);
    expect(r.client.status.attempt).toBe(0);
    setOnline(true);
    expect(ws.urls).toHaveLength(2);
    await advance(10);
    expect(r.client.status.state).toBe('open');
  });

  it('a connection that lived through offline is replaced at once on online (a network switch leaves it dead), from the cursor', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify([{ type: 'hello' }, { id: '7', event: 'e', data: 7 }])));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket });
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'open', lastEventId: '7' });
    setOnline(false);
    await advance(1000);
    expect(ws.urls).toHaveLength(1); // the socket did not notice: still 'open'
    setOnline(true);
    expect(ws.urls).toHaveLength(2); // at once, not after heartbeat.timeout
    expect(new URL(ws.urls[1]!).searchParams.get('lastEventId')).toBe('7');
    await advance(10);
    expect(s.sockets[0]!.readyState).toBe(3);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'websocket' });
    expect(r.messages.map((m) => m.data)).toEqual([7]);
  });

  it('online with no offline before it leaves an open connection alone', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send('{"type":"hello"}'));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket });
    await advance(10);
    window.dispatchEvent(new Event('online'));
    await advance(10);
    expect(ws.urls).toHaveLength(1);
    expect(r.client.status.state).toBe('open');
  });

  it("online during a backoff does not cut short a server's Retry-After", async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503, { 'retry-after': '60' })).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await flush();
    await advance(10_000);
    window.dispatchEvent(new Event('online'));
    await flush();
    expect(f.calls).toHaveLength(1);
    await advance(50_000);
    expect(f.calls).toHaveLength(2);
  });

  it('online during a backoff reconnects at once', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(503)).otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { ...steady, initialDelay: 20_000 } });
    await flush();
    expect(f.calls).toHaveLength(1);
    window.dispatchEvent(new Event('online'));
    await flush();
    expect(f.calls).toHaveLength(2);
  });
});

describe('resume and dedupe', () => {
  it("a hello's id becomes the cursor when the client had none, and reconnects carry it", async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket, i) => {
      if (i === 0) socket.send(JSON.stringify({ type: 'hello', heartbeat: 15000, id: '42' }));
    });
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, reconnect: steady });
    await advance(10);
    expect(ws.query(0).has('lastEventId')).toBe(false);
    expect(r.client.status).toMatchObject({ state: 'open', lastEventId: '42' });
    expect(r.client.status.resumed).toBeUndefined();
    expect(r.messages).toEqual([]); // hello is control
    s.close(1006);
    await advance(1010);
    expect(ws.query(1).get('lastEventId')).toBe('42');
  });

  it('status.resumed shows what the hello said, and is reset on a new connection without one', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket, i) => {
      if (i === 0) socket.send(JSON.stringify({ type: 'hello', resumed: false }));
      else socket.send(JSON.stringify({ id: '11', data: 1 }));
    });
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, lastEventId: '10', reconnect: steady });
    await advance(10);
    expect(ws.query(0).get('lastEventId')).toBe('10');
    expect(r.client.status).toMatchObject({ resumed: false, lastEventId: '10' });
    s.close(1006);
    await advance(1010);
    expect(r.client.status.resumed).toBeUndefined();
  });

  it('SSE: the cursor goes as lastEventId query and Last-Event-ID header; the hello id is the start', async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await flush();
    first.push(helloBlock({ heartbeat: 15000 }, '100'));
    await flush();
    expect(r.client.status.lastEventId).toBe('100');
    first.push(block({ id: '101', event: 'chat', data: 1 }) + block({ event: 'chat', data: 'no id' }));
    await flush();
    expect(r.client.status.lastEventId).toBe('101'); // an event without an id does not move it
    first.end();
    await flush();
    await advance(1000);
    const again = f.of('sse')[1]!;
    expect(again.query.get('lastEventId')).toBe('101');
    expect(again.init.headers?.['Last-Event-ID']).toBe('101');
    expect(f.of('sse')[0]!.init.headers?.['Last-Event-ID']).toBeUndefined();
  });

  it('each id is delivered once across a reconnect that replays; events without id always arrive', async () => {
    const { base, ws: url } = uniqueBase();
    const ev = (id: string) => ({ id, event: 'n', data: Number(id) });
    const s = server(url, (socket, i) => {
      if (i === 0) socket.send(JSON.stringify([ev('1'), ev('2'), ev('3')]));
      // A server that replays too much (from an older id) and repeats an event live.
      else socket.send(JSON.stringify([ev('2'), ev('3'), { event: 'n', data: 'live' }, ev('4'), ev('4'), ev('5')]));
    });
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, reconnect: steady });
    await advance(10);
    s.close(1006);
    await advance(1010);
    expect(ws.query(1).get('lastEventId')).toBe('3');
    expect(r.messages.map((m) => m.data)).toEqual([1, 2, 3, 'live', 4, 5]);
    expect(r.client.status.lastEventId).toBe('5');
  });

  it('poll: polls again at once carrying the newest id; a cursor-less first poll gets the hello id; empty answers re-poll too', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('poll', sse(helloBlock({ heartbeat: 15000 }, '40')), sse(block({ id: '41', data: 41 }) + block({ id: '42', data: 42 })), sse(': nothing new\n\n'))
      .otherwise('poll', () => liveStream());
    const r = setup({ url: base, transports: ['poll'], fetch: f.fetch });
    await flush();
    const polls = f.of('poll');
    expect(polls.map((c) => c.query.get('lastEventId'))).toEqual([null, '40', '42', '42']);
    expect(polls.map((c) => c.init.headers?.['Last-Event-ID'])).toEqual([undefined, '40', '42', '42']);
    expect(r.messages.map((m) => m.data)).toEqual([41, 42]);
    expect(r.client.status).toMatchObject({ state: 'open', transport: 'poll', lastEventId: '42', attempt: 0 });
    expect(r.errors).toEqual([]);
  });

  it('poll: every answer counts as traffic for the heartbeat, even an empty one', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('poll', () => {
      const p = liveStream();
      setTimeout(() => p.end(), 20_000); // a server's poll timeout: 200 with an empty body
      return p;
    });
    const r = setup({ url: base, transports: ['poll'], fetch: f.fetch, heartbeat: { timeout: 30_000 } });
    for (let i = 0; i < 6; i++) await advance(20_000);
    expect(r.codes()).toEqual([]);
    expect(r.client.status.state).toBe('open');
    expect(f.of('poll').length).toBeGreaterThanOrEqual(6);
  });

  it('status.resumed is true when the hello says the server replayed everything', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify([{ type: 'hello', resumed: true }, { id: '6', data: 6 }])));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, lastEventId: '5' });
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'open', resumed: true, lastEventId: '6' });
    expect(r.messages.map((m) => m.data)).toEqual([6]);
  });

  it('a half-received SSE event is discarded and does not move the cursor', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('sse', sse(block({ id: '1', data: 1 }) + 'id: 2\ndata: 2\n')) // no blank line: torn
      .otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await flush();
    expect(r.messages.map((m) => m.data)).toEqual([1]);
    expect(r.client.status.lastEventId).toBe('1');
    await advance(1000);
    expect(f.of('sse')[1]!.query.get('lastEventId')).toBe('1');
  });

  it('decode: text and a decode function', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, decode: 'text' });
    await advance(10);
    s.send({ event: 'a', data: { x: 1 } });
    s.send({ event: 'a', data: 'plain' });
    expect(r.messages.map((m) => m.data)).toEqual(['{"x":1}', 'plain']);

    const f = scriptedFetch().on('sse', sse(block({ event: 'up', data: 'shout' })));
    const r2 = setup({ url: uniqueBase().base, transports: ['sse'], fetch: f.fetch, decode: (raw, event) => `${event}:${raw.toUpperCase()}` });
    await flush();
    expect(r2.messages.map((m) => m.data)).toEqual(['up:SHOUT']);
  });
});

describe('debug and secrets', () => {
  const TOKEN = 'S3CRET-t0ken/with+chars';
  const leaks = (text: string) => text.includes(TOKEN) || text.includes(encodeURIComponent(TOKEN));
  const deep = (e: unknown, depth = 0): string => {
    if (depth > 5 || e == null) return '';
    if (typeof e !== 'object') return String(e);
    const err = e as { message?: string; stack?: string; cause?: unknown; raw?: string };
    return [err.message, err.stack, err.raw, deep(err.cause, depth + 1)].join('\n');
  };

  it('debug narrates attempts, choices, delays and closes; neither logs nor errors contain the token', async () => {
    const { base } = uniqueBase(); // no WebSocket server: refused
    class Throwing {
      constructor(url: string) {
        throw new SyntaxError(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`);
      }
    }
    const f = scriptedFetch().on('sse', status(401), status(503, { 'retry-after': '2' })).on('poll', new TypeError(`request to ${base}/poll?access_token=${TOKEN} failed`));
    const r = setup({ url: base, fetch: f.fetch, token: () => TOKEN, WebSocket: Throwing as unknown as WebSocketConstructor, reconnect: steady });
    await advance(10);
    await advance(2000);
    const lines = r.log.map(([m, d]) => `${m} ${JSON.stringify(d ?? {})}`);
    const text = lines.join('\n');
    expect(text).toMatch(/trying websocket/);
    expect(text).toMatch(/trying sse/);
    expect(text).toMatch(/ended \(http\) → reauth/);
    expect(text).toMatch(/reconnecting in 2000 ms/);
    expect(leaks(text)).toBe(false);
    expect(r.errors.length).toBeGreaterThanOrEqual(3);
    for (const e of r.errors) expect(leaks(deep(e)), deep(e)).toBe(false);
    // The token did go where it belongs.
    expect(f.of('sse')[0]!.init.headers?.Authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('debug: true logs through console.debug', async () => {
    const spy = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const { base } = uniqueBase();
    const client = createClient({ url: base, transports: ['sse'], fetch: scriptedFetch().fetch, debug: true });
    cleanups.push(() => client.close(), () => spy.mockRestore());
    expect(spy.mock.calls.some((c) => String(c[0]).startsWith('[surewire] attempt 1: trying sse'))).toBe(true);
  });
});

describe('leaks', () => {
  function watchListeners() {
    const live = new Map<string, number>();
    const targets = [window, document] as const;
    const spies = targets.flatMap((target) => {
      const name = target === window ? 'window' : 'document';
      const addOriginal = target.addEventListener.bind(target);
      const removeOriginal = target.removeEventListener.bind(target);
      const add = vi.spyOn(target, 'addEventListener').mockImplementation((type: string, fn: EventListenerOrEventListenerObject, opts?: boolean | AddEventListenerOptions) => {
        live.set(`${name}:${type}`, (live.get(`${name}:${type}`) ?? 0) + 1);
        addOriginal(type, fn, opts);
      });
      const remove = vi.spyOn(target, 'removeEventListener').mockImplementation((type: string, fn: EventListenerOrEventListenerObject, opts?: boolean | EventListenerOptions) => {
        live.set(`${name}:${type}`, (live.get(`${name}:${type}`) ?? 0) - 1);
        removeOriginal(type, fn, opts);
      });
      return [add, remove];
    });
    cleanups.push(() => spies.forEach((s) => s.mockRestore()));
    return {
      added: () => [...live.keys()],
      remaining: () => [...live].filter(([, n]) => n !== 0),
    };
  }

  it('open over WebSocket with pings running: close() leaves no timer and no window/document listener', async () => {
    const listeners = watchListeners();
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, heartbeat: { interval: 1000, timeout: 5000 } });
    await advance(2010);
    expect(r.client.status.state).toBe('open');
    expect(listeners.added()).toEqual(expect.arrayContaining(['window:online', 'window:offline', 'document:visibilitychange']));
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    r.client.close();
    await advance(10); // mock-socket delivers the close through a 4 ms timer
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners.remaining()).toEqual([]);
    expect(s.sockets[0]!.readyState).toBe(3);
  });

  it('while backing off, and while an SSE stream is open: close() clears everything and cancels the body', async () => {
    const listeners = watchListeners();
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on('sse', status(503), stream);
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await flush();
    expect(r.client.status.state).toBe('reconnecting');
    expect(vi.getTimerCount()).toBe(1);
    r.client.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners.remaining()).toEqual([]);

    r.client.connect();
    await flush();
    stream.push(': hi\n\n');
    await flush();
    expect(r.client.status.state).toBe('open');
    r.client.close();
    await flush();
    expect(vi.getTimerCount()).toBe(0);
    expect(stream.cancelled).toBe(true);
    expect(f.of('sse')[1]!.init.signal?.aborted).toBe(true);
    expect(listeners.remaining()).toEqual([]);
  });

  it('a poll in flight and a send retry pending: close() clears both', async () => {
    const listeners = watchListeners();
    const { base } = uniqueBase();
    const f = scriptedFetch().on('poll', sse(': ok\n\n')).on('send', status(503));
    const r = setup({ url: base, transports: ['poll'], fetch: f.fetch, reconnect: steady });
    const sent = r.client.send('x', 1);
    await flush();
    expect(f.of('send')).toHaveLength(1);
    expect(f.of('poll').length).toBeGreaterThanOrEqual(2);
    r.client.close();
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED' });
    await flush();
    expect(vi.getTimerCount()).toBe(0);
    expect(f.of('poll').at(-1)!.init.signal?.aborted).toBe(true);
    expect(listeners.remaining()).toEqual([]);
  });

  it('a fatal end removes the global listeners too', async () => {
    const listeners = watchListeners();
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(403));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch });
    await flush();
    expect(r.client.status.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners.remaining()).toEqual([]);
  });
});

describe('close() from inside a handler', () => {
  it('onError → close() on the first failure: no further transport is tried, nothing is left', async () => {
    const { base } = uniqueBase(); // no WebSocket server: refused
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, fetch: f.fetch });
    r.client.onError(() => r.client.close());
    await advance(10);
    await advance(60_000);
    expect(f.calls).toHaveLength(0);
    expect(r.client.status.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onError → close() on a failure after open: no reconnect is scheduled', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send('{"type":"hello"}'));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket, reconnect: steady });
    await advance(10);
    r.client.onError(() => r.client.close());
    s.close(1006);
    await advance(10);
    await advance(60_000);
    expect(ws.urls).toHaveLength(1);
    expect(r.client.status.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onStatus → close() when the state becomes open: no ping, liveness or stability timer survives, the socket is closed', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, heartbeat: { interval: 1000, timeout: 5000 } });
    r.client.onStatus((st) => {
      if (st.state === 'open') r.client.close();
    });
    await advance(10);
    await advance(10);
    expect(r.client.status.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    expect(s.sockets[0]!.readyState).toBe(3);
  });

  it('onStatus → close() while an attempt is starting: no socket is opened behind it', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket }, false);
    r.client.onStatus((st) => {
      if (st.transport === 'websocket') r.client.close();
    });
    r.client.connect();
    await advance(20);
    expect(r.client.status.state).toBe('closed');
    expect(s.sockets.filter((sock) => sock.readyState === 1)).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onStatus → close() on the first connecting status of connect(): no attempt starts', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket }, false);
    let closed = false;
    r.client.onStatus((st) => {
      if (st.state === 'connecting' && !closed) {
        closed = true;
        r.client.close();
      }
    });
    r.client.connect();
    await advance(20);
    expect(ws.urls).toEqual([]);
    expect(s.sockets).toEqual([]);
    expect(r.client.status.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onStatus → close() when a reconnect is scheduled: it never happens', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(503));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch }, false);
    r.client.onStatus((st) => {
      if (st.state === 'reconnecting') r.client.close();
    });
    r.client.connect();
    await flush();
    await advance(120_000);
    expect(f.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('onError → close() on a BAD_MESSAGE mid-batch: the rest of the batch is not delivered', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, decode: (raw) => {
        const value = JSON.parse(raw) as unknown;
        if (value === 'bad') throw new TypeError('cannot decode');
        return value;
      },
    });
    r.client.onError((e) => {
      if (e.code === 'BAD_MESSAGE') r.client.close();
    });
    await advance(10);
    s.send([{ id: '1', data: 1 }, { id: '2', data: 'bad' }, { id: '3', data: 3 }]);
    expect(r.messages.map((m) => m.data)).toEqual([1]);
    expect(r.client.status.state).toBe('closed');
  });

  it('a handler that closes the client mid-batch: later events of the batch are not delivered, the cursor shows the last one that was', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url);
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    r.client.on('e', (d) => {
      if (d === 2) r.client.close();
    });
    await advance(10);
    s.send([1, 2, 3].map((n) => ({ id: String(n), event: 'e', data: n })));
    expect(r.messages.map((m) => m.data)).toEqual([1, 2]);
    expect(r.client.status).toMatchObject({ state: 'closed', lastEventId: '2' });
  });
});
