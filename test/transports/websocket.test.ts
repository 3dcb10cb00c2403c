import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocketConstructor, WebSocketLike } from '../../src/types';
import type { TransportListener, WireEvent } from '../../src/transports/transport';
import { createWebSocketTransport } from '../../src/transports/websocket';
import { context, recorder, rejection } from './helpers';

const MockWS = MockWebSocket as unknown as WebSocketConstructor;
const json = (data: unknown, event = 'message', id?: string): WireEvent => ({ id, event, format: 'json', data });

type ServerSocket = { send(data: unknown): void; close(o?: { code?: number; reason?: string }): void; on(type: string, cb: (data: unknown) => void): void; url: string };

let seq = 0;
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
  vi.useRealTimers();
});

/** A mock server on a URL of its own, and a transport connected to it. */
async function connect(hooks: Partial<TransportListener> = {}, extra: Parameters<typeof context>[0] = {}) {
  const url = `ws://mock-${++seq}.test/rt/ws`;
  const server = new Server(url, { mock: false });
  servers.push(server);
  const received: string[] = [];
  const socketP = new Promise<ServerSocket>((resolve) => {
    server.on('connection', (s: unknown) => {
      const socket = s as ServerSocket;
      socket.on('message', (data) => received.push(String(data)));
      resolve(socket);
    });
  });
  const rec = recorder(hooks);
  const t = createWebSocketTransport(context({ url, WebSocket: MockWS, ...extra }), rec);
  await rec.opened;
  const socket = await socketP;
  return { rec, t, socket, server, received, url };
}


describe('websocket transport: inbound frames', () => {
  it('turns event objects into json wire events, with activity first', async () => {
    const { rec, socket, t } = await connect();
    socket.send('{"id":"17","event":"chat","data":{"text":"hi"}}');
    socket.send('{"data":[1,2]}');
    socket.send('{"id":18,"data":null}');
    expect(rec.types()).toEqual(['open', 'activity', 'events', 'activity', 'events', 'activity', 'events']);
    expect(rec.eventList()).toEqual([json({ text: 'hi' }, 'chat', '17'), json([1, 2]), json(null, 'message', '18')]);
    expect(rec.eventList()[1]).toHaveProperty('id', undefined);
    t.close();
  });

  it('delivers an array frame as one batch, in order, handling control members in place', async () => {
    const { rec, socket, received, t } = await connect();
    socket.send(JSON.stringify([{ id: '1', data: 'a' }, { id: '2', data: 'b' }, { type: 'hello', heartbeat: 5000, resumed: true }, { id: '3', data: 'c' }, { type: 'ping' }, 7, { id: '4', data: 'd' }]));
    expect(rec.calls.map((c) => c.type)).toEqual(['open', 'activity', 'events', 'hello', 'events', 'bad', 'events']);
    expect(rec.batches()).toEqual([[json('a', 'message', '1'), json('b', 'message', '2')], [json('c', 'message', '3')], [json('d', 'message', '4')]]);
    expect(rec.calls.find((c) => c.type === 'bad')).toMatchObject({ raw: '7' });
    await vi.waitFor(() => expect(received).toEqual(['{"type":"pong"}']));
    t.close();
  });

  it('answers a ping with a pong at once, reports pong, hello and ack, and ignores unknown control', async () => {
    const { rec, socket, received, t } = await connect();
    socket.send('{"type":"ping"}');
    socket.send('{"type":"pong"}');
    socket.send('{"type":"hello","heartbeat":15000,"resumed":false,"id":42,"ack":true}');
    socket.send('{"type":"ack","mids":["m1","m2"]}');
    socket.send('{"type":"future-thing","x":1}');
    expect(rec.calls.filter((c) => c.type !== 'activity')).toEqual([
      { type: 'open' },
      { type: 'pong' },
      { type: 'hello', hello: { heartbeat: 15000, resumed: false, id: '42', ack: true } },
      { type: 'ack', mids: ['m1', 'm2'] },
    ]);
    expect(rec.types().filter((t) => t === 'activity')).toHaveLength(5);
    await vi.waitFor(() => expect(received).toEqual(['{"type":"pong"}']));
    t.close();
  });

  it('reports non-JSON text, JSON primitives, ill-typed events and binary frames as bad; the connection stays', async () => {
    const { rec, socket, t } = await connect();
    socket.send('not json');
    socket.send('42');
    socket.send('"str"');
    socket.send('{"event":5,"data":1}');
    socket.send(new Uint8Array([1, 2, 3]).buffer);
    socket.send('{"data":"still here"}');
    const bad = rec.calls.filter((c) => c.type === 'bad');
    expect(bad.map((c) => c.type === 'bad' && c.raw)).toEqual(['not json', '42', '"str"', '{"event":5,"data":1}', '[binary frame]']);
    expect(bad[0].type === 'bad' && bad[0].cause).toBeInstanceOf(SyntaxError);
    expect(rec.eventList()).toEqual([json('still here')]);
    expect(rec.types()).not.toContain('end');
    t.close();
  });

  it('reports Buffer and Blob frames as bad too', async () => {
    const { rec, socket, t } = await connect();
    socket.send(new Blob(['ab']));
    const target = (socket as unknown as { target: { dispatchEvent(e: unknown): void } }).target;
    // `ws` hands binary frames over as a Buffer.
    target.dispatchEvent(Object.assign(new Event('message'), { data: Buffer.from('abcd') }));
    expect(rec.calls.filter((c) => c.type === 'bad').map((c) => c.type === 'bad' && c.raw)).toEqual(['[binary frame]', '[binary frame]']);
    t.close();
  });
});

