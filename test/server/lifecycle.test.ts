import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../src/server/index';
import { closeServer, once, onStop, openSse, openStalledSse, openStalledWs, openWs, parseSse, startHub, stopAll, upgradeStatus, waitFor } from './helpers';

afterEach(stopAll);

const isEvent = (m: Record<string, unknown>) => m.type === undefined;

describe('connections()', () => {
  it('lists every live WebSocket, SSE stream and pending poll with its request', async () => {
    const { hub, base, wsUrl } = await startHub({ firstId: 0, pollTimeout: 10_000 });
    expect(hub.connections()).toEqual([]);
    const ws = await openWs(`${wsUrl}?cid=w`);
    await ws.until((m) => m[0]?.type === 'hello');
    const sse = await openSse(`${base}/sse?cid=s`);
    await sse.until((t) => t.includes('hello'));
    const poll = fetch(`${base}/poll?lastEventId=0&cid=p`).then((r) => r.text());
    await waitFor(() => hub.connections().length === 3);
    const list = hub.connections().map((c) => [c.transport, new URL(c.req.url ?? '', 'http://x').searchParams.get('cid')]);
    expect(list).toEqual([
      ['websocket', 'w'],
      ['sse', 's'],
      ['poll', 'p'],
    ]);
    expect(new Set(hub.connections().map((c) => c.id)).size).toBe(3);
    expect(hub.stats()).toEqual({ connections: { websocket: 1, sse: 1, poll: 1 }, bufferedBytes: 0, history: 0 });
    hub.publish('message', 1);
    expect(parseSse(await poll)).toEqual([{ id: '1', data: '1' }]);
    expect(hub.stats().history).toBe(1);
  });

  it('close() drops a connection hard, like a network cut', async () => {
    const { hub, base, wsUrl } = await startHub();
    const ws = await openWs(wsUrl);
    await ws.until((m) => m[0]?.type === 'hello');
    const sse = await openSse(`${base}/sse`);
    await sse.until((t) => t.includes('hello'));
    for (const c of hub.connections()) c.close();
    expect((await ws.closed).code).toBe(1006);
    await sse.ended;
    await waitFor(() => hub.connections().length === 0);
  });

  it('pause() stops every write to that connection while others are served', async () => {
    const { hub, base, wsUrl } = await startHub({ heartbeat: 40, pollTimeout: 10_000 });
    const paused = await openWs(`${wsUrl}?cid=paused`);
    const live = await openWs(`${wsUrl}?cid=live`);
    const pausedSse = await openSse(`${base}/sse?cid=paused`);
    // heartbeats every 40 ms: wait for the hello, whatever came after it
    await paused.until((m) => m[0]?.type === 'hello');
    await live.until((m) => m[0]?.type === 'hello');
    await pausedSse.until((t) => t.includes('hello'));
    // A held poll has its headers at once; its body is the answer (or the drop).
    const pausedPoll = fetch(`${base}/poll?lastEventId=0&cid=paused`)
      .then((r) => r.text())
      .then(
        () => 'answered',
        () => 'dropped',
      );
    await waitFor(() => hub.connections().length === 4);
    for (const c of hub.connections()) if (c.req.url?.includes('cid=paused')) c.pause();
    // A heartbeat written just before pause() may still be on the wire: let a round trip on the
    // live socket pass before taking the snapshot, so only writes after pause() can count.
    const pongs = live.messages.filter((x) => x.type === 'pong').length;
    live.send({ type: 'ping' });
    await live.until((m) => m.filter((x) => x.type === 'pong').length > pongs);
    const seenWs = paused.frames.length;
    const seenSse = pausedSse.text();
    hub.publish('message', 'after pause');
    paused.send({ type: 'ping' }); // not even a pong
    paused.send({ event: 'e', mid: 'm1' }); // nor an ack
    // the live connection gets the event and several heartbeats meanwhile
    await live.until((m) => m.filter((x) => x.type === 'ping').length >= 3 && m.some(isEvent));
    expect(paused.frames.length).toBe(seenWs);
    expect(pausedSse.text()).toBe(seenSse);
    expect(hub.stats().connections.poll).toBe(1); // the held poll was not answered by the publish
    // the paused connections are still live until closed
    expect(hub.connections().filter((c) => c.req.url?.includes('cid=paused'))).toHaveLength(3);
    await hub.close();
    // a paused poll is never answered: closing drops it
    expect(await pausedPoll).toBe('dropped');
  });
});

