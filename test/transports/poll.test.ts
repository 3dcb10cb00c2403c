import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPollTransport } from '../../src/transports/poll';
import type { WireEvent } from '../../src/transports/transport';
import { context, eventStreamResponse, fakeFetch, hangingFetch, recorder } from './helpers';

const text = (data: string, event = 'message', id?: string): WireEvent => ({ id, event, format: 'text', data });

afterEach(() => {
  vi.useRealTimers();
});

describe('poll transport', () => {
  it('opens on the first good response, reports activity for every response (empty ones too), and polls again at once', async () => {
    const rec = recorder();
    // Empty answers one at a time: two quick ones in a row end the loop (next test).
    const fetch = fakeFetch(
      () => eventStreamResponse(['id: 1\ndata: a\n\n']),
      () => eventStreamResponse([]),
      () => eventStreamResponse(['id: 2\ndata: b\n\nid: 3\ndata: c\n\n']),
      () => eventStreamResponse([': keepalive\n\n']),
      () => new Response(null, { status: 204 }),
    );
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'no-content' });
    expect(rec.types()).toEqual(['open', 'activity', 'activity', 'events', 'activity', 'activity', 'activity', 'events', 'activity', 'activity', 'end']);
    expect(rec.batches()).toEqual([[text('a', 'message', '1')], [text('b', 'message', '2'), text('c', 'message', '3')]]);
    expect(fetch.calls).toHaveLength(5);
  });

  it('ends like a stream that ended on the second empty answer in a row that came at once (a server that never holds a poll)', async () => {
    const rec = recorder();
    const fetch = fakeFetch(
      () => eventStreamResponse(['id: 1\ndata: a\n\n']),
      () => eventStreamResponse([': keepalive\n\n']),
      () => eventStreamResponse([]),
      () => new Response(null, { status: 204 }),
    );
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'ended' });
    expect(fetch.calls).toHaveLength(3);
    expect(rec.eventList()).toEqual([text('a', 'message', '1')]);
  });

  it('polls again at once after empty answers that were held, and after a quick empty answer followed by a hello', async () => {
    // Date only: the transport measures how long an answer took; the clock moves while a poll is "held".
    vi.useFakeTimers({ toFake: ['Date'] });
    const rec = recorder();
    const held = (chunks: string[]) => () => {
      vi.setSystemTime(Date.now() + 25_000);
      return eventStreamResponse(chunks);
    };
    const fetch = fakeFetch(
      held([]),
      held([': comment only\n\n']),
      held([]),
      // A hub behind the history answers at once with nothing, then the next poll with its hello.
      () => eventStreamResponse([]),
      () => eventStreamResponse(['event: surewire:hello\nid: 9\ndata: {"resumed":false}\n\n']),
      () => eventStreamResponse([]),
      () => new Response(null, { status: 204 }),
    );
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'no-content' });
    expect(fetch.calls).toHaveLength(7);
    expect(rec.types().filter((t) => t === 'hello')).toHaveLength(1);
  });

  it('reads the cursor before each poll, after the listener handled the previous batch', async () => {
    let cursor: string | undefined;
    const rec = recorder({
      hello: (h) => void (cursor = h.id),
      events: (batch) => {
        for (const e of batch) if (e.id !== undefined) cursor = e.id;
      },
    });
    const fetch = fakeFetch(
      () => eventStreamResponse(['event: surewire:hello\nid: 10\ndata: {"heartbeat":15000}\n\n']),
      () => eventStreamResponse(['id: 11\ndata: a\n\n', 'id: 12\ndata: b\n\n']),
      () => eventStreamResponse(['data: no id\n\n']),
      () => new Response(null, { status: 503, headers: { 'retry-after': '3' } }),
    );
    createPollTransport(context({ fetch, url: 'https://rt.example/rt/poll?v=1', lastEventId: () => cursor }), rec);
    expect(await rec.ended).toEqual({ kind: 'http', status: 503, retryAfter: '3' });
    expect(fetch.calls.map((c) => c.url)).toEqual([
      'https://rt.example/rt/poll?v=1',
      'https://rt.example/rt/poll?v=1&lastEventId=10',
      'https://rt.example/rt/poll?v=1&lastEventId=12',
      'https://rt.example/rt/poll?v=1&lastEventId=12',
    ]);
    expect(fetch.calls.map((c) => c.init.headers?.['Last-Event-ID'])).toEqual([undefined, '10', '12', '12']);
  });

  it('discards an incomplete trailing event of a response', async () => {
    const rec = recorder();
    const fetch = fakeFetch(
      () => eventStreamResponse(['id: 1\ndata: whole\n\nid: 2\ndata: torn']),
      () => new Response(null, { status: 204 }),
    );
    createPollTransport(context({ fetch }), rec);
    await rec.ended;
    expect(rec.eventList()).toEqual([text('whole', 'message', '1')]);
  });

  it('parses each response as its own stream (a BOM at the start of each is stripped)', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    const rec = recorder();
    const fetch = fakeFetch(
      () => eventStreamResponse([bom, 'data: a\n\n']),
      () => eventStreamResponse([bom, 'data: b\n\n']),
      () => new Response(null, { status: 204 }),
    );
    createPollTransport(context({ fetch }), rec);
    await rec.ended;
    expect(rec.eventList()).toEqual([text('a'), text('b')]);
  });

  it.each([
    [401, { kind: 'http', status: 401, retryAfter: null }],
    [404, { kind: 'http', status: 404, retryAfter: null }],
    [500, { kind: 'http', status: 500, retryAfter: null }],
  ])('reports HTTP %i on a later poll after opening', async (status, failure) => {
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse([]), () => new Response('nope', { status }));
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual(failure);
    expect(rec.types()).toEqual(['open', 'activity', 'end']);
  });

  it('reports a wrong content type before opening', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => new Response('{}', { headers: { 'content-type': 'application/json' } }));
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'content-type', contentType: 'application/json' });
    expect(rec.types()).toEqual(['end']);
  });

  it('reports a request that outlives pollRequestTimeout as a network failure (fake timers)', async () => {
    vi.useFakeTimers();
    const rec = recorder();
    const fetch = hangingFetch();
    createPollTransport(context({ fetch, pollRequestTimeout: 40_000 }), rec);
    await vi.advanceTimersByTimeAsync(39_999);
    expect(rec.calls).toEqual([]);
    expect(fetch.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const failure = await rec.ended;
    expect(failure.kind).toBe('network');
    expect((failure as { cause: Error }).cause.message).toBe('poll timed out');
    expect(fetch.aborted()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts a body that stalls against the request timeout too, and keeps what was complete', async () => {
    vi.useFakeTimers();
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse(['data: a\n\n', 'data: part'], { hang: true }));
    createPollTransport(context({ fetch, pollRequestTimeout: 1000 }), rec);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.eventList()).toEqual([text('a')]);
    expect(rec.types()).not.toContain('end');
    await vi.advanceTimersByTimeAsync(1);
    expect(await rec.ended).toMatchObject({ kind: 'network' });
    expect(rec.eventList()).toEqual([text('a')]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears the request timer of every finished poll, and close() leaves no timer', async () => {
    vi.useFakeTimers();
    const rec = recorder();
    let n = 0;
    const fetch = fakeFetch(() => (++n < 4 ? eventStreamResponse([`data: ${n}\n\n`]) : hangingFetch()('x', { signal: new AbortController().signal })));
    const t = createPollTransport(context({ fetch, pollRequestTimeout: 1000 }), rec);
    await rec.until((c) => c.filter((x) => x.type === 'events').length === 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    t.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(rec.types()).not.toContain('end');
  });

  it('reports a fetch that throws as a network failure', async () => {
    const rec = recorder();
    const cause = new TypeError('fetch failed');
    const fetch = fakeFetch(() => Promise.reject(cause));
    createPollTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual({ kind: 'network', cause });
  });

  it('lets the listener close the transport inside events: no further poll', async () => {
    const rec = recorder({ events: () => t.close() });
    const fetch = fakeFetch(() => eventStreamResponse(['data: a\n\n']));
    const t = createPollTransport(context({ fetch }), rec);
    await rec.until((c) => c.some((x) => x.type === 'events'));
    await new Promise((r) => setTimeout(r, 20));
    expect(fetch.calls).toHaveLength(1);
    expect(rec.types()).toEqual(['open', 'activity', 'activity', 'events']);
  });
});
