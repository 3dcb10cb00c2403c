// @vitest-environment jsdom
/**
 * Edge cases found by a review of the client against DESIGN.md, each a bug that this file showed
 * failing before its fix: re-entrant close()/connect() from handlers, sends around close() and
 * across reconnects, the queue limit, cursors, timers and the token. Public API only, on fake time.
 */
import { describe, expect, it, vi } from 'vitest';
import { computeDelay } from '../../src/backoff';
import { createClient } from '../../src/client';
import { buildUrl } from '../../src/transports/url';
import type { SurewireError } from '../../src/errors';
import type { Status } from '../../src/types';
import { advance, block, flush, helloBlock, liveStream, scriptedFetch, sse, status, steady, trackedWebSocket, uniqueBase, useRigs } from './helpers';

const { setup, server, setOnline } = useRigs();

/**
 * DESIGN §3: a WebSocket send() resolves once the frame is handed to the open socket; §4: close()
 * rejects *queued* sends with CLOSED. "Send 'leave', then close" on logout sends and resolves.
 */
describe('send() then close() on an open WebSocket', () => {
  it('the frame reaches the server and send() resolves', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    expect(r.client.status.state).toBe('open');
    const sent = r.client.send('leave', { user: 'ann' });
    r.client.close();
    const outcome = await sent.then(
      () => 'resolved',
      (e: { code: string }) => `rejected ${e.code}`,
    );
    await advance(10);
    expect(s.messages()).toEqual([{ event: 'leave', data: { user: 'ann' }, mid: expect.any(String) }]); // it WAS handed over
    expect(outcome).toBe('resolved');
  });
});

/**
 * One onStatus handler changes the state (close() on 'open'): the handlers after it still get
 * 'open' first, then 'closed' — never the older snapshot after the newer one.
 */
describe('onStatus handlers after one that changes the state', () => {
  it('a later handler gets every snapshot in order, ending with the newest', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket }, false);
    r.client.onStatus((s) => {
      if (s.state === 'open') r.client.close();
    });
    const seen: Status['state'][] = [];
    r.client.onStatus((s) => seen.push(s.state));
    r.client.connect();
    await advance(10);
    expect(r.client.status.state).toBe('closed');
    expect(seen).toEqual(['connecting', 'connecting', 'open', 'closed']);
  });
});

/**
 * close() and then connect() from status handlers during connect() (a guard, then a supervisor
 * that restarts): the nested connect() starts the only round; one client keeps one socket.
 */
describe('close() then connect() from status handlers during connect()', () => {
  it('one client opens one socket', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const ws = trackedWebSocket();
    const r = setup({ url: base, WebSocket: ws.WebSocket }, false);
    let closedOnce = false;
    let restarted = false;
    r.client.onStatus((st) => {
      if (st.state === 'connecting' && !closedOnce) {
        closedOnce = true;
        r.client.close(); // e.g. a guard that aborts the first connect
      }
    });
    r.client.onStatus((st) => {
      if (st.state === 'closed' && !restarted) {
        restarted = true;
        r.client.connect(); // e.g. an "always reconnect" supervisor
      }
    });
    r.client.connect();
    await advance(20);
    expect(r.client.status.state).toBe('open');
    // One broadcast of an id-less event reaches every connected socket of this client:
    for (let i = 0; i < s.sockets.length; i++) s.send({ event: 'news', data: 'once' }, i);
    await advance(10);
    expect({ constructed: ws.urls.length, serverSockets: s.sockets.length, delivered: r.messages.length }).toEqual({ constructed: 1, serverSockets: 1, delivered: 1 });
  });
});

/**
 * DESIGN §4: a round in which every transport answered "not offered here" ends fatally. A round
 * in which one opened is not such a round: SSE 404, poll working, then one 404 on a poll (a
 * deploy, a proxy hiccup) backs off and goes on.
 */
