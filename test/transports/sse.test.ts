import { describe, expect, it } from 'vitest';
import { MAX_BUFFER } from '../../src/transports/event-stream';
import { createSseTransport } from '../../src/transports/sse';
import type { WireEvent } from '../../src/transports/transport';
import { context, eventStreamResponse, fakeFetch, hangingFetch, recorder } from './helpers';

const text = (data: string, event = 'message', id?: string): WireEvent => ({ id, event, format: 'text', data });

/** Runs one SSE stream made of `chunks` to its end and returns the recorder. */
async function stream(chunks: Array<string | Uint8Array>, opts: { error?: Error } = {}) {
  const rec = recorder();
  const fetch = fakeFetch(() => eventStreamResponse(chunks, opts));
  createSseTransport(context({ fetch }), rec);
  await rec.ended;
  return rec;
}

describe('sse transport: parsing', () => {
  it('delivers events in order with their own ids, reporting activity before each chunk', async () => {
    const rec = await stream([': hi\n\n', 'id: 1\nevent: chat\ndata: a\n\n', 'id: 2\ndata: b\n\ndata: c\n\n']);
    expect(rec.types()).toEqual(['open', 'activity', 'activity', 'events', 'activity', 'events', 'end']);
    expect(rec.eventList()).toEqual([text('a', 'chat', '1'), text('b', 'message', '2'), text('c')]);
    expect(rec.eventList()[2]).toHaveProperty('id', undefined);
    expect(rec.calls.at(-1)).toEqual({ type: 'end', failure: { kind: 'ended' } });
  });

  it('delivers the events of one chunk in a single batch', async () => {
    const rec = await stream(['data: 1\n\ndata: 2\n\ndata: 3\n\n']);
    expect(rec.batches()).toEqual([[text('1'), text('2'), text('3')]]);
  });

  it('handles a CRLF split across chunks, and mixed CR / LF / CRLF', async () => {
    const rec = await stream(['data: a\r', '\ndata: b\r\n', '\r', '\nid: 7\rdata: c\r\rdata: d\n\r\n']);
    expect(rec.eventList()).toEqual([text('a\nb'), text('c', 'message', '7'), text('d')]);
  });

  it('delivers the last event of a CR-only chunk without waiting for more bytes', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse(['data: x\r\r'], { hang: true }));
    const t = createSseTransport(context({ fetch }), rec);
    await rec.until((c) => c.some((x) => x.type === 'events'));
    expect(rec.eventList()).toEqual([text('x')]);
    t.close();
  });

  it('strips a BOM at the start of the stream, also when split across chunks', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    const rec1 = await stream([bom, 'data: a\n\n']);
    expect(rec1.eventList()).toEqual([text('a')]);
    const rec2 = await stream([bom.subarray(0, 2), new Uint8Array([0xbf, 0x64]), 'ata: b\n\n']);
    expect(rec2.eventList()).toEqual([text('b')]);
    // Only the first one: a later BOM is data.
    const rec3 = await stream(['data: \uFEFFc\n\n']);
    expect(rec3.eventList()).toEqual([text('\uFEFFc')]);
  });

  it('decodes a UTF-8 character split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: h€llo 😀\n\n');
    const chunks = Array.from(bytes, (b) => new Uint8Array([b]));
    const rec = await stream(chunks);
    expect(rec.eventList()).toEqual([text('h€llo 😀')]);
  });

  it('delivers a 1 MiB data line arriving in many chunks', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const parts = ['id: big\ndata: '];
    for (let i = 0; i < big.length; i += 10_000) parts.push(big.slice(i, i + 10_000));
    parts.push('\n\n');
    const rec = await stream(parts);
    expect(rec.eventList()).toHaveLength(1);
    expect(rec.eventList()[0].data).toHaveLength(1024 * 1024);
    expect(rec.eventList()[0].id).toBe('big');
  });

  it('fails like a network error once an unfinished line outgrows MAX_BUFFER, instead of growing without bound', async () => {
    const mib = 'x'.repeat(1024 * 1024);
    const parts = ['data: a\n\n', 'data: '];
    for (let i = 0; i * mib.length <= MAX_BUFFER; i++) parts.push(mib);
    const rec = await stream(parts);
    expect(rec.eventList()).toEqual([text('a')]);
    const end = rec.calls.at(-1) as { type: string; failure: { kind: string; cause?: Error } };
    expect(end.type).toBe('end');
    expect(end.failure.kind).toBe('network');
    expect(end.failure.cause?.message).toMatch(/max buffer size/);
  });

  it('ignores an id containing NUL, and never carries an id over to the next block', async () => {
    const rec = await stream(['id: 1\ndata: a\n\n', 'id: 2\0x\ndata: b\n\n', 'data: c\n\n', 'id: 3\nid: 4\0\ndata: d\n\n']);
    expect(rec.eventList()).toEqual([text('a', 'message', '1'), text('b'), text('c'), text('d', 'message', '3')]);
  });

  it('treats an empty id line as no id', async () => {
    const rec = await stream(['id:\ndata: a\n\n']);
    expect(rec.eventList()).toEqual([text('a')]);
  });

  it('reports a valid retry and ignores `retry: abc`', async () => {
    const rec = await stream(['retry: abc\n\nretry: 1.5\n\nretry: 2500\n\ndata: a\n\n']);
    expect(rec.calls.filter((c) => c.type === 'retry')).toEqual([{ type: 'retry', ms: 2500 }]);
    expect(rec.eventList()).toEqual([text('a')]);
    expect(rec.types()).not.toContain('bad');
  });

  it('does not dispatch an event without data lines, but does with an empty one', async () => {
    const rec = await stream(['event: x\nid: 5\n\n', 'event: y\ndata\n\n', 'event: z\ndata:\n\n']);
    expect(rec.eventList()).toEqual([text('', 'y'), text('', 'z')]);
  });

  it('joins multi-line data and defaults an empty event name to message', async () => {
    const rec = await stream(['event:\ndata: a\ndata:b\ndata:  c\n\n']);
    expect(rec.eventList()).toEqual([text('a\nb\n c')]);
  });

  it('turns surewire:hello into hello (not an event), keeping its place among events', async () => {
    const rec = await stream([
      'data: before\n\nevent: surewire:hello\nid: 42\ndata: {"heartbeat":15000,"resumed":false,"extra":1}\n\ndata: after\n\n',
    ]);
    expect(rec.calls.filter((c) => c.type !== 'activity').map((c) => c.type)).toEqual(['open', 'events', 'hello', 'events', 'end']);
    expect(rec.calls.find((c) => c.type === 'hello')).toEqual({ type: 'hello', hello: { heartbeat: 15000, resumed: false, id: '42' } });
    expect(rec.eventList()).toEqual([text('before'), text('after')]);
  });

  it('gives a hello without an id line no id, and reports a malformed hello as bad', async () => {
    const rec = await stream(['event: surewire:hello\ndata: {"resumed":true}\n\n', 'event: surewire:hello\ndata: {oops\n\n', 'event: surewire:hello\ndata: 3\n\n']);
    expect(rec.calls.filter((c) => c.type === 'hello')).toEqual([{ type: 'hello', hello: { resumed: true } }]);
    const bad = rec.calls.filter((c) => c.type === 'bad');
    expect(bad.map((c) => c.type === 'bad' && c.raw)).toEqual(['{oops', '3']);
    expect(rec.eventList()).toEqual([]);
  });

  it('discards an event torn by the end of the stream', async () => {
    const rec = await stream(['data: whole\n\n', 'id: 9\ndata: torn\n']);
    expect(rec.eventList()).toEqual([text('whole')]);
    expect(await rec.ended).toEqual({ kind: 'ended' });
  });

  it('discards an event torn by a read error and reports a network failure', async () => {
    const boom = new Error('connection reset');
    const rec = await stream(['data: whole\n\ndata: torn'], { error: boom });
    expect(rec.eventList()).toEqual([text('whole')]);
    expect(await rec.ended).toEqual({ kind: 'network', cause: boom });
  });

  it('lets the listener close the transport mid-chunk: nothing more is reported', async () => {
    const rec = recorder({ events: () => t.close() });
    const fetch = fakeFetch(() => eventStreamResponse(['data: 1\n\nevent: surewire:hello\ndata: {}\n\ndata: 2\n\n', 'data: 3\n\n']));
    const t = createSseTransport(context({ fetch }), rec);
    await rec.until((c) => c.some((x) => x.type === 'events'));
    await new Promise((r) => setTimeout(r, 20));
    expect(rec.types()).toEqual(['open', 'activity', 'events']);
  });
});

