import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SurewireError } from '../../src/errors';
import { createSendQueue, type SendQueue } from '../../src/send-queue';
import type { Transport } from '../../src/transports/transport';
import type { OutboundMessage, TransportName } from '../../src/types';

type Answer = 'ok' | SurewireError;

/** A transport whose sends are recorded and answered from a script (default: ok). */
function fakeTransport(name: TransportName, script: Answer[] = []) {
  const sent: OutboundMessage[][] = [];
  const transport: Transport = {
    name,
    send: vi.fn(async (batch: OutboundMessage[]) => {
      sent.push(batch);
      const answer = script.shift() ?? 'ok';
      if (answer !== 'ok') throw answer;
    }),
    close: vi.fn(),
  };
  return { transport, sent, mids: () => sent.flat().map((m) => m.mid), events: () => sent.flat().map((m) => m.event) };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function queue(maxQueue = 1000, retryDelay = (n: number) => 1000 * 2 ** n): SendQueue {
  return createSendQueue({ maxQueue, retryDelay });
}

describe('createSendQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds sends until a transport is attached, then flushes them in order in one batch', async () => {
    const q = queue();
    const results: string[] = [];
    const promises = ['a', 'b', 'c'].map((e) => q.push(e, { n: e }).then(() => results.push(e)));
    await settle();
    expect(q.size).toBe(3);
    const t = fakeTransport('sse');
    q.attach(t.transport);
    await Promise.all(promises);
    expect(t.sent).toHaveLength(1);
    expect(t.events()).toEqual(['a', 'b', 'c']);
    expect(t.sent[0]!.map((m) => m.data)).toEqual([{ n: 'a' }, { n: 'b' }, { n: 'c' }]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('gives every message a unique mid', async () => {
    const q = queue();
    const t = fakeTransport('sse');
    q.attach(t.transport);
    await Promise.all(Array.from({ length: 50 }, (_, i) => q.push('e', i)));
    expect(new Set(t.mids()).size).toBe(50);
  });

  it('sends pushed while a batch is in flight go next, in order', async () => {
    const q = queue();
    let release!: () => void;
    const t = fakeTransport('sse');
    (t.transport.send as ReturnType<typeof vi.fn>).mockImplementationOnce(async (batch: OutboundMessage[]) => {
      t.sent.push(batch);
      await new Promise<void>((r) => (release = r));
    });
    q.attach(t.transport);
    const first = q.push('a', 1);
    await settle();
    const rest = [q.push('b', 2), q.push('c', 3)];
    await settle();
    expect(t.sent).toHaveLength(1);
    release();
    await Promise.all([first, ...rest]);
    expect(t.events()).toEqual(['a', 'b', 'c']);
  });

  it('rejects beyond maxQueue with QUEUE_FULL, and the message says what to do', async () => {
    const q = queue(2);
    void q.push('a', 1);
    void q.push('b', 2);
    const error = await q.push('c', 3).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SurewireError', code: 'QUEUE_FULL' });
    expect((error as Error).message).toMatch(/raise maxQueue/);
    expect(q.size).toBe(2);
    const zero = queue(0);
    await expect(zero.push('a', 1)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  });

  it('SEND_REJECTED rejects that batch with its status and goes on with the next', async () => {
    const q = queue();
    const rejected = new SurewireError('SEND_REJECTED', 'HTTP 422', { status: 422 });
    const t = fakeTransport('sse', [rejected]);
    const a = q.push('a', 1);
    const b = q.push('b', 2);
    q.attach(t.transport);
    await expect(a).rejects.toMatchObject({ code: 'SEND_REJECTED', status: 422 });
    await expect(b).rejects.toMatchObject({ code: 'SEND_REJECTED' }); // same batch
    const c = q.push('c', 3);
    await expect(c).resolves.toBeUndefined();
    expect(t.sent.map((batch) => batch.map((m) => m.event))).toEqual([['a', 'b'], ['c']]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('SEND_FAILED keeps the batch and retries it after the delay with the same mids', async () => {
    const q = queue(1000, (n) => [500, 2000][n]!);
    const failed = new SurewireError('SEND_FAILED', 'HTTP 503', { status: 503 });
    const t = fakeTransport('sse', [failed, failed]);
    q.attach(t.transport);
    let done = false;
    const p = q.push('a', 1).then(() => (done = true));
    await settle();
    expect(t.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(t.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1999);
    expect(t.sent).toHaveLength(2);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(t.sent).toHaveLength(3);
    const mids = t.sent.map((batch) => batch[0]!.mid);
    expect(new Set(mids).size).toBe(1);
  });

  it('a plain thrown error counts as a retryable SEND_FAILED', async () => {
    const q = queue(1000, () => 100);
    const t = fakeTransport('sse');
    (t.transport.send as ReturnType<typeof vi.fn>).mockRejectedValueOnce(new TypeError('fetch failed'));
    q.attach(t.transport);
    const p = q.push('a', 1);
    await vi.advanceTimersByTimeAsync(100);
    await expect(p).resolves.toBeUndefined();
    expect(t.transport.send).toHaveBeenCalledTimes(2);
  });

  it('a failed batch waits for the next transport when the first one is gone, keeping its mid', async () => {
    const q = queue(1000, () => 100);
    const t1 = fakeTransport('sse', [new SurewireError('SEND_FAILED', 'network')]);
    q.attach(t1.transport);
    const p = q.push('a', 1);
    await settle();
    q.detach();
    await vi.advanceTimersByTimeAsync(1000);
    expect(t1.sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    const t2 = fakeTransport('poll');
    q.attach(t2.transport);
    await p;
    expect(t2.mids()).toEqual(t1.mids());
  });

  it('WebSocket with acks: unacknowledged sends go again first after a reconnect, with the same mids; acked ones do not', async () => {
    const q = queue();
    const t1 = fakeTransport('websocket');
    q.attach(t1.transport);
    q.setAckMode('on');
    await Promise.all([q.push('a', 1), q.push('b', 2), q.push('c', 3)]);
    q.ack([t1.mids()[1]!]); // b acknowledged
    q.detach();
    const d = q.push('d', 4);
    const t2 = fakeTransport('websocket');
    q.attach(t2.transport);
    await d;
    expect(t2.events()).toEqual(['a', 'c', 'd']);
    expect(t2.mids().slice(0, 2)).toEqual([t1.mids()[0], t1.mids()[2]]);
  });

  it('WebSocket without acks (hello says so, or no hello): nothing is re-sent', async () => {
    for (const mode of ['off', 'noHello'] as const) {
      const q = queue();
      const t1 = fakeTransport('websocket');
      q.attach(t1.transport);
      await q.push('a', 1);
      if (mode === 'off') q.setAckMode('off');
      else q.noHello();
      q.detach();
      const t2 = fakeTransport('websocket');
      q.attach(t2.transport);
      await settle();
      expect(t2.sent, mode).toEqual([]);
    }
  });

  it('HTTP sends are never kept for re-sending once a 2xx came back', async () => {
    const q = queue();
    const t1 = fakeTransport('sse');
    q.attach(t1.transport);
    await q.push('a', 1);
    q.detach();
    const t2 = fakeTransport('sse');
    q.attach(t2.transport);
    await settle();
    expect(t2.sent).toEqual([]);
  });

  /** A resolved WebSocket send the server never acknowledged, now going again over SSE, whose POST failed (retry pending). */
  async function resendWaitingForRetry(maxQueue: number) {
    const q = queue(maxQueue, () => 10_000);
    const ws = fakeTransport('websocket');
    q.attach(ws.transport);
    q.setAckMode('on');
    await q.push('a', 1);
    q.detach();
    const sse = fakeTransport('sse', [new SurewireError('SEND_FAILED', 'x')]);
    q.attach(sse.transport);
    await settle();
    expect(sse.events()).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(1);
    return { q, mid: ws.mids()[0] };
  }

  it('maxQueue counts the sends the app waits for, not resolved ones going out again', async () => {
    const { q } = await resendWaitingForRetry(1);
    const b = q.push('b', 2);
    await settle();
    // The app has no unsettled send: one may wait.
    await expect(Promise.race([b.then(() => 'sent', (e: SurewireError) => e.code), settle().then(() => 'waiting')])).resolves.toBe('waiting');
    await expect(q.push('c', 3)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    // The retry sends the re-send and b; from then on maxQueue counts exactly the app's sends.
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(b).resolves.toBeUndefined();
    q.detach();
    void q.push('d', 4).catch(() => {});
    await expect(q.push('e', 5)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
  });

  it('clear() keeps a resolved send that is going out again: the next transport sends it, same mid', async () => {
    const { q, mid } = await resendWaitingForRetry(1000);
    q.detach();
    q.clear(new SurewireError('CLOSED', 'closed'));
    expect(vi.getTimerCount()).toBe(0);
    const t = fakeTransport('websocket');
    q.attach(t.transport);
    await settle();
    expect(t.mids()).toEqual([mid]);
  });

  it('a resolved send going out again whose POST fails after clear() is kept too', async () => {
    const q = queue(1000, () => 10_000);
    const ws = fakeTransport('websocket');
    q.attach(ws.transport);
    q.setAckMode('on');
    await q.push('a', 1);
    q.detach();
    let fail!: (e: unknown) => void;
    const sse: Transport = { name: 'sse', close: vi.fn(), send: vi.fn(() => new Promise<void>((_, reject) => (fail = reject))) };
    q.attach(sse);
    await settle();
    q.detach();
    q.clear(new SurewireError('CLOSED', 'closed'));
    fail(new SurewireError('SEND_FAILED', 'cut'));
    await settle();
    const t = fakeTransport('websocket');
    q.attach(t.transport);
    await settle();
    expect(t.mids()).toEqual(ws.mids());
  });

  it('WebSocket with acks: a batch in flight when clear() came resolves and, unacknowledged, goes again after the next attach()', async () => {
    const q = queue();
    const sent: OutboundMessage[] = [];
    let handed!: () => void;
    const send = (batch: OutboundMessage[]): Promise<void> => {
      sent.push(...batch);
      return new Promise<void>((resolve) => (handed = resolve));
    };
    const ws: Transport = { name: 'websocket', close: vi.fn(), send: vi.fn(send) };
    q.attach(ws);
    q.setAckMode('on');
    const a = q.push('a', 1);
    await settle();
    q.detach();
    q.clear(new SurewireError('CLOSED', 'closed'));
    handed();
    await expect(a).resolves.toBeUndefined();
    const t = fakeTransport('websocket');
    q.attach(t.transport);
    await settle();
    expect(t.mids()).toEqual(sent.map((m) => m.mid));
  });

  it('clear() rejects every waiting send with the given error and clears the retry timer', async () => {
    const q = queue(1000, () => 10_000);
    const t = fakeTransport('sse', [new SurewireError('SEND_FAILED', 'x')]);
    q.attach(t.transport);
    const a = q.push('a', 1);
    const b = q.push('b', 2);
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    q.clear(new SurewireError('CLOSED', 'closed'));
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(q.size).toBe(0);
  });
});

describe('createSendQueue retry delay', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a retry delay beyond what setTimeout holds (maxDelay: Infinity) waits instead of firing at once', async () => {
    const q = queue(1000, () => Infinity);
    const t = fakeTransport('sse', [new SurewireError('SEND_FAILED', 'x')]);
    q.attach(t.transport);
    void q.push('a', 1).catch(() => {});
    await settle();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(t.sent).toHaveLength(1);
    q.clear(new SurewireError('CLOSED', 'closed'));
  });
});