describe('NO_TRANSPORT after a transport of the round opened', () => {
  it('a 404 on a later poll is not "every transport not offered"', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('sse', status(404))
      .on('poll', sse(block({ id: '1', data: 1 })), sse(block({ id: '2', data: 2 })), status(404))
      .otherwise('poll', () => liveStream())
      .otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse', 'poll'], fetch: f.fetch, reconnect: steady });
    await flush();
    await advance(10);
    expect(r.messages.map((m) => m.data)).toEqual([1, 2]);
    expect(r.client.status.error?.code).not.toBe('NO_TRANSPORT');
    expect(r.client.status.state).not.toBe('closed');
  });
});

/**
 * DESIGN §4: a connection that opened but never delivered a byte counts as failed before open,
 * so its silence does not count as 5 s of stability: behind a buffering proxy the attempt count
 * grows and maxAttempts is reached.
 */
describe('a silent (buffering-proxy) connection and the 5 s stability reset', () => {
  it('maxAttempts: 2 behind a proxy that buffers every SSE stream: the client should give up', async () => {
    const { base } = uniqueBase();
    // Every SSE request "opens" (200 text/event-stream) but no byte ever gets through.
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const r = setup({
      url: base,
      transports: ['sse'],
      fetch: f.fetch,
      heartbeat: { timeout: 10_000 },
      reconnect: { jitter: 'none', initialDelay: 1000, maxDelay: 30_000, maxAttempts: 2 },
    });
    await flush();
    // Each round: open, 10 s silence → dead (counts as failed before open), then backoff.
    for (let i = 0; i < 10; i++) await advance(12_000);
    const attempts = r.statuses.filter((s) => s.state === 'reconnecting').map((s) => s.attempt);
    expect(r.client.status).toMatchObject({ state: 'closed', error: { code: 'MAX_ATTEMPTS' } });
  });
});

/**
 * `lastEventId: ''` (an empty value restored from storage) is no cursor, like an empty `id:`: the
 * hello's id becomes the cursor, so nothing published after the connection began is lost.
 */
describe("lastEventId: '' (e.g. restored from storage)", () => {
  it('the hello id becomes the cursor, as for a client without one', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('poll', sse(helloBlock({ heartbeat: 15000 }, '40')))
      .otherwise('poll', () => liveStream());
    const r = setup({ url: base, transports: ['poll'], fetch: f.fetch, lastEventId: '' });
    await flush();
    const polls = f.of('poll');
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect({ second: polls[1]!.query.get('lastEventId'), status: r.client.status.lastEventId }).toEqual({ second: '40', status: '40' });
  });
});

/**
 * `token` may be an (async) function: any thenable it returns is awaited — a promise of another
 * realm (an iframe), or a library's (Bluebird, a jQuery Deferred).
 */
describe('token function returning a thenable', () => {
  it('the resolved string is sent, not the object', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => liveStream());
    const thenable = { then: (resolve: (t: string) => void) => resolve('tok-1') };
    setup({ url: base, transports: ['sse'], fetch: f.fetch, token: (() => thenable) as never });
    await flush();
    expect(f.of('sse')[0]!.init.headers?.Authorization).toBe('Bearer tok-1');
  });
});

/**
 * A hello announcing a huge heartbeat (2h + 5000 past 2^31 - 1 ms, where setTimeout fires at
 * once) must not turn the liveness monitor into a busy loop.
 */
describe('hello heartbeat beyond what setTimeout can hold', () => {
  it('the liveness timer must not fire continuously', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify({ type: 'hello', heartbeat: 2_000_000_000 })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, heartbeat: { interval: 3_600_000 } });
    await advance(10);
    expect(r.client.status.state).toBe('open');
    const spy = vi.spyOn(globalThis, 'setTimeout');
    await advance(1000); // one quiet second
    const rearmed = spy.mock.calls.length;
    spy.mockRestore();
    expect(rearmed).toBeLessThan(5);
  });
});

/**
 * DESIGN §3: "A server that sends no hello is fine", and a WebSocket send() is done once handed to
 * the socket. Frames are kept for re-sending only when the server's hello said it acknowledges.
 */
