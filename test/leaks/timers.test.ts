/**
 * After `close()` — or a fatal end — not one timer is left, in every state a client can be in:
 * connecting, open with heartbeats and pings running, reconnecting with a backoff pending, with a
 * send waiting for its retry, mid-poll. Fake timers count exactly what is pending.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type ClientOptions, type FetchLike, type ResponseLike, type WebSocketConstructor } from '../../src/index';

/** A WebSocket the test drives by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: string[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(value: unknown): void {
    this.onmessage?.({ data: JSON.stringify(value) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

/** A fetch whose event-stream bodies the test writes into; `/send` answers as told. */
function fakeFetch(sendStatus = 204) {
  const streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
  const requests: string[] = [];
  const fetch: FetchLike = (url, init) => {
    requests.push(`${init.method} ${url}`);
    if (init.method === 'POST') {
      return Promise.resolve({ status: sendStatus, ok: sendStatus < 300, headers: new Headers(), body: null, text: async () => '' } as ResponseLike);
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        streams.push(controller);
        init.signal?.addEventListener('abort', () => {
          try {
            controller.error(new DOMException('aborted', 'AbortError'));
          } catch {
            // already closed
          }
        });
      },
    });
    return Promise.resolve({ status: 200, ok: true, headers: new Headers({ 'Content-Type': 'text/event-stream' }), body, text: async () => '' } as ResponseLike);
  };
  const write = (text: string, i = streams.length - 1) => streams[i].enqueue(new TextEncoder().encode(text));
  return { fetch, streams, requests, write };
}

const base: ClientOptions = {
  url: 'http://surewire.test/rt',
  WebSocket: FakeSocket as unknown as WebSocketConstructor,
  heartbeat: { interval: 500, timeout: 1500 },
  reconnect: { initialDelay: 100, maxDelay: 1000 },
  openTimeout: 1000,
};

let client: Client | undefined;
/** Where each pending fake timer was created, so that a leak names its origin. */
const origins = new Map<unknown, string>();
function trackTimers(): void {
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [set, clear] of [
    ['setTimeout', 'clearTimeout'],
    ['setInterval', 'clearInterval'],
  ] as const) {
    const realSet = g[set];
    const realClear = g[clear];
    g[set] = (fn: unknown, ...rest: unknown[]) => {
      const wrapped = (...args: unknown[]) => {
        if (set === 'setTimeout') origins.delete(id);
        (fn as (...a: unknown[]) => void)(...args);
      };
      const id = realSet(wrapped, ...rest);
      origins.set(id, (new Error().stack ?? '').split('\n').slice(2, 7).join(' ← '));
      return id;
    };
    g[clear] = (id: unknown) => {
      origins.delete(id);
      return realClear(id);
    };
  }
}
/**
 * The pending timers that surewire created. `vi.getTimerCount()` would also count a timer that
 * Node's own fetch (undici, shared by every file this worker process ran before) re-arms through
 * the faked global while a test runs: not ours, and not this client's leak.
 */
const ours = () => [...origins.values()].filter((stack) => /[\\/]src[\\/]/.test(stack));
const expectNoTimer = () => expect(ours(), `pending timers (${vi.getTimerCount()} in all) created at:\n${[...origins.values()].join('\n')}`).toEqual([]);

beforeEach(() => {
  vi.useFakeTimers();
  origins.clear();
  trackTimers();
  FakeSocket.all = [];
});
afterEach(() => {
  client?.close();
  client = undefined;
  vi.useRealTimers(); // restores the real globals, dropping the tracking wrappers too
});

/** Lets promises settle and fake time pass. */
const pass = async (ms = 10) => {
  await vi.advanceTimersByTimeAsync(ms);
};