describe('websocket transport: outbound', () => {
  it('sends one frame per message and resolves once handed to the socket', async () => {
    const { t, received } = await connect();
    await expect(
      t.send([
        { event: 'typing', data: { user: 'ann' }, mid: 'a1' },
        { event: 'message', data: 'hi', mid: 'a2' },
      ]),
    ).resolves.toBeUndefined();
    await vi.waitFor(() => expect(received).toHaveLength(2));
    expect(received.map((r) => JSON.parse(r))).toEqual([
      { event: 'typing', data: { user: 'ann' }, mid: 'a1' },
      { event: 'message', data: 'hi', mid: 'a2' },
    ]);
    t.close();
  });

  it('ping() sends {"type":"ping"}', async () => {
    const { t, received } = await connect();
    t.ping!();
    await vi.waitFor(() => expect(received).toEqual(['{"type":"ping"}']));
    t.close();
  });

  it('rejects sends with SEND_FAILED before open and after close', async () => {
    const url = `ws://mock-${++seq}.test/rt/ws`;
    const server = new Server(url, { mock: false });
    servers.push(server);
    const rec = recorder();
    const t = createWebSocketTransport(context({ url, WebSocket: MockWS }), rec);
    expect((await rejection(t.send([{ event: 'x', data: 1, mid: 'm' }]))).code).toBe('SEND_FAILED');
    await rec.opened;
    t.close();
    expect((await rejection(t.send([{ event: 'x', data: 1, mid: 'm' }]))).code).toBe('SEND_FAILED');
  });

  it('rejects unserialisable data with BAD_OPTIONS and sends nothing of the batch', async () => {
    const { t, received } = await connect();
    const err = await rejection(t.send([{ event: 'ok', data: 1, mid: 'a' }, { event: 'x', data: 10n, mid: 'b' }]));
    expect(err.code).toBe('BAD_OPTIONS');
    await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual([]);
    t.close();
  });
});