describe('WebSocket sends to a server without hello', () => {
  it('a send that resolved on connection 1 is not sent again on connections 2 and 3', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url); // a plain server: no hello, answers nothing
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, reconnect: steady });
    await advance(10);
    expect(r.client.status.state).toBe('open');
    await r.client.send('chat', 'only once');
    await advance(10);
    // the server says something harmless so that the first byte arrives (not a buffering proxy)
    s.send({ type: 'ping' });
    await advance(10);
    s.close(1006);
    await advance(1010);
    await advance(10);
    s.send({ type: 'ping' }, 1);
    await advance(10);
    s.close(1006, '', 1);
    await advance(2010); // second backoff: 2000 ms
    await advance(10);
    expect(s.sockets.length).toBe(3);
    const texts = (s.messages() as Array<{ data: string }>).map((m) => m.data);
    expect(texts).toEqual(['only once']);
  });
});

/**
 * DESIGN §4: maxQueue bounds the sends held while not open; a send that an open transport takes
 * at once, or that waits behind one in flight within the limit, is not refused.
 */
describe('maxQueue counts the sends that wait', () => {
  it('maxQueue: 0 — a send on an open WebSocket goes out', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, maxQueue: 0 });
    await advance(10);
    expect(r.client.status.state).toBe('open');
    await expect(r.client.send('chat', 'hi')).resolves.toBeUndefined();
    await advance(10);
    expect(s.messages()).toHaveLength(1);
  });

  it('maxQueue: 1 — over SSE, a second send during an in-flight POST waits and goes; a third is refused', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    let answer!: (r: Response) => void;
    const f = scriptedFetch()
      .on('sse', stream)
      .on('send', () => new Promise<Response>((res) => (answer = res)) as never)
      .otherwise('send', status(204));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, maxQueue: 1 });
    await flush();
    stream.push(': hi\n\n');
    await flush();
    expect(r.client.status.state).toBe('open');
    const a = r.client.send('chat', 1);
    await flush();
    const b = r.client.send('chat', 2);
    await expect(r.client.send('chat', 3)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    answer(status(204));
    await expect(a).resolves.toBeUndefined();
    await expect(b).resolves.toBeUndefined();
    expect(f.of('send').map((c) => JSON.parse(c.init.body as string).map((m: { data: number }) => m.data))).toEqual([[1], [2]]);
  });
});

/**
 * Sends queued while not open go out as one batch: one unserialisable message (a BigInt, a cycle)
 * is refused alone with BAD_OPTIONS, and the valid ones beside it are sent.
 */
describe('an unserialisable send fails alone', () => {
  it('WebSocket: a valid send queued before a BigInt one is sent', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket }, false);
    const good = r.client.send('chat', 'valid').then(() => 'resolved', (e) => `rejected ${e.code}`);
    const bad = r.client.send('chat', 10n as never).then(() => 'resolved', (e) => `rejected ${e.code}`);
    r.client.connect();
    await advance(10);
    expect(await bad).toBe('rejected BAD_OPTIONS');
    await advance(10);
    expect({ good: await good, received: s.messages().length }).toEqual({ good: 'resolved', received: 1 });
  });

  it('SSE: the same over POST {send}', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on('sse', stream).otherwise('send', status(204));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch }, false);
    const good = r.client.send('chat', 'valid').then(() => 'resolved', (e) => `rejected ${e.code}`);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    r.client.send('chat', cyclic).catch(() => {});
    r.client.connect();
    await flush();
    stream.push(': hi\n\n');
    await flush();
    expect({ good: await good, posts: f.of('send').length }).toEqual({ good: 'resolved', posts: 1 });
  });
});

/**
 * close() from an onStatus handler when the state becomes 'open' over SSE or poll cancels the
 * response body, even with a fetch that does not tie the body to its abort signal.
 */
describe.each(['sse', 'poll'] as const)('%s: onStatus → close() when the state becomes open', (name) => {
  it('the response body is cancelled (the connection is released)', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on(name, stream);
    const r = setup({ url: base, transports: [name], fetch: f.fetch }, false);
    r.client.onStatus((s) => {
      if (s.state === 'open') r.client.close();
    });
    r.client.connect();
    await flush();
    expect(r.client.status.state).toBe('closed');
    await flush();
    expect(stream.cancelled).toBe(true);
  });
});