describe('disconnectAll()', () => {
  it('closes WebSockets 1012, ends SSE streams, answers polls empty, and keeps serving with history', async () => {
    const { hub, base, wsUrl } = await startHub({ firstId: 0, pollTimeout: 10_000 });
    hub.publish('message', 1);
    const ws = await openWs(wsUrl);
    await ws.until((m) => m[0]?.type === 'hello');
    const sse = await openSse(`${base}/sse`);
    await sse.until((t) => t.includes('hello'));
    const poll = fetch(`${base}/poll?lastEventId=1`);
    await waitFor(() => hub.stats().connections.poll === 1);
    await hub.disconnectAll();
    expect((await ws.closed).code).toBe(1012);
    await sse.ended;
    const answered = await poll;
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe('');
    expect(hub.stats().connections).toEqual({ websocket: 0, sse: 0, poll: 0 });
    // a client resuming after the "restart" gets what it missed
    hub.publish('message', 2);
    const again = await openWs(`${wsUrl}?lastEventId=0`);
    await again.until((m) => m.filter(isEvent).length === 2);
    expect(again.messages[0]).toMatchObject({ type: 'hello', resumed: true });
  });
});

describe('slow clients', () => {
  it('cuts a WebSocket that stops reading once its buffer passes maxBufferedBytes; others keep going', async () => {
    const { hub, port, wsUrl } = await startHub({ maxBufferedBytes: 64 * 1024, history: 10 });
    await openStalledWs(port, '/rt/ws?cid=stalled');
    const live = await openWs(wsUrl);
    await live.until((m) => m[0]?.type === 'hello');
    const stalled = hub.connections().find((c) => c.req.url?.includes('cid=stalled'));
    expect(stalled).toBeDefined();
    const cut = once(stalled!.req.socket, 'close');
    // 200 × 100 KB, one per tick, must overflow kernel buffers and then the 64 KiB limit
    const blob = 'x'.repeat(100_000);
    let published = 0;
    let done = false;
    void cut.then(() => (done = true));
    while (!done && published < 200) {
      hub.publish('message', { n: published++, blob });
      await new Promise((r) => setImmediate(r));
    }
    await cut;
    expect(hub.connections().some((c) => c.req.url?.includes('cid=stalled'))).toBe(false);
    await live.until((m) => m.filter(isEvent).length === published);
    expect(live.messages.filter(isEvent).map((m) => (m.data as { n: number }).n)).toEqual(Array.from({ length: published }, (_, i) => i));
    expect(hub.stats().connections.websocket).toBe(1);
  });

  it('cuts an SSE stream that stops reading', async () => {
    const { hub, port, base } = await startHub({ firstId: 0, maxBufferedBytes: 64 * 1024, history: 10 });
    await openStalledSse(port, '/rt/sse?cid=stalled');
    const live = await openSse(`${base}/sse`);
    await waitFor(() => hub.connections().length === 2);
    const stalled = hub.connections().find((c) => c.req.url?.includes('cid=stalled'))!;
    const cut = once(stalled.req.socket, 'close');
    const blob = 'x'.repeat(100_000);
    let done = false;
    void cut.then(() => (done = true));
    let published = 0;
    while (!done && published < 200) {
      hub.publish('message', { n: published++, blob });
      await new Promise((r) => setImmediate(r));
    }
    await cut;
    await live.until((t) => t.includes(`id: ${published}\n`));
    expect(hub.stats().connections.sse).toBe(1);
  });
});