describe('sse transport: request and response rules', () => {
  it('sends the cursor as query and header, the token as a bearer header, and the user headers', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse([]));
    createSseTransport(
      context({ fetch, url: 'https://rt.example/rt/sse?room=a%20b&x', cursor: '4 2', token: 's3cr3t', withCredentials: true, headers: { 'X-App': '1', accept: 'text/html' } }),
      rec,
    );
    await rec.ended;
    const [{ url, init }] = fetch.calls;
    expect(url).toBe('https://rt.example/rt/sse?room=a%20b&x&lastEventId=4%202');
    expect(url).not.toContain('s3cr3t');
    expect(init).toMatchObject({ method: 'GET', credentials: 'include', cache: 'no-store', redirect: 'follow' });
    expect(init.headers).toEqual({ 'X-App': '1', Accept: 'text/event-stream', 'Last-Event-ID': '4 2', Authorization: 'Bearer s3cr3t' });
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  it('sends only the string keys of a headers object: a symbol key (a tagged object) would make fetch throw on every request', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse([]));
    const headers = { 'X-App': '1', [Symbol('meta')]: 'internal' } as Record<string, string>;
    createSseTransport(context({ fetch, headers }), rec);
    await rec.ended;
    expect(Reflect.ownKeys(fetch.calls[0].init.headers!)).toEqual(['X-App', 'Accept']);
    expect(() => new Headers(fetch.calls[0].init.headers)).not.toThrow();
  });

  it('sends no cursor and no Authorization when there are none, and same-origin credentials', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => eventStreamResponse([]));
    createSseTransport(context({ fetch }), rec);
    await rec.ended;
    expect(fetch.calls[0].url).toBe('https://rt.example/rt/sse');
    expect(fetch.calls[0].init.headers).toEqual({ Accept: 'text/event-stream' });
    expect(fetch.calls[0].init.credentials).toBe('same-origin');
  });

  it.each([
    [204, {}, { kind: 'no-content' }],
    [401, { 'retry-after': '7' }, { kind: 'http', status: 401, retryAfter: '7' }],
    [404, {}, { kind: 'http', status: 404, retryAfter: null }],
    [500, {}, { kind: 'http', status: 500, retryAfter: null }],
  ])('reports HTTP %i without opening, and cancels the body', async (status, headers, failure) => {
    const rec = recorder();
    let cancelled = false;
    const body = new ReadableStream({ cancel: () => void (cancelled = true) });
    const fetch = fakeFetch(() => new Response(status === 204 ? null : body, { status, headers: { 'content-type': 'text/event-stream', ...headers } }));
    createSseTransport(context({ fetch }), rec);
    expect(await rec.ended).toEqual(failure);
    expect(rec.types()).toEqual(['end']);
    if (status !== 204) expect(cancelled).toBe(true);
  });

  it('accepts text/event-stream in any case and with parameters; refuses other content types', async () => {
    const ok = recorder();
    createSseTransport(context({ fetch: fakeFetch(() => eventStreamResponse([], { headers: { 'content-type': 'Text/Event-Stream; charset=utf-8' } })) }), ok);
    expect(await ok.ended).toEqual({ kind: 'ended' });
    expect(ok.types()).toEqual(['open', 'end']);

    const html = recorder();
    createSseTransport(context({ fetch: fakeFetch(() => eventStreamResponse(['<html>'], { headers: { 'content-type': 'text/html; charset=utf-8' } })) }), html);
    expect(await html.ended).toEqual({ kind: 'content-type', contentType: 'text/html; charset=utf-8' });

    const none = recorder();
    createSseTransport(context({ fetch: fakeFetch(() => new Response('x', { status: 200 })) }), none);
    expect(await none.ended).toMatchObject({ kind: 'content-type' });
  });

  it('reports a fetch that throws as a network failure, asynchronously, without the token', async () => {
    const rec = recorder();
    const fetch = fakeFetch(() => {
      throw new TypeError('Headers.append: "Bearer tok en" is an invalid header value.');
    });
    createSseTransport(context({ fetch, token: 'tok en' }), rec);
    expect(rec.calls).toEqual([]);
    const failure = await rec.ended;
    expect(failure.kind).toBe('network');
    const cause = (failure as { cause: Error }).cause;
    expect(cause.message).not.toContain('tok en');
    expect(cause.message).toContain('[redacted]');
    expect(String(cause.stack)).not.toContain('tok en');
  });

  it('reports a relative URL without a page location as a network failure with the fix', async () => {
    const rec = recorder();
    createSseTransport(context({ url: '/rt/sse', fetch: fakeFetch(() => eventStreamResponse([])) }), rec);
    const failure = await rec.ended;
    expect(failure).toMatchObject({ kind: 'network' });
    expect(String((failure as { cause: Error }).cause.message)).toMatch(/absolute URL/);
  });

  it('reports a missing fetch as a network failure that says how to inject one', async () => {
    const saved = globalThis.fetch;
    // @ts-expect-error simulate a platform without fetch
    delete globalThis.fetch;
    try {
      const rec = recorder();
      createSseTransport(context(), rec);
      const failure = await rec.ended;
      expect(failure.kind).toBe('network');
      expect((failure as { cause: Error }).cause.message).toMatch(/pass `fetch`/);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('falls back to the global fetch, called with globalThis as receiver', async () => {
    const saved = globalThis.fetch;
    let receiver: unknown;
    globalThis.fetch = function (this: unknown) {
      receiver = this;
      return Promise.resolve(eventStreamResponse(['data: g\n\n']));
    } as typeof fetch;
    try {
      const rec = recorder();
      createSseTransport(context(), rec);
      await rec.ended;
      expect(receiver).toBe(globalThis);
      expect(rec.eventList()).toEqual([text('g')]);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('close() aborts the request and reports nothing, even when called before the fetch starts', async () => {
    const rec = recorder();
    const fetch = hangingFetch();
    const t = createSseTransport(context({ fetch }), rec);
    await Promise.resolve();
    await Promise.resolve();
    expect(fetch.calls).toHaveLength(1);
    t.close();
    t.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(fetch.aborted()).toBe(true);
    expect(rec.calls).toEqual([]);

    const rec2 = recorder();
    const fetch2 = hangingFetch();
    createSseTransport(context({ fetch: fetch2 }), rec2).close();
    await new Promise((r) => setTimeout(r, 10));
    expect(fetch2.calls).toHaveLength(0);
    expect(rec2.calls).toEqual([]);
  });

  it('close() during the stream cancels the body even when fetch ignores the signal', async () => {
    const rec = recorder();
    let cancelled = false;
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode('data: 1\n\n'));
      },
      cancel: () => void (cancelled = true),
    });
    const fetch = fakeFetch(() => new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
    const t = createSseTransport(context({ fetch }), rec);
    await rec.until((c) => c.some((x) => x.type === 'events'));
    t.close();
    await new Promise((r) => setTimeout(r, 10));
    expect(cancelled).toBe(true);
    expect(rec.types()).toEqual(['open', 'activity', 'events']);
  });

  it('keeps reporting when a listener throws, and surfaces the error', async () => {
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const boom = new Error('handler bug');
      const rec = recorder({
        events: (b) => {
          if (b[0].data === '1') throw boom;
        },
      });
      createSseTransport(context({ fetch: fakeFetch(() => eventStreamResponse(['data: 1\n\n', 'data: 2\n\n'])) }), rec);
      expect(await rec.ended).toEqual({ kind: 'ended' });
      expect(rec.eventList().map((e) => e.data)).toEqual(['1', '2']);
      await new Promise((r) => setTimeout(r, 0));
      expect(errors).toEqual([boom]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });
});