/**
 * A token never reaches an error: a WebSocket that fails before open in a browser fires a plain
 * Event whose `target.url` holds `access_token`; it is not kept as a cause.
 */
/** Every string reachable from `root` through own and prototype-getter properties (depth-limited). */
function strings(root: unknown, depth = 0, seen = new Set<unknown>()): string[] {
  if (typeof root === 'string') return [root];
  if (!root || typeof root !== 'object' || seen.has(root) || depth > 4) return [];
  seen.add(root);
  const out: string[] = [];
  const keys = new Set<string>(Object.getOwnPropertyNames(root));
  for (const k of ['cause', 'target', 'currentTarget', 'url', 'message']) keys.add(k);
  for (const k of keys) {
    let v: unknown;
    try {
      v = (root as Record<string, unknown>)[k];
    } catch {
      continue;
    }
    out.push(...strings(v, depth + 1, seen));
  }
  return out;
}

describe('WebSocket failure before open', () => {
  it('the reported error does not carry the token anywhere', async () => {
    const { base } = uniqueBase(); // no server: the upgrade fails with an error event
    const r = setup({ url: base, transports: ['websocket'], WebSocket: trackedWebSocket().WebSocket, fetch: scriptedFetch().fetch, token: 's3cr3t-token' });
    await advance(20);
    const err = r.errors[0]!;
    expect(err.code).toBe('NETWORK');
    expect(strings(err).filter((s) => s.includes('s3cr3t-token'))).toEqual([]);
  });
});
/**
 * DESIGN §4: a second 401 before a successful open is fatal. A server that answers the upgrade
 * with a hello and then closes 4401 has not let the client in: the refresh is not renewed by the
 * hello, so the client does not loop reauth → 4401 at full speed.
 */
describe('hello, then 4401, on every connection', () => {
  it('ends fatally after one refresh instead of reconnecting without pause', async () => {
    const { base, ws: url } = uniqueBase();
    let tokens = 0;
    const s = server(url, (socket) => {
      socket.send(JSON.stringify({ type: 'hello', heartbeat: 15000 }));
      setTimeout(() => socket.close({ code: 4401, reason: 'token expired' }), 0);
    });
    const r = setup({ url: base, transports: ['websocket'], WebSocket: trackedWebSocket().WebSocket, reconnect: steady, token: () => `expired-${++tokens}` });
    await advance(1000);
    expect(s.sockets.length).toBeLessThanOrEqual(3);
    expect(r.client.status).toMatchObject({ state: 'closed', error: { code: 'UNAUTHORIZED', fatal: true } });
  });
});

/** DESIGN §4: Retry-After is a floor; a network that drops while the 503 is on its way does not erase it. */
describe('Retry-After received while offline', () => {
  it('still holds back the reconnect after online', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch()
      .on('sse', () => {
        setOnline(false);
        return status(503, { 'retry-after': '60' });
      })
      .otherwise('sse', () => liveStream());
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await flush();
    expect(f.of('sse')).toHaveLength(1);
    await advance(1000);
    setOnline(true);
    await flush();
    expect(f.of('sse')).toHaveLength(1);
    await advance(59_000);
    expect(f.of('sse')).toHaveLength(2);
  });
});

/** DESIGN §4's Retry-After floor applies to a send retried after 429 or 5xx too. */
describe('a send answered 429 with Retry-After', () => {
  it('is not retried before the server allows it, and then goes', async () => {
    const { base } = uniqueBase();
    const stream = liveStream();
    const f = scriptedFetch().on('sse', stream).on('send', status(429, { 'retry-after': '30' })).otherwise('send', status(204));
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady, heartbeat: false });
    await flush();
    stream.push(': hi\n\n');
    await flush();
    expect(r.client.status.state).toBe('open');
    const sent = r.client.send('chat', 'hi');
    await flush();
    expect(f.of('send')).toHaveLength(1);
    await advance(29_000);
    expect(f.of('send')).toHaveLength(1);
    await advance(1000);
    await expect(sent).resolves.toBeUndefined();
    expect(f.of('send')).toHaveLength(2);
  });
});

