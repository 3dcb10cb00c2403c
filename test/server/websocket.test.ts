import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type HubMessage } from '../../src/server/index';
import { closeServer, onStop, openWs, startHub, stopAll, upgradeStatus } from './helpers';

afterEach(stopAll);

const isEvent = (m: Record<string, unknown>) => m.type === undefined;

describe('WebSocket', () => {
  it('sends hello first: newest id and ack:true without a cursor, no resumed', async () => {
    const { hub, wsUrl } = await startHub({ firstId: 0, heartbeat: 15000 });
    hub.publish('message', 'a');
    const c = await openWs(wsUrl);
    await c.until((m) => m.length >= 1);
    expect(c.messages[0]).toEqual({ type: 'hello', heartbeat: 15000, ack: true, id: '1' });
    hub.publish('chat', { text: 'hi' });
    await c.until((m) => m.length >= 2);
    expect(c.messages[1]).toEqual({ id: '2', event: 'chat', data: { text: 'hi' } });
  });

  it('replays after lastEventId in one frame (an array), then goes live', async () => {
    const { hub, wsUrl } = await startHub({ firstId: 0 });
    for (let i = 1; i <= 5; i++) hub.publish('message', i);
    const c = await openWs(`${wsUrl}?lastEventId=2`);
    await c.until((m) => m.filter(isEvent).length === 3);
    expect(c.messages[0]).toEqual({ type: 'hello', heartbeat: 15000, resumed: true, ack: true });
    expect(c.frames).toHaveLength(2);
    expect(JSON.parse(c.frames[1])).toEqual([3, 4, 5].map((i) => ({ id: String(i), event: 'message', data: i })));
  });

  it('says resumed:false after a gap and replays what it holds', async () => {
    const { hub, wsUrl } = await startHub({ firstId: 0, history: 2 });
    for (let i = 1; i <= 5; i++) hub.publish('message', i);
    const c = await openWs(`${wsUrl}?lastEventId=1`);
    await c.until((m) => m.filter(isEvent).length === 2);
    expect(c.messages[0]).toMatchObject({ type: 'hello', resumed: false });
    expect(c.messages[0]).not.toHaveProperty('id');
    expect(c.messages.filter(isEvent).map((m) => m.id)).toEqual(['4', '5']);
  });

  it('batches a burst published in one tick into one frame, for every client', async () => {
    const { hub, wsUrl } = await startHub();
    const a = await openWs(wsUrl);
    const b = await openWs(`${wsUrl}?lastEventId=0`);
    await a.until((m) => m[0]?.type === 'hello');
    await b.until((m) => m[0]?.type === 'hello');
    for (let i = 0; i < 100; i++) hub.publish('message', i);
    await a.until((m) => m.filter(isEvent).length === 100);
    await b.until((m) => m.filter(isEvent).length === 100);
    // hello + one frame holding the whole burst
    expect(a.frames).toHaveLength(2);
    expect(b.frames).toHaveLength(2);
    expect(a.frames[1]).toBe(b.frames[1]);
    expect((JSON.parse(a.frames[1]) as unknown[]).length).toBe(100);
  });

  it('delivers a burst larger than the history completely to a client at the live head', async () => {
    const { hub, wsUrl } = await startHub({ firstId: 0, history: 5 });
    const c = await openWs(wsUrl);
    await c.until((m) => m[0]?.type === 'hello');
    for (let i = 1; i <= 50; i++) hub.publish('message', i);
    await c.until((m) => m.filter(isEvent).length === 50);
    expect(c.messages.filter(isEvent).map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    expect(hub.stats().history).toBe(5);
  });

  it('caps a frame at 512 events', async () => {
    const { hub, wsUrl } = await startHub({ history: 2000 });
    const c = await openWs(wsUrl);
    await c.until((m) => m[0]?.type === 'hello');
    for (let i = 0; i < 1100; i++) hub.publish('message', i);
    await c.until((m) => m.filter(isEvent).length === 1100);
    expect(c.frames.slice(1).map((f) => (JSON.parse(f) as unknown[]).length)).toEqual([512, 512, 76]);
    expect(c.messages.filter(isEvent).map((m) => m.data)).toEqual(Array.from({ length: 1100 }, (_, i) => i));
  });

  it('answers {"type":"ping"} with a pong and pings every heartbeat', async () => {
    const { wsUrl } = await startHub({ heartbeat: 50 });
    const c = await openWs(wsUrl);
    c.send({ type: 'ping' });
    await c.until((m) => m.some((x) => x.type === 'pong'));
    await c.until((m) => m.filter((x) => x.type === 'ping').length >= 2);
  });

  it('hands each mid to onMessage once and acks every frame, duplicates included', async () => {
    const received: { msg: HubMessage; transport: string; url?: string }[] = [];
    const { wsUrl } = await startHub({ onMessage: (msg, ctx) => received.push({ msg, transport: ctx.transport, url: ctx.req.url }) });
    const c = await openWs(`${wsUrl}?cid=me`);
    c.send([
      { event: 'typing', data: { user: 'ann' }, mid: 'm1' },
      { event: 'typing', data: { user: 'bob' }, mid: 'm2' },
    ]);
    c.send({ event: 'typing', data: { user: 'ann' }, mid: 'm1' }); // a re-send after a reconnect
    c.send({ event: 'chat', mid: 'm3' });
    await c.until((m) => m.filter((x) => x.type === 'ack').length === 3);
    expect(c.messages.filter((x) => x.type === 'ack')).toEqual([
      { type: 'ack', mids: ['m1', 'm2'] },
      { type: 'ack', mids: ['m1'] },
      { type: 'ack', mids: ['m3'] },
    ]);
    expect(received.map((r) => r.msg)).toEqual([
      { event: 'typing', data: { user: 'ann' }, mid: 'm1' },
      { event: 'typing', data: { user: 'bob' }, mid: 'm2' },
      { event: 'chat', data: null, mid: 'm3' },
    ]);
    expect(received[0].transport).toBe('websocket');
    expect(received[0].url).toContain('cid=me');
    // the same mid over another connection is still a duplicate
    const d = await openWs(wsUrl);
    d.send({ event: 'typing', data: {}, mid: 'm2' });
    await d.until((m) => m.some((x) => x.type === 'ack'));
    expect(received).toHaveLength(3);
  });

  it('skips a malformed frame or invalid items and keeps the connection', async () => {
    const received: HubMessage[] = [];
    const { wsUrl } = await startHub({ onMessage: (msg) => received.push(msg) });
    const c = await openWs(wsUrl);
    c.send('{not json');
    c.send([{ event: 'x' }, { mid: 'y' }, { event: 'ok', data: 1, mid: 'm1' }]);
    await c.until((m) => m.some((x) => x.type === 'ack'));
    expect(c.messages.find((x) => x.type === 'ack')).toEqual({ type: 'ack', mids: ['m1'] });
    expect(received).toEqual([{ event: 'ok', data: 1, mid: 'm1' }]);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('closes 1009 on a frame over maxMessageBytes', async () => {
    const { wsUrl } = await startHub({ maxMessageBytes: 1024 });
    const c = await openWs(wsUrl);
    c.send({ event: 'big', data: 'x'.repeat(2000), mid: 'm' });
    expect((await c.closed).code).toBe(1009);
  });

  it('refuses the upgrade 403 for a disallowed Origin and accepts an allowed one', async () => {
    const { wsUrl } = await startHub({ allowOrigins: ['https://app.example.com'] });
    expect(await upgradeStatus(wsUrl, { Origin: 'https://evil.example.com' })).toBe(403);
    const ok = await openWs(wsUrl, { headers: { Origin: 'https://app.example.com' } });
    await ok.until((m) => m[0]?.type === 'hello');
    const noOrigin = await openWs(wsUrl);
    await noOrigin.until((m) => m[0]?.type === 'hello');
  });

  it('accepts then closes 4401 when authenticate says no; passes the access_token query', async () => {
    const { wsUrl } = await startHub({
      authenticate: async (req) => new URL(req.url ?? '', 'http://x').searchParams.get('access_token') === 'good',
    });
    const bad = await openWs(`${wsUrl}?access_token=bad`);
    expect(await bad.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    expect(bad.messages).toEqual([]);
    const good = await openWs(`${wsUrl}?access_token=good`);
    await good.until((m) => m[0]?.type === 'hello');
  });

  it('closes 1011 and reports when authenticate throws', async () => {
    const errors: unknown[] = [];
    const { wsUrl } = await startHub({
      authenticate: () => {
        throw new Error('db down');
      },
      onError: (e) => errors.push(e),
    });
    const c = await openWs(wsUrl);
    expect((await c.closed).code).toBe(1011);
    expect(errors).toHaveLength(1);
  });
});

describe('handleUpgrade', () => {
  async function plainServer(options: Parameters<typeof createHub>[0]) {
    const hub = createHub(options);
    const server = http.createServer((_req, res) => res.end('app'));
    const others: string[] = [];
    server.on('upgrade', (req, socket, head) => {
      if (!hub.handleUpgrade(req, socket, head)) {
        others.push(req.url ?? '');
        socket.destroy();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onStop(async () => {
      await hub.close();
      await closeServer(server);
    });
    return { hub, others, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('with a path option serves exactly {path}/ws and leaves other upgrades alone', async () => {
    const { url, others } = await plainServer({ path: '/rt/' });
    const c = await openWs(`${url}/rt/ws`);
    await c.until((m) => m[0]?.type === 'hello');
    await expect(openWs(`${url}/other/ws`)).rejects.toThrow();
    await expect(openWs(`${url}/rt/wsx`)).rejects.toThrow();
    expect(others).toEqual(['/other/ws', '/rt/wsx']);
  });

  it('without a path option serves any path ending in /ws', async () => {
    const { url, others } = await plainServer({});
    const c = await openWs(`${url}/anything/ws?lastEventId=0`);
    await c.until((m) => m[0]?.type === 'hello');
    await expect(openWs(`${url}/socket`)).rejects.toThrow();
    expect(others).toEqual(['/socket']);
  });
});

describe('a client that resets a refused upgrade', () => {
  /** Collects uncaught exceptions (an unhandled socket 'error' event) instead of letting them end the process. */
  async function uncaughtDuring(fn: () => Promise<void>): Promise<unknown[]> {
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.prependListener('uncaughtException', onUncaught);
    try {
      await fn();
      // let every queued 'error' event of the destroyed sockets be emitted
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    return errors;
  }

  async function connect(port: number): Promise<net.Socket> {
    const socket = net.connect(port, '127.0.0.1');
    onStop(() => {
      socket.destroy();
    });
    await new Promise<void>((r) => socket.once('connect', r));
    return socket;
  }

  const upgrade = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

  it('leaves the process running when the hub refuses it (attach: 404 for another path)', async () => {
    const { port } = await startHub();
    const errors = await uncaughtDuring(async () => {
      for (let i = 0; i < 20; i++) {
        const socket = await connect(port);
        socket.write(upgrade('/rt/nope'));
        socket.resetAndDestroy();
        await new Promise((r) => socket.once('close', r));
      }
    });
    expect(errors.map(String)).toEqual([]);
  });

  it('leaves the process running when the hub refuses it 503 (closed while authenticate ran)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const called = new Promise<void>((r) => (entered = r));
    const { hub, port } = await startHub({ authenticate: async () => (entered(), await gate, true) });
    const errors = await uncaughtDuring(async () => {
      const socket = await connect(port);
      socket.write(upgrade('/rt/ws'));
      await called;
      const closed = hub.close();
      socket.resetAndDestroy();
      release();
      await closed;
      await new Promise((r) => socket.once('close', r));
    });
    expect(errors.map(String)).toEqual([]);
  });
});