describe('no timer survives close()', () => {
  it('websocket, still connecting', async () => {
    client = createClient({ ...base, transports: ['websocket'] });
    await pass();
    expect(ours().length).toBeGreaterThan(0); // the open timeout, at least
    client.close();
    expectNoTimer();
  });

  it('websocket, open: liveness, pings, the stability timer, queued sends', async () => {
    client = createClient({ ...base, transports: ['websocket'] });
    await pass();
    const ws = FakeSocket.all[0];
    ws.open();
    ws.receive({ type: 'hello', heartbeat: 500, id: '0', ack: true });
    ws.receive([{ id: '1', event: 'tick', data: 1 }]);
    void client.send('note', { x: 1 }).catch(() => {});
    await pass(1200); // pings have gone out
    expect(ws.sent.some((s) => s.includes('"ping"'))).toBe(true);
    expect(ours().length).toBeGreaterThan(0);
    client.close();
    expectNoTimer();
  });

  it('websocket, reconnecting: the backoff timer', async () => {
    client = createClient({ ...base, transports: ['websocket'] });
    await pass();
    FakeSocket.all[0].open();
    FakeSocket.all[0].receive({ id: '1', event: 'tick', data: 1 });
    FakeSocket.all[0].drop(1006);
    await pass(0);
    expect(client.status.state).toBe('reconnecting');
    expect(ours().length).toBeGreaterThan(0);
    client.close();
    expectNoTimer();
  });

  it('sse, open and receiving', async () => {
    const f = fakeFetch();
    client = createClient({ ...base, transports: ['sse'], fetch: f.fetch });
    await pass();
    f.write(': ok\n\nid: 1\ndata: 1\n\n');
    await pass();
    expect(client.status.state).toBe('open');
    client.close();
    expectNoTimer();
  });

  it('sse, with a send waiting for its retry after a 503', async () => {
    const f = fakeFetch(503);
    client = createClient({ ...base, transports: ['sse'], fetch: f.fetch });
    await pass();
    f.write('id: 1\ndata: 1\n\n');
    const sent = client.send('note', { x: 1 });
    sent.catch(() => {});
    await pass(5);
    expect(f.requests.filter((r) => r.startsWith('POST')).length).toBeGreaterThanOrEqual(1);
    client.close();
    await expect(sent).rejects.toMatchObject({ code: 'CLOSED' });
    expectNoTimer();
  });

  it('poll, with a poll in flight', async () => {
    const f = fakeFetch();
    client = createClient({ ...base, transports: ['poll'], fetch: f.fetch, pollTimeout: 5000 });
    await pass();
    f.write('id: 1\ndata: 1\n\n');
    f.streams[0].close();
    await pass();
    expect(f.requests.length).toBeGreaterThanOrEqual(2); // the next poll is out
    client.close();
    expectNoTimer();
  });

  it('after connect() → close() → connect() → close()', async () => {
    client = createClient({ ...base, transports: ['websocket'] });
    await pass();
    FakeSocket.all[0].open();
    client.close();
    client.connect();
    await pass();
    FakeSocket.all[1].open();
    await pass(700);
    client.close();
    client.close(); // twice is safe
    expectNoTimer();
  });
});

describe('no timer survives a fatal end', () => {
  it('a 403 closes the client with every timer cleared', async () => {
    const fetch: FetchLike = () => Promise.resolve({ status: 403, ok: false, headers: new Headers(), body: null, text: async () => '' } as ResponseLike);
    client = createClient({ ...base, transports: ['sse', 'poll'], fetch });
    await pass();
    expect(client.status.state).toBe('closed');
    expect(client.status.error?.code).toBe('FORBIDDEN');
    expectNoTimer();
  });

  it('maxAttempts exhausted: closed, nothing pending', async () => {
    client = createClient({ ...base, transports: ['websocket'], reconnect: { initialDelay: 10, maxDelay: 10, maxAttempts: 2 } });
    for (let i = 0; i < 5 && client.status.state !== 'closed'; i++) {
      await pass();
      FakeSocket.all[FakeSocket.all.length - 1].drop(1006); // refused before open
      await pass(50);
    }
    expect(client.status.state).toBe('closed');
    expect(client.status.error?.code).toBe('MAX_ATTEMPTS');
    expectNoTimer();
  });
});