/** `fatal` means the state is closed: onError hears it then, before a status handler can start the client again. */
describe('a fatal error with a supervisor that connects again on closed', () => {
  it('reaches onError while the state is closed', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().on('sse', status(403)).otherwise('sse', () => liveStream());
    const r = setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: steady }, false);
    let restarted = false;
    r.client.onStatus((st) => {
      if (st.state === 'closed' && !restarted) {
        restarted = true;
        r.client.connect();
      }
    });
    const seen: Array<{ code: string; fatal: boolean; stateThen: string }> = [];
    r.client.onError((e: SurewireError) => seen.push({ code: e.code, fatal: e.fatal, stateThen: r.client.status.state }));
    r.client.connect();
    await flush();
    expect(seen[0]).toEqual({ code: 'FORBIDDEN', fatal: true, stateThen: 'closed' });
    expect(restarted).toBe(true);
    expect(r.client.status.state).not.toBe('closed');
  });
});

describe('connect() after close()', () => {
  it('goes connecting → open, as the first connect() did', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    expect(r.states()).toEqual(['connecting', 'connecting', 'open']);
    r.client.close();
    const mark = r.statuses.length;
    r.client.connect();
    await advance(10);
    expect(r.states().slice(mark)).toEqual(['connecting', 'connecting', 'open']);
  });
});

/** With a server that acknowledges, a frame nobody acknowledged goes again, even past a connection that died before its hello. */
describe('WebSocket acknowledgements across a connection that said nothing', () => {
  it('a frame never acknowledged is sent again on the third connection', async () => {
    const { base, ws: url } = uniqueBase();
    const hello = JSON.stringify({ type: 'hello', heartbeat: 15000, ack: true });
    const perSocket: string[][] = [];
    const s = server(url, (socket, i) => {
      perSocket[i] = [];
      socket.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { data?: string };
        if (m.data) perSocket[i]!.push(m.data);
      });
      if (i !== 1) socket.send(hello);
    });
    const r = setup({ url: base, transports: ['websocket'], WebSocket: trackedWebSocket().WebSocket, reconnect: steady });
    await advance(10);
    await r.client.send('chat', 'important');
    await advance(10);
    s.close(1006, '', 0);
    await advance(1010);
    expect(s.sockets).toHaveLength(2);
    s.close(1006, '', 1);
    await advance(2010);
    await advance(10);
    expect(s.sockets).toHaveLength(3);
    expect(perSocket).toEqual([['important'], ['important'], ['important']]);
  });
});

/** Handlers added while a value is being handed out wait for the next one, for onMessage as for on(). */
describe('handlers added during a dispatch', () => {
  it('onMessage: a handler that registers itself again runs once per event', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    let calls = 0;
    let off = (): void => {};
    const handler = (): void => {
      if (++calls >= 50) return; // keeps a failure from hanging the test
      off();
      off = r.client.onMessage(handler);
    };
    off = r.client.onMessage(handler);
    s.send({ id: '1', event: 'news', data: 1 });
    await advance(10);
    expect(calls).toBe(1);
    s.send({ id: '2', event: 'news', data: 2 });
    await advance(10);
    expect(calls).toBe(2);
  });

  it('an on() or onMessage handler added by an on() handler does not receive that event', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    const late: string[] = [];
    let added = false;
    r.client.on('news', () => {
      if (added) return;
      added = true;
      r.client.on('news', () => late.push('on'));
      r.client.onMessage(() => late.push('onMessage'));
    });
    s.send({ id: '1', event: 'news', data: 1 });
    await advance(10);
    expect(late).toEqual([]);
    s.send({ id: '2', event: 'news', data: 2 });
    await advance(10);
    expect(late).toEqual(['on', 'onMessage']);
  });
});

