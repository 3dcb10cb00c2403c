// @vitest-environment jsdom
/**
 * The transports in a browser-like page (jsdom): relative endpoints resolve against the page,
 * and the page's own globals (AbortController, TextDecoder, Blob) are the ones in use.
 */
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, describe, expect, it } from 'vitest';
import { createPollTransport } from '../../src/transports/poll';
import { createSseTransport } from '../../src/transports/sse';
import { createWebSocketTransport } from '../../src/transports/websocket';
import type { WebSocketConstructor } from '../../src/types';
import { context, fakeFetch, recorder } from './helpers';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

/** A minimal streaming response; jsdom has no `Response` of its own. */
function response(chunks: string[], status = 200) {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (n: string) => (n.toLowerCase() === 'content-type' ? 'text/event-stream' : null) },
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        const next = bytes.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    }),
    text: async () => chunks.join(''),
  };
}

describe('in a jsdom page', () => {
  it('resolves relative SSE and send URLs against location.href', async () => {
    expect(location.href).toMatch(/^http/);
    const fetch = fakeFetch(
      (call) => (call.init.method === 'POST' ? { ...response([], 204), body: null } : response(['id: 1\ndata: a\n\n'])),
    );
    const rec = recorder();
    const t = createSseTransport(context({ url: 'rt/sse?x=1', sendUrl: '/rt/send', cursor: '0', fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'ended' });
    expect(rec.eventList()).toEqual([{ id: '1', event: 'message', format: 'text', data: 'a' }]);
    await t.send([{ event: 'e', data: 1, mid: 'm' }]);
    expect(fetch.calls.map((c) => c.url)).toEqual([new URL('rt/sse?x=1&lastEventId=0', location.href).href, new URL('/rt/send', location.href).href]);
  });

  it('polls with a relative URL', async () => {
    const fetch = fakeFetch(() => response(['data: p\n\n']), () => ({ ...response([], 204), body: null }));
    const rec = recorder();
    createPollTransport(context({ url: '/rt/poll', fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'no-content' });
    expect(fetch.calls[0].url).toBe(new URL('/rt/poll', location.href).href);
  });

  it('opens a WebSocket on a relative URL as ws(s): on the page host', async () => {
    const url = new URL('/rt/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const server = new Server(url.href, { mock: false });
    servers.push(server);
    server.on('connection', (s) => s.send(new Blob(['xy'])));
    const rec = recorder();
    const t = createWebSocketTransport(context({ url: '/rt/ws', WebSocket: MockWebSocket as unknown as WebSocketConstructor }), rec);
    await rec.until((c) => c.some((x) => x.type === 'bad'));
    expect(rec.calls.find((c) => c.type === 'bad')).toMatchObject({ raw: '[binary frame]' });
    t.close();
  });
});