describe('close()', () => {
  it('closes WebSockets 1001, ends SSE, answers polls 200 empty, and leaves no handle behind', async () => {
    const resourcesBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
    const hub = createHub({ firstId: 0, heartbeat: 20, pollTimeout: 10_000 });
    const server = http.createServer();
    hub.attach(server, { path: '/rt' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}/rt`;
    const ws = await openWs(`ws://127.0.0.1:${port}/rt/ws`);
    await ws.until((m) => m.some((x) => x.type === 'ping'));
    const sse = await openSse(`${base}/sse`);
    await sse.until((t) => t.includes('hello'));
    const poll = fetch(`${base}/poll?lastEventId=0`);
    await waitFor(() => hub.stats().connections.poll === 1);
    hub.publish('message', 'last words');

    await hub.close();
    await hub.close(); // twice is fine
    expect(await ws.closed).toEqual({ code: 1001, reason: 'Going Away' });
    // the event published just before close was still delivered
    expect(ws.messages.some((m) => m.data === 'last words')).toBe(true);
    expect(await sse.ended).toContain('last words');
    const answered = await poll;
    expect(answered.status).toBe(200);
    expect(parseSse(await answered.text())).toEqual([{ id: '1', data: '"last words"' }]);
    expect(hub.stats()).toEqual({ connections: { websocket: 0, sse: 0, poll: 0 }, bufferedBytes: 0, history: 1 });
    expect(hub.connections()).toEqual([]);

    // the http server can close: nothing of the hub holds a socket open; then the hub detaches
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(server.listenerCount('request')).toBe(0);
    expect(server.listenerCount('upgrade')).toBe(0);
    const resourcesAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
    expect(resourcesAfter).toBeLessThanOrEqual(resourcesBefore);
  });

  it('resolves even when stalled clients cannot take the goodbye: they are destroyed after a grace', async () => {
    const { hub, port } = await startHub({ maxBufferedBytes: 256 * 1024 * 1024, history: 5 });
    await openStalledWs(port, '/rt/ws?cid=stalled');
    await openStalledSse(port, '/rt/sse?cid=stalled');
    await waitFor(() => hub.connections().length === 2);
    const sockets = hub.connections().map((c) => once(c.req.socket, 'close'));
    // far more than loopback kernel buffers take, so the goodbye waits behind unsent bytes
    const blob = 'x'.repeat(1_000_000);
    for (let i = 0; i < 24; i++) {
      hub.publish('message', blob);
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.stats().bufferedBytes).toBeGreaterThan(1_000_000);
    const started = Date.now();
    await hub.close();
    await Promise.all(sockets);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hub.stats().connections).toEqual({ websocket: 0, sse: 0, poll: 0 });
  });

  it("keeps answering its own paths 503 while attached, so a client retries rather than reach the app (which could answer POST /send 2xx and lose it)", async () => {
    const received: unknown[] = [];
    const { hub, server, base, port, wsUrl } = await startHub({ onMessage: (m) => received.push(m) });
    await hub.close();
    const send = await fetch(`${base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ event: 'e', mid: 'm1' }) });
    expect(send.status).toBe(503);
    expect((await fetch(`${base}/poll`)).status).toBe(503);
    expect((await fetch(`${base}/sse`)).status).toBe(503);
    expect(await upgradeStatus(wsUrl)).toBe(503);
    expect(received).toEqual([]);
    // other paths are still the app's
    expect(await (await fetch(`http://127.0.0.1:${port}/elsewhere`)).text()).toBe('app');
    // the 'request' listeners were not handed back: the hub still wraps them
    expect(server.listenerCount('request')).toBe(1);
  });

  it('answers 503 after close when no app listener is behind the hub, rather than leave the request unanswered', async () => {
    const hub = createHub();
    const server = http.createServer();
    hub.attach(server, { path: '/rt' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onStop(() => closeServer(server));
    await hub.close();
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rt`;
    // a deadline: with no 'request' listener left, nothing would ever answer
    const status = await fetch(`${base}/poll?lastEventId=0`, { signal: AbortSignal.timeout(3000) }).then(
      async (res) => {
        await res.text();
        return res.status;
      },
      () => 'no answer after 3 s',
    );
    expect(status).toBe(503);
  });

  it("restores the app's listeners after close only on attach's disposer", async () => {
    const hub = createHub();
    const server = http.createServer((_req, res) => res.end('app'));
    const detach = hub.attach(server, { path: '/rt' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onStop(() => closeServer(server));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rt`;
    await hub.close();
    expect((await fetch(`${base}/poll`)).status).toBe(503);
    detach();
    expect(await (await fetch(`${base}/poll`)).text()).toBe('app');
    expect(server.listenerCount('upgrade')).toBe(0);
  });

  it('answers 503 to requests that reach a closed hub through handle()', async () => {
    const hub = createHub();
    const server = http.createServer((req, res) => hub.handle(req, res));
    server.on('upgrade', hub.handleUpgrade);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await hub.close();
    expect((await fetch(`http://127.0.0.1:${port}/poll`)).status).toBe(503);
    await expect(openWs(`ws://127.0.0.1:${port}/ws`)).rejects.toThrow(/503/);
    await closeServer(server);
  });

  it('keeps working when the http server drops its connections first: sessions end, timers stop', async () => {
    const resourcesBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const { hub, server, base } = await startHub({ firstId: 0, heartbeat: 20, pollTimeout: 10_000 });
    const sse = await openSse(`${base}/sse`);
    await sse.until((t) => t.includes(':\n\n'));
    const poll = fetch(`${base}/poll?lastEventId=0`)
      .then((r) => r.text())
      .catch(() => 'dropped');
    await waitFor(() => hub.connections().length === 2);
    await closeServer(server);
    await sse.ended;
    expect(await poll).toBe('dropped');
    await waitFor(() => hub.connections().length === 0);
    // the heartbeat timer and the poll timer went with the last connection
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(resourcesBefore);
    expect(hub.publish('message', 'nobody listens')).toBe('1');
    await hub.close();
  });
});