describe('endpoints that are not an object of strings', () => {
  it('are refused with BAD_OPTIONS, not a TypeError or an endless NETWORK retry', () => {
    expect(() => createClient({ url: 'https://example.com/rt', endpoints: null as never, autoConnect: false })).toThrow(expect.objectContaining({ name: 'SurewireError', code: 'BAD_OPTIONS' }));
    expect(() => createClient({ url: 'https://example.com/rt', endpoints: { sse: 5 as never }, autoConnect: false })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS', message: '`endpoints.sse` must be a URL or false' }));
  });
});

/** Resuming after an id means after it: a server that replays from it inclusively does not deliver it twice. */
describe('a server that replays the cursor event itself', () => {
  it('the saved lastEventId is not delivered again', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify([{ id: '7', event: 'e', data: 7 }, { id: '8', event: 'e', data: 8 }])));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, lastEventId: '7' });
    await advance(10);
    expect(r.messages.map((m) => m.data)).toEqual([8]);
  });
});

/** hello `resumed: false`: the server lost track, so what it sends is new — even ids delivered before (a restarted server numbering from 1). */
describe('resumed: false after a server restart that reuses ids', () => {
  it('delivers the new server\'s events although their ids were delivered before', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket, i) => {
      socket.send(JSON.stringify({ type: 'hello', ...(i ? { resumed: false } : {}) }));
      socket.send(JSON.stringify([1, 2].map((n) => ({ id: String(n), event: 'e', data: `${i}:${n}` }))));
    });
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket, reconnect: steady });
    await advance(10);
    s.close(1006, '', 0);
    await advance(1010);
    expect(r.messages.map((m) => m.data)).toEqual(['0:1', '0:2', '1:1', '1:2']);
    expect(r.client.status).toMatchObject({ state: 'open', resumed: false, lastEventId: '2' });
  });
});

/** Found by test/chaos/client-fuzz.test.ts: close() from an on() handler is the last word. */
describe('close() from an on() handler mid-batch', () => {
  it('no status snapshot follows the closed one, and the closed one carries the cursor', async () => {
    const { base, ws: url } = uniqueBase();
    server(url, (socket) => socket.send(JSON.stringify([{ id: '1', event: 'news', data: 1 }, { id: '2', event: 'news', data: 2 }])));
    const r = setup({ url: base, WebSocket: trackedWebSocket().WebSocket }, false);
    r.client.on('news', () => r.client.close());
    const after: unknown[] = [];
    let closed = false;
    r.client.onStatus((st) => {
      if (closed) after.push(st);
      if (st.state === 'closed') closed = true;
    });
    r.client.connect();
    await advance(10);
    expect(r.client.status).toMatchObject({ state: 'closed', lastEventId: '1' });
    expect(r.messages.map((m) => m.data)).toEqual([1]);
    expect(after).toEqual([]);
  });
});

/** Found by the fuzzer: a 4401 after open refreshes the token; no snapshot says 'open' with the error. */
describe('close 4401 on an open WebSocket', () => {
  it('goes straight to reconnecting with the UNAUTHORIZED error', async () => {
    const { base, ws: url } = uniqueBase();
    const s = server(url, (socket) => socket.send(JSON.stringify({ type: 'hello' })));
    const r = setup({ url: base, transports: ['websocket'], WebSocket: trackedWebSocket().WebSocket, token: () => 'secret-token-value' });
    await advance(10);
    expect(r.client.status.state).toBe('open');
    s.close(4401, 'expired');
    await advance(10);
    expect(r.statuses.filter((x) => x.state === 'open' && x.error)).toEqual([]);
    expect(r.statuses.some((x) => x.state === 'reconnecting' && x.error?.code === 'UNAUTHORIZED')).toBe(true);
    expect(r.client.status.state).toBe('open');
  });
});

/** A debug logger that throws (a remote sink with a full buffer) loses its line, not the connection. */
describe('a debug logger that throws', () => {
  it('neither createClient() nor a reconnect is broken by it', async () => {
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', 'hang');
    const r = setup({
      url: base,
      transports: ['sse'],
      fetch: f.fetch,
      reconnect: steady,
      debug: () => {
        throw new Error('logger down');
      },
    });
    await advance(10);
    first.push(block({ id: '1', data: { a: 1 } }));
    await advance(10);
    expect(r.client.status.state).toBe('open');
    first.end();
    await advance(5010);
    expect(r.client.status.state).not.toBe('open');
    expect(f.of('sse').length).toBe(2);
    expect(r.messages.map((m) => m.data)).toEqual([{ a: 1 }]);
  });
});