describe('websocket transport: how it ends', () => {
  it('reports a close after open with its code and reason, once', async () => {
    const { rec, socket } = await connect();
    socket.close({ code: 4401, reason: 'token expired' });
    expect(await rec.ended).toEqual({ kind: 'close', code: 4401, reason: 'token expired' });
    expect(rec.types().filter((t) => t === 'end')).toHaveLength(1);
  });

  it('reports an error after open only through the close that follows (fake timers)', async () => {
    vi.useFakeTimers();
    const { FakeWS, sockets } = fakeSockets();
    const rec = recorder();
    createWebSocketTransport(context({ url: 'wss://x.test/ws', WebSocket: FakeWS }), rec);
    const s = sockets[0];
    s.fire('open');
    s.fire('error', {});
    expect(rec.types()).toEqual(['open']);
    s.fire('close', { code: 1006, reason: '' });
    s.fire('close', { code: 1000, reason: '' });
    expect(rec.calls.filter((c) => c.type === 'end')).toEqual([{ type: 'end', failure: { kind: 'close', code: 1006, reason: '' } }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports a server that is not there as a network failure before open', async () => {
    const rec = recorder();
    createWebSocketTransport(context({ url: `ws://nobody-${++seq}.test/ws`, WebSocket: MockWS }), rec);
    const failure = await rec.ended;
    expect(failure.kind).toBe('network');
    expect(rec.types()).toEqual(['end']);
  });

  it('reports a refused handshake (error then close before open) once, as network', async () => {
    const url = `ws://refuse-${++seq}.test/ws`;
    const server = new Server(url, { mock: false, verifyClient: () => false });
    servers.push(server);
    const rec = recorder();
    createWebSocketTransport(context({ url, WebSocket: MockWS }), rec);
    expect((await rec.ended).kind).toBe('network');
    await new Promise((r) => setTimeout(r, 10));
    expect(rec.types()).toEqual(['end']);
  });

  it('reports a close without error before open as network and closes nothing twice', async () => {
    const { FakeWS, sockets } = fakeSockets();
    const rec = recorder();
    createWebSocketTransport(context({ url: 'wss://x.test/ws', WebSocket: FakeWS }), rec);
    sockets[0].readyState = 3;
    sockets[0].fire('close', { code: 1006, reason: '' });
    expect(rec.calls).toEqual([{ type: 'end', failure: { kind: 'network', cause: expect.any(Error) } }]);
    expect(sockets[0].closeCalls).toEqual([]);
  });

  it('close() while CONNECTING closes the socket with 1000, keeps no-op handlers, and reports nothing', async () => {
    const { FakeWS, sockets } = fakeSockets();
    const rec = recorder();
    const t = createWebSocketTransport(context({ url: 'wss://x.test/ws', WebSocket: FakeWS }), rec);
    t.close();
    t.close();
    const s = sockets[0];
    expect(s.closeCalls).toEqual([1000]);
    for (const h of ['onopen', 'onmessage', 'onerror', 'onclose'] as const) expect(typeof s[h]).toBe('function');
    s.fire('error', {});
    s.fire('close', { code: 1006, reason: '' });
    expect(rec.calls).toEqual([]);
  });

  it('close() after open closes with 1000, and nothing leaks through afterwards', async () => {
    const { rec, t, socket, server } = await connect();
    let serverSawClose = false;
    server.on('close', () => void (serverSawClose = true));
    t.close();
    socket.send('{"data":"late"}');
    await vi.waitFor(() => expect(serverSawClose).toBe(true));
    expect(rec.types()).toEqual(['open']);
  });

  it('a listener may close the transport in the middle of an array frame: nothing more is reported or sent', () => {
    const { FakeWS, sockets } = fakeSockets();
    const holder: { t?: { close(): void } } = {};
    const rec = recorder({ hello: () => holder.t!.close() });
    holder.t = createWebSocketTransport(context({ url: 'wss://x.test/ws', WebSocket: FakeWS }), rec);
    const s = sockets[0];
    s.fire('open');
    s.fire('message', { data: JSON.stringify([{ data: 1 }, { type: 'hello' }, { data: 2 }, { type: 'ping' }]) });
    expect(rec.types()).toEqual(['open', 'activity', 'events', 'hello']);
    expect(s.sent).toEqual([]);
    expect(s.closeCalls).toEqual([1000]);
  });
});

describe('websocket transport: URL and platform', () => {
  it.each([
    ['http://h.test/rt/ws', 'ws://h.test/rt/ws?lastEventId=7&access_token=a%2Bb%26c'],
    ['https://h.test/rt/ws?room=1#frag', 'wss://h.test/rt/ws?room=1&lastEventId=7&access_token=a%2Bb%26c'],
    ['wss://h.test/ws?', 'wss://h.test/ws?lastEventId=7&access_token=a%2Bb%26c'],
    ['wss://h.test/ws?a?', 'wss://h.test/ws?a?&lastEventId=7&access_token=a%2Bb%26c'],
  ])('builds %s into %s', (endpoint, expected) => {
    const { FakeWS, sockets } = fakeSockets();
    const t = createWebSocketTransport(context({ url: endpoint, WebSocket: FakeWS, cursor: '7', token: 'a+b&c' }), recorder());
    expect(sockets[0].url).toBe(expected);
    t.close();
  });

  it('adds neither parameter when there is no cursor and no token', () => {
    const { FakeWS, sockets } = fakeSockets();
    createWebSocketTransport(context({ url: 'ws://h.test/ws', WebSocket: FakeWS }), recorder()).close();
    expect(sockets[0].url).toBe('ws://h.test/ws');
  });

  it('resolves a relative URL against location.href', () => {
    const g = globalThis as { location?: unknown };
    g.location = { href: 'https://app.example/chat/index.html?x=1' };
    try {
      const { FakeWS, sockets } = fakeSockets();
      createWebSocketTransport(context({ url: '/rt/ws', WebSocket: FakeWS }), recorder()).close();
      expect(sockets[0].url).toBe('wss://app.example/rt/ws');
    } finally {
      delete g.location;
    }
  });

  it('reports a constructor that throws as network, asynchronously, with the token redacted', async () => {
    const token = 'tok/en?';
    const Throwing = function (url: string) {
      throw new SyntaxError(`Invalid URL: ${url}`);
    } as unknown as WebSocketConstructor;
    const rec = recorder();
    createWebSocketTransport(context({ url: 'ws://h.test/ws', WebSocket: Throwing, token }), rec);
    expect(rec.calls).toEqual([]);
    const failure = await rec.ended;
    expect(failure.kind).toBe('network');
    const text = flatten((failure as { cause: unknown }).cause);
    expect(text).toContain('Invalid URL');
    expect(text).not.toContain(token);
    expect(text).not.toContain(encodeURIComponent(token));
  });

  it('falls back to globalThis.WebSocket, and says how to inject one when there is none', async () => {
    const rec = recorder();
    createWebSocketTransport(context({ url: 'ws://h.test/ws' }), rec);
    const failure = await rec.ended;
    expect((failure as { cause: Error }).cause.message).toMatch(/pass `WebSocket`/);

    const { FakeWS, sockets } = fakeSockets();
    (globalThis as { WebSocket?: unknown }).WebSocket = FakeWS;
    try {
      createWebSocketTransport(context({ url: 'ws://h.test/ws' }), recorder()).close();
      expect(sockets).toHaveLength(1);
    } finally {
      delete (globalThis as { WebSocket?: unknown }).WebSocket;
    }
  });
});

/** Every message of an error and of its causes, stack included. */
function flatten(error: unknown): string {
  let out = '';
  for (let e = error as { message?: string; stack?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) out += `${e.message}\n${e.stack}\n`;
  return out;
}

/** A hand-driven WebSocket, for the paths mock-socket cannot produce. */
function fakeSockets() {
  const sockets: FakeSocket[] = [];
  class FakeSocket implements WebSocketLike {
    readyState = 0;
    onopen: WebSocketLike['onopen'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    sent: string[] = [];
    closeCalls: Array<number | undefined> = [];
    constructor(public url: string) {
      sockets.push(this);
    }
    send(data: string) {
      this.sent.push(data);
    }
    close(code?: number) {
      this.closeCalls.push(code);
      this.readyState = 2;
    }
    fire(type: 'open' | 'error' | 'close' | 'message', ev: any = {}) {
      if (type === 'open') this.readyState = 1;
      if (type === 'close') this.readyState = 3;
      (this as any)[`on${type}`]?.(ev);
    }
  }
  return { FakeWS: FakeSocket as unknown as WebSocketConstructor, sockets };
}
