/**
 * Malformed input through the real client and its transports, from real servers on 127.0.0.1:
 * odd-but-legal SSE framing (which must parse exactly), illegal SSE fields (which must be
 * ignored), and WebSocket frames that are not surewire JSON (BAD_MESSAGE, connection kept).
 * Every case checks the events before and after the fault.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FetchLike, ResponseLike } from '../../src/index';
import { sseEvent, startScriptServer, stream, wsEvent, wsFrames, type ScriptServer } from '../support/script-server';
import { watch, type Watched } from '../support/watch';

let srv: ScriptServer;
const clients: Watched[] = [];
afterEach(async () => {
  for (const w of clients.splice(0)) w.client.close();
  await srv?.close();
});

function client(options: Parameters<typeof watch>[0]): Watched {
  const w = watch({ url: srv.origin, ...options });
  clients.push(w);
  return w;
}

/**
 * Node's fetch, with every body chunk cut into pieces of `size` bytes: the network may split a
 * stream anywhere (inside a CRLF, a UTF-8 sequence or the BOM), and loopback TCP alone rarely does.
 */
function choppedFetch(size = 1): FetchLike {
  return async (url, init) => {
    const res = await fetch(url, init as RequestInit);
    if (!res.body) return res as unknown as ResponseLike;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        for (let i = 0; i < value.length; i += size) controller.enqueue(value.slice(i, i + size));
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return { status: res.status, ok: res.ok, url: res.url, headers: res.headers, body, text: () => res.text() };
  };
}

const texts = (w: Watched) => w.messages.map((m) => [m.id, m.event, m.data]);
const before = [['1', 'tick', '{"n":1}']];
const after = (n: number) => [String(n), 'tick', `{"n":${n}}`];

describe('malformed SSE, through the SSE transport (decode: text)', () => {
  it('mixed CR, LF and CRLF line endings, cut byte by byte, parse exactly', async () => {
    srv = await startScriptServer();
    const odd = 'id: 2\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n' + 'id: 3\revent: b\rdata: z\r\r' + 'id: 4\nevent: c\r\ndata: w\r\n\n';
    srv.on('/sse', stream(sseEvent(1) + odd + sseEvent(5)));
    const w = client({ transports: ['sse'], decode: 'text', fetch: choppedFetch(1) });
    await w.ticks(2);
    expect(texts(w)).toEqual([...before, ['2', 'a', 'x\ny'], ['3', 'b', 'z'], ['4', 'c', 'w'], after(5)]);
    expect(w.errors).toEqual([]);
  });

  it('a leading BOM (split across chunks) is dropped, once', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sseEvent(1) + 'id: 2\ndata: \uFEFFkept\n\n' + sseEvent(3))])));
    const w = client({ transports: ['sse'], decode: 'text', fetch: choppedFetch(2) });
    await w.ticks(2);
    expect(texts(w)).toEqual([...before, ['2', 'message', '\uFEFFkept'], after(3)]);
  });

  it('a UTF-8 character split across network chunks arrives whole', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(sseEvent(1) + 'id: 2\ndata: h€llo 😀 ß\n\n' + sseEvent(3)));
    const w = client({ transports: ['sse'], decode: 'text', fetch: choppedFetch(1) });
    await w.ticks(2);
    expect(texts(w)).toEqual([...before, ['2', 'message', 'h€llo 😀 ß'], after(3)]);
  });

  it('a 1 MiB data line arrives whole', async () => {
    srv = await startScriptServer();
    const big = 'x'.repeat(1024 * 1024);
    srv.on('/sse', stream([sseEvent(1), `id: 2\ndata: ${big.slice(0, 300_000)}`, `${big.slice(300_000)}\n\n`, sseEvent(3)]));
    const w = client({ transports: ['sse'], decode: 'text' });
    await w.ticks(2);
    expect(w.messages).toHaveLength(3);
    expect(w.messages[1].data).toBe(big);
    expect(w.messages[1].id).toBe('2');
    expect(w.ns).toEqual([1, 3]);
  });

  it('an id containing NUL is ignored: the event is delivered without an id and the cursor stays', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(sseEvent(1) + 'id: 7\u0000x\ndata: nul\n\n', 'end'), stream(sseEvent(2)));
    const w = client({ transports: ['sse'], decode: 'text' });
    await w.ticks(2);
    expect(texts(w)).toEqual([...before, [undefined, 'message', 'nul'], after(2)]);
    const second = srv.to('/sse')[1];
    expect(second.query.get('lastEventId')).toBe('1');
    expect(second.headers['last-event-id']).toBe('1');
  });

  it('`retry: abc` is ignored: the base delay set by a valid `retry:` stays', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(`retry: 300\n\n${sseEvent(1)}`, 'end'), stream(`retry: abc\n\n${sseEvent(2)}`, 'end'), stream(sseEvent(3)));
    const w = client({ transports: ['sse'], decode: 'text', reconnect: { initialDelay: 10, maxDelay: 50, jitter: 'none' } });
    await w.ticks(3, 5000);
    const [, second, third] = srv.to('/sse');
    expect(third.at - second.at).toBeGreaterThanOrEqual(250);
    expect(w.ns).toEqual([1, 2, 3]);
  });

  it('blocks without data are not dispatched, and an id-only block does not move the cursor', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(sseEvent(1) + 'event: tick\n\n' + 'id: 9\n\n' + 'event: tick\nid: 10\n\n' + ': comment\n\n' + sseEvent(2), 'end'), stream(sseEvent(3)));
    const w = client({ transports: ['sse'], decode: 'text' });
    await w.ticks(3);
    expect(w.messages.map((m) => m.id)).toEqual(['1', '2', '3']);
    expect(srv.to('/sse')[1].query.get('lastEventId')).toBe('2');
  });

  it('a half-received event is discarded and does not move the cursor', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(sseEvent(1) + 'id: 2\nevent: tick\ndata: {"n":2}\n', 'reset'), stream(sseEvent(2) + sseEvent(3)));
    const w = client({ transports: ['sse'] });
    await w.ticks(3);
    expect(w.ns).toEqual([1, 2, 3]);
    expect(srv.to('/sse')[1].query.get('lastEventId')).toBe('1');
  });
});

