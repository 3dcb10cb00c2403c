import { afterEach, describe, expect, it } from 'vitest';
import { openSse, parseSse, startHub, stopAll, waitFor } from './helpers';

afterEach(stopAll);

const hello = (text: string) => parseSse(text).find((b) => b.event === 'surewire:hello');
const events = (text: string) => parseSse(text).filter((b) => b.event !== 'surewire:hello');

describe('SSE', () => {
  it('answers 200 text/event-stream, writes :ok at once, then a hello with the newest id', async () => {
    const { hub, base } = await startHub({ firstId: 0, heartbeat: 15000 });
    hub.publish('message', 1);
    hub.publish('message', 2);
    const sse = await openSse(`${base}/sse`);
    expect(sse.res.status).toBe(200);
    expect(sse.res.headers.get('content-type')).toBe('text/event-stream');
    expect(sse.res.headers.get('cache-control')).toBe('no-cache');
    expect(sse.res.headers.get('x-accel-buffering')).toBe('no');
    const text = await sse.until((t) => t.includes('surewire:hello'));
    expect(text.startsWith(':ok\n\n')).toBe(true);
    // no cursor: id = newest, no `resumed`, and nothing replayed
    expect(hello(text)).toEqual({ event: 'surewire:hello', id: '2', data: '{"heartbeat":15000}' });
    hub.publish('chat', { text: 'hi' });
    const live = await sse.until((t) => events(t).length > 0);
    expect(events(live)).toEqual([{ id: '3', event: 'chat', data: '{"text":"hi"}' }]);
  });

  it('says id 0 while the log is empty', async () => {
    const { base } = await startHub({ firstId: 0 });
    const sse = await openSse(`${base}/sse`);
    expect(hello(await sse.until((t) => t.includes('data:')))?.id).toBe('0');
  });

  it('replays after lastEventId from the query, with resumed:true and no id in the hello', async () => {
    const { hub, base } = await startHub({ firstId: 0 });
    for (let i = 1; i <= 5; i++) hub.publish('message', i);
    const sse = await openSse(`${base}/sse?lastEventId=3`);
    const text = await sse.until((t) => t.includes('id: 5'));
    expect(hello(text)).toEqual({ event: 'surewire:hello', data: expect.stringContaining('"resumed":true') });
    expect(events(text).map((e) => [e.id, e.data])).toEqual([
      ['4', '4'],
      ['5', '5'],
    ]);
  });

  it('reads Last-Event-ID from the header, and the query wins over it', async () => {
    const { hub, base } = await startHub({ firstId: 0 });
    for (let i = 1; i <= 5; i++) hub.publish('message', i);
    const byHeader = await openSse(`${base}/sse`, { headers: { 'Last-Event-ID': '4' } });
    expect(events(await byHeader.until((t) => t.includes('id: 5'))).map((e) => e.id)).toEqual(['5']);
    const both = await openSse(`${base}/sse?lastEventId=2`, { headers: { 'Last-Event-ID': '4' } });
    expect(events(await both.until((t) => t.includes('id: 5'))).map((e) => e.id)).toEqual(['3', '4', '5']);
  });

  it('says resumed:false and replays every held event after a gap or an unknown id', async () => {
    const { hub, base } = await startHub({ firstId: 0, history: 3 });
    for (let i = 1; i <= 6; i++) hub.publish('message', i);
    for (const cursor of ['1', 'garbage', '99']) {
      const sse = await openSse(`${base}/sse?lastEventId=${cursor}`);
      const text = await sse.until((t) => t.includes('id: 6'));
      expect(JSON.parse(hello(text)!.data)).toEqual({ heartbeat: 15000, resumed: false });
      expect(events(text).map((e) => e.id)).toEqual(['4', '5', '6']);
      await sse.cancel();
    }
  });

  it('sends a comment every heartbeat', async () => {
    const { base } = await startHub({ heartbeat: 50 });
    const sse = await openSse(`${base}/sse`);
    const text = await sse.until((t) => t.split(':\n\n').length >= 3);
    expect(text.match(/^:\n\n/gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it('sends a large replay completely and in order (flow-controlled, not cut off)', async () => {
    // 300 × 8 KiB = 2.4 MB of replay against a 256 KiB slow-client limit.
    const { hub, base } = await startHub({ firstId: 0, history: 300, maxBufferedBytes: 256 * 1024 });
    const blob = 'x'.repeat(8192);
    for (let i = 1; i <= 300; i++) hub.publish('message', { i, blob });
    const sse = await openSse(`${base}/sse?lastEventId=0`);
    const text = await sse.until((t) => t.includes('id: 300\n'));
    expect(events(text).map((e) => Number(e.id))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });
});

describe('long-poll', () => {
  it('without a cursor answers at once with only the hello carrying the newest id', async () => {
    const { hub, base } = await startHub({ firstId: 0, pollTimeout: 10_000 });
    let res = await fetch(`${base}/poll`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(parseSse(await res.text())).toEqual([{ event: 'surewire:hello', id: '0', data: '{"heartbeat":15000}' }]);
    hub.publish('message', 'a');
    res = await fetch(`${base}/poll`);
    expect(parseSse(await res.text())).toEqual([{ event: 'surewire:hello', id: '1', data: '{"heartbeat":15000}' }]);
  });

  it('answers at once with pending events and no hello when fully resumed', async () => {
    const { hub, base } = await startHub({ firstId: 0, pollTimeout: 10_000 });
    for (let i = 1; i <= 3; i++) hub.publish('message', i);
    const res = await fetch(`${base}/poll?lastEventId=1`);
    expect(parseSse(await res.text())).toEqual([
      { id: '2', data: '2' },
      { id: '3', data: '3' },
    ]);
    // header cursor works too
    const byHeader = await fetch(`${base}/poll`, { headers: { 'Last-Event-ID': '2' } });
    expect(parseSse(await byHeader.text())).toEqual([{ id: '3', data: '3' }]);
  });

  it('holds a poll at the head and answers it with the burst published later, in one body', async () => {
    const { hub, base } = await startHub({ firstId: 0, pollTimeout: 10_000 });
    hub.publish('message', 0);
    const pending = fetch(`${base}/poll?lastEventId=1`).then(async (r) => ({ status: r.status, text: await r.text() }));
    await waitFor(() => hub.stats().connections.poll === 1);
    hub.publish('a', 1);
    hub.publish('b', 2);
    const { status, text } = await pending;
    expect(status).toBe(200);
    expect(parseSse(text)).toEqual([
      { id: '2', event: 'a', data: '1' },
      { id: '3', event: 'b', data: '2' },
    ]);
    expect(hub.stats().connections.poll).toBe(0);
  });

  it('answers 200 with an empty body after pollTimeout when nothing happened (never 204)', async () => {
    const { base } = await startHub({ firstId: 0, pollTimeout: 150 });
    const started = Date.now();
    const res = await fetch(`${base}/poll?lastEventId=0`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('holds a poll at most 2 × the heartbeat it announces, within the 2h + 5000 ms clients wait for', async () => {
    // A client's timeout from the hello is 2 × 100 + 5000 = 5200 ms: a 5600 ms hold would be taken for a dead poll.
    const { base } = await startHub({ firstId: 0, heartbeat: 100, pollTimeout: 5600 });
    expect(hello(await (await fetch(`${base}/poll`)).text())).toEqual({ event: 'surewire:hello', id: '0', data: '{"heartbeat":100}' });
    const started = Date.now();
    const res = await fetch(`${base}/poll?lastEventId=0`);
    expect(await res.text()).toBe('');
    const held = Date.now() - started;
    expect(held).toBeGreaterThanOrEqual(180);
    expect(held).toBeLessThan(2 * 100 + 5000);
  });

  it('starts an answer after a gap with hello resumed:false, and holds it when nothing is held', async () => {
    const { hub, base } = await startHub({ firstId: 0, history: 2, pollTimeout: 150 });
    for (let i = 1; i <= 4; i++) hub.publish('message', i);
    const gap = parseSse(await (await fetch(`${base}/poll?lastEventId=1`)).text());
    expect(gap).toEqual([
      { event: 'surewire:hello', data: '{"heartbeat":15000,"resumed":false}' },
      { id: '3', data: '3' },
      { id: '4', data: '4' },
    ]);
    const empty = await startHub({ firstId: 0, pollTimeout: 100 });
    const res = await fetch(`${empty.base}/poll?lastEventId=garbage`);
    expect(parseSse(await res.text())).toEqual([{ event: 'surewire:hello', data: '{"heartbeat":15000,"resumed":false}' }]);
  });

  it('sends a held poll its headers at once, so that a quiet channel is not mistaken for a black hole', async () => {
    const { hub, base } = await startHub({ pollTimeout: 10_000 });
    const started = Date.now();
    const res = await fetch(`${base}/poll?lastEventId=0`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(Date.now() - started).toBeLessThan(5_000); // held for 10 s, but the headers came first
    const body = res.text();
    hub.publish('message', { n: 1 });
    expect(await body).toContain('"n":1');
  });

  it('forgets a poll whose client went away', async () => {
    const { hub, base } = await startHub({ pollTimeout: 10_000 });
    const controller = new AbortController();
    const pending = fetch(`${base}/poll?lastEventId=0`, { signal: controller.signal })
      .then((r) => r.text())
      .catch(() => 'aborted');
    await waitFor(() => hub.stats().connections.poll === 1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await waitFor(() => hub.stats().connections.poll === 0);
  });
});