/** Decorrelated jitter with an infinite base (initialDelay: Infinity, or an SSE retry: of 400 digits) waits, as the other modes do. */
describe('decorrelated jitter with an infinite base', () => {
  it('is never NaN, and never a hot loop', async () => {
    expect(computeDelay(0, { initialDelay: Infinity, maxDelay: Infinity, factor: 2, jitter: 'decorrelated' }, () => 0.5)).toBe(Infinity);
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => status(503));
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'decorrelated', initialDelay: Infinity } });
    await advance(1000);
    expect(f.of('sse')).toHaveLength(1);
  });

  it('an SSE retry: of 400 digits does not make reconnects spin', async () => {
    const { base } = uniqueBase();
    const f = scriptedFetch().otherwise('sse', () => {
      const s = liveStream();
      s.push(`retry: ${'9'.repeat(400)}\n: hi\n\n`);
      s.end();
      return s;
    });
    setup({ url: base, transports: ['sse'], fetch: f.fetch, reconnect: { jitter: 'decorrelated' } });
    await advance(1000);
    expect(f.of('sse')).toHaveLength(1);
  });
});

/** A cursor or token already in `url`'s query is replaced by the client's, not read first by the server for ever. */
describe('surewire parameters already in the endpoint query', () => {
  it('are replaced, other parameters kept', async () => {
    const url = new URL(buildUrl('https://h/rt/ws?lastEventId=1&access_token=old&x=1', { lastEventId: '7', access_token: 'new' }, true));
    expect([...url.searchParams]).toEqual([
      ['x', '1'],
      ['lastEventId', '7'],
      ['access_token', 'new'],
    ]);
    const { base } = uniqueBase();
    const first = liveStream();
    const f = scriptedFetch().on('sse', first).otherwise('sse', 'hang');
    setup({ url: `${base}?lastEventId=1`, transports: ['sse'], fetch: f.fetch, reconnect: steady });
    await advance(10);
    first.push(block({ id: '5', data: 1 }));
    first.end();
    await advance(1100);
    expect(f.of('sse').map((c) => c.query.getAll('lastEventId'))).toEqual([['1'], ['5']]);
  });
});

/** Boolean options from an env file or JSON ('false') are refused, not taken as true. */
describe('boolean options given as strings', () => {
  it('are refused with BAD_OPTIONS', () => {
    const bad = (options: Record<string, unknown>) => () => createClient({ url: 'https://x/rt', autoConnect: false, ...options });
    expect(bad({ withCredentials: 'false' })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS', message: '`withCredentials` must be true or false' }));
    expect(() => createClient({ url: 'https://x/rt', autoConnect: 'false' as never })).toThrow(/autoConnect/);
    expect(bad({ debug: 'yes' })).toThrow(/debug/);
  });
});

/** Found by a fuzzer against the real hub: close() then connect() keeps what was sent but never acknowledged. */
describe('close() and connect() with a send the server never acknowledged', () => {
  it('sends it again on the new connection, as a reconnect would', async () => {
    const { base, ws: url } = uniqueBase();
    const perSocket: string[][] = [];
    server(url, (socket, i) => {
      perSocket[i] = [];
      socket.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { data?: string };
        if (m.data) perSocket[i]!.push(m.data);
      });
      socket.send(JSON.stringify({ type: 'hello', ack: true }));
    });
    const r = setup({ url: base, transports: ['websocket'], WebSocket: trackedWebSocket().WebSocket });
    await advance(10);
    await r.client.send('chat', 'sent, never acknowledged');
    r.client.close();
    r.client.connect();
    await advance(20);
    expect(perSocket).toEqual([['sent, never acknowledged'], ['sent, never acknowledged']]);
  });
});