describe('a server that replays what the client already has', () => {
  it('SSE: ids already delivered are dropped after a reconnect (dedupe window)', async () => {
    srv = await startScriptServer();
    // The second stream ignores the cursor and starts over from 1.
    srv.on('/sse', stream(sseEvent(1) + sseEvent(2), 'end'), stream(sseEvent(1) + sseEvent(2) + sseEvent(3)));
    const w = client({ transports: ['sse'] });
    await w.ticks(3);
    expect(w.ns).toEqual([1, 2, 3]);
  });

  it('WebSocket: a replayed array overlapping what was delivered is delivered once', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), wsEvent(2)], { code: 1012 }), wsFrames([JSON.stringify([wsEvent(2), wsEvent(3)]), wsEvent(4)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(4);
    expect(w.ns).toEqual([1, 2, 3, 4]);
  });
});

describe('malformed SSE, through the poll transport', () => {
  it('mixed line endings, a BOM and a split UTF-8 character in one poll answer', async () => {
    srv = await startScriptServer();
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sseEvent(1) + 'id: 2\r\ndata: €\r\rid: 3\rdata: ok\r\n\r\n' + sseEvent(4))]);
    srv.on('/poll', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(body);
    }, () => {});
    const w = client({ transports: ['poll'], decode: 'text', fetch: choppedFetch(1) });
    await w.ticks(2);
    expect(texts(w)).toEqual([...before, ['2', 'message', '€'], ['3', 'message', 'ok'], after(4)]);
  });
});

describe('malformed WebSocket input', () => {
  it('non-JSON text: BAD_MESSAGE with the raw text, connection kept', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), '{"id": "2", "event": tick}', wsEvent(3)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2);
    await w.until(() => w.errors.length === 1);
    expect(w.ns).toEqual([1, 3]);
    expect(w.errors[0]).toMatchObject({ code: 'BAD_MESSAGE', raw: '{"id": "2", "event": tick}', fatal: false });
    expect(w.client.status.state).toBe('open');
    expect(srv.to('ws')).toHaveLength(1);
  });

  it('a JSON array: its events in order; a member that is not an event is BAD_MESSAGE in its place', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), JSON.stringify([wsEvent(2), wsEvent(3), 42, wsEvent(4)]), wsEvent(5)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(4);
    await w.until(() => w.errors.length === 1);
    expect(w.ns).toEqual([1, 2, 3, 4, 5]);
    expect(w.errors[0]).toMatchObject({ code: 'BAD_MESSAGE', raw: '42' });
  });

  it('a JSON value that is neither object nor array: BAD_MESSAGE, connection kept', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), '"hello"', 'null', wsEvent(2)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2);
    await w.until(() => w.errors.length === 2);
    expect(w.codes()).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE']);
    expect(w.ns).toEqual([1, 2]);
  });

  it('a binary frame: BAD_MESSAGE that says so, connection kept', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), Buffer.from(JSON.stringify(wsEvent(99))), wsEvent(2)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2);
    await w.until(() => w.errors.length === 1);
    expect(w.ns).toEqual([1, 2]);
    expect(w.errors[0].code).toBe('BAD_MESSAGE');
    expect(w.errors[0].raw).toMatch(/binary/);
    expect(srv.to('ws')).toHaveLength(1);
  });

  it('a 10 MiB frame is delivered whole, and the connection goes on', async () => {
    srv = await startScriptServer();
    const big = 'y'.repeat(10 * 1024 * 1024);
    srv.onWs(wsFrames([wsEvent(1), { id: '2', event: 'big', data: big }, wsEvent(3)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2, 15_000);
    expect(w.ns).toEqual([1, 3]);
    expect(w.messages[1]).toMatchObject({ id: '2', event: 'big' });
    expect((w.messages[1].data as string).length).toBe(big.length);
    expect(w.errors).toEqual([]);
  }, 20_000);

  it('a frame with a wrongly typed id or event: BAD_MESSAGE, the rest delivered', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), { id: { x: 1 }, event: 'tick', data: { n: 99 } }, { id: '3', event: 7, data: {} }, wsEvent(2)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2);
    await w.until(() => w.errors.length === 2);
    expect(w.ns).toEqual([1, 2]);
    expect(w.codes()).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE']);
  });
});
