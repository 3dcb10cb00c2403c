import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type HubMessage } from '../../src/server/index';
import { onStop, openSse, openWs, parseSse, startHub, stopAll } from './helpers';

afterEach(stopAll);

describe('createHub', () => {
  it('refuses unusable options with a TypeError that says what to pass', () => {
    expect(() => createHub({ history: -1 })).toThrow(/`history` must be a finite number ≥ 0/);
    expect(() => createHub({ pollTimeout: Number.NaN })).toThrow(TypeError);
    expect(() => createHub({ allowOrigins: 'https://a.example' as unknown as '*' })).toThrow(/array of origins/);
    expect(() => createHub({ allowOrigins: ['app.example.com'] })).toThrow(/origins like 'https:\/\/app.example.com'/);
    expect(() => createHub({ onMessage: 'x' as unknown as () => void })).toThrow(/`onMessage` must be a function/);
  });

  it('refuses a timer option above 2^31 - 1 ms, which Node would fire after 1 ms', () => {
    for (const name of ['heartbeat', 'pollTimeout', 'clientTimeout'] as const) {
      expect(() => createHub({ [name]: 2 ** 31 })).toThrow(new RegExp(`\`${name}\` must be .*≤ 2147483647`));
    }
  });

  it('takes 2^31 - 1 ms as a real timer: a poll is held, no heartbeat flood', async () => {
    const { base } = await startHub({ pollTimeout: 2 ** 31 - 1, heartbeat: 2 ** 31 - 1 });
    const poll = await Promise.race([
      fetch(`${base}/poll?lastEventId=0`).then((r) => r.text()).then(() => 'answered'),
      new Promise<string>((r) => setTimeout(() => r('held'), 300)),
    ]);
    expect(poll).toBe('held');
    const sse = await openSse(`${base}/sse`);
    await sse.until((t) => t.includes('hello'));
    await new Promise((r) => setTimeout(r, 200));
    expect(sse.text().split(':\n\n').length - 1).toBe(0);
  });

  it('refuses to attach to something that is not an http server, pointing at hub.handle', async () => {
    const hub = createHub();
    expect(() => hub.attach({} as never)).toThrow(/hub\.handle/);
    await hub.close();
  });
});

describe('publish', () => {
  it('returns strictly increasing decimal ids, also with no one connected', async () => {
    const hub = createHub({ firstId: 0 });
    expect([hub.publish('a'), hub.publish('b', 1), hub.publish('c', { x: 1 })]).toEqual(['1', '2', '3']);
    expect(hub.stats().history).toBe(3);
    await hub.close();
  });

  it('refuses an event name SSE cannot carry and data JSON cannot encode, without using an id', async () => {
    const hub = createHub({ firstId: 0 });
    expect(() => hub.publish('')).toThrow(/non-empty string/);
    expect(() => hub.publish('a\nb')).toThrow(TypeError);
    expect(() => hub.publish('surewire:hello')).toThrow(TypeError);
    expect(() => hub.publish('m', () => 1)).toThrow(/JSON-serializable/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => hub.publish('m', circular)).toThrow();
    expect(hub.publish('m')).toBe('1');
    await hub.close();
  });
});

describe('a restarted hub', () => {
  it('issues ids above those of the hub before it, and says resumed:false for their cursor', async () => {
    const before = await startHub();
    const old = ['a', 'b', 'c'].map((n) => before.hub.publish('message', n));
    await before.hub.close();
    // A restart takes longer than a millisecond, which is all the default firstId needs.
    await new Promise((r) => setTimeout(r, 2));
    const { hub, base, wsUrl } = await startHub();
    const fresh = [1, 2, 3, 4, 5].map((n) => hub.publish('message', n));
    for (const id of fresh) expect(BigInt(id)).toBeGreaterThan(BigInt(old[2]));
    const poll = parseSse(await (await fetch(`${base}/poll?lastEventId=${old[2]}`)).text());
    expect(poll[0]).toEqual({ event: 'surewire:hello', data: '{"heartbeat":15000,"resumed":false}' });
    expect(poll.slice(1).map((b) => b.id)).toEqual(fresh);
    const ws = await openWs(`${wsUrl}?lastEventId=${old[2]}`);
    const got = await ws.until((m) => m.filter((x) => x.type === undefined).length === 5);
    expect(got[0]).toMatchObject({ type: 'hello', resumed: false });
    expect(got.filter((x) => x.type === undefined).map((x) => x.id)).toEqual(fresh);
  });

  it('numbers from firstId + 1 and says firstId in the hello of an empty log', async () => {
    const { hub, base } = await startHub({ firstId: 41 });
    expect(parseSse(await (await fetch(`${base}/poll`)).text())).toEqual([{ event: 'surewire:hello', id: '41', data: '{"heartbeat":15000}' }]);
    expect(hub.publish('message', 1)).toBe('42');
    expect(() => createHub({ firstId: -1 })).toThrow(/`firstId` must be an integer from 0 to 2\^53 - 2\^40/);
    expect(() => createHub({ firstId: 1.5 })).toThrow(TypeError);
    // Too close to 2^53: `newest + 1` would stop changing and ids repeat.
    expect(() => createHub({ firstId: Number.MAX_SAFE_INTEGER - 1 })).toThrow(TypeError);
    const highest = createHub({ firstId: Number.MAX_SAFE_INTEGER - 2 ** 40 });
    expect(Number(highest.publish('a', 1))).toBe(Number.MAX_SAFE_INTEGER - 2 ** 40 + 1);
    await highest.close();
  });
});

describe('heartbeat: false', () => {
  it('announces no heartbeat in the hello', async () => {
    const { base, wsUrl } = await startHub({ firstId: 0, heartbeat: false });
    const ws = await openWs(wsUrl);
    await ws.until((m) => m.length >= 1);
    expect(ws.messages[0]).toEqual({ type: 'hello', ack: true, id: '0' });
    const sse = await openSse(`${base}/sse`);
    expect(await sse.until((t) => t.includes('data:'))).toContain('data: {}\n');
  });
});

describe('dedupe across transports', () => {
  it('acks but does not deliver again a mid first sent by POST and re-sent over WebSocket', async () => {
    const received: HubMessage[] = [];
    const { base, wsUrl } = await startHub({ onMessage: (m) => received.push(m) });
    const res = await fetch(`${base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ event: 'e', data: 1, mid: 'x1' }]) });
    expect(res.status).toBe(204);
    const ws = await openWs(wsUrl);
    ws.send([
      { event: 'e', data: 1, mid: 'x1' },
      { event: 'e', data: 2, mid: 'x2' },
    ]);
    await ws.until((m) => m.some((x) => x.type === 'ack'));
    expect(ws.messages.find((x) => x.type === 'ack')).toEqual({ type: 'ack', mids: ['x1', 'x2'] });
    expect(received.map((m) => m.mid)).toEqual(['x1', 'x2']);
  });

  it('forgets mids beyond the window', async () => {
    const received: string[] = [];
    const { wsUrl } = await startHub({ dedupeWindow: 2, onMessage: (m) => received.push(m.mid) });
    const ws = await openWs(wsUrl);
    for (const mid of ['a', 'b', 'c', 'a']) ws.send({ event: 'e', mid });
    await ws.until((m) => m.filter((x) => x.type === 'ack').length === 4);
    // 'a' fell out of a window of 2 when 'c' arrived
    expect(received).toEqual(['a', 'b', 'c', 'a']);
  });

  it('keeps going when onMessage throws: reported, acked, the rest of the frame delivered', async () => {
    const errors: unknown[] = [];
    const received: string[] = [];
    const { wsUrl } = await startHub({
      onError: (e) => errors.push(e),
      onMessage: (m) => {
        received.push(m.mid);
        if (m.mid === 'boom') throw new Error('app bug');
      },
    });
    const ws = await openWs(wsUrl);
    ws.send([
      { event: 'e', mid: 'boom' },
      { event: 'e', mid: 'ok' },
    ]);
    await ws.until((m) => m.some((x) => x.type === 'ack'));
    expect(ws.messages.find((x) => x.type === 'ack')).toEqual({ type: 'ack', mids: ['boom', 'ok'] });
    expect(received).toEqual(['boom', 'ok']);
    expect(errors).toHaveLength(1);
  });

  it('reports a rejection of an async onMessage to onError, never as an unhandled rejection', async () => {
    const boom = new Error('db down');
    let settle!: (where: string) => void;
    const reached = new Promise<string>((r) => (settle = r));
    const onUnhandled = (reason: unknown) => reason === boom && settle('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    onStop(() => void process.off('unhandledRejection', onUnhandled));
    const { wsUrl } = await startHub({
      // a common shape: `async (msg) => { await db.save(msg) }`, which the `=> void` type accepts
      onMessage: async () => {
        throw boom;
      },
      onError: (e) => e === boom && settle('onError'),
    });
    const ws = await openWs(wsUrl);
    ws.send({ event: 'e', mid: 'm1' });
    expect(await reached).toBe('onError');
    await ws.until((m) => m.some((x) => x.type === 'ack'));
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  });

  it('keeps serving when onError itself throws, for a throwing and a rejecting onMessage alike', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    onStop(() => void process.off('unhandledRejection', onUnhandled));
    let calls = 0;
    const { wsUrl, base } = await startHub({
      onMessage: (m) => {
        if (m.mid.startsWith('sync')) throw new Error('app bug');
        return Promise.reject(new Error('db down')) as unknown as void;
      },
      onError: () => {
        calls++;
        throw new Error('onError bug');
      },
    });
    const ws = await openWs(wsUrl);
    ws.send([
      { event: 'e', mid: 'sync1' },
      { event: 'e', mid: 'async1' },
    ]);
    // a deadline: an onError throw escaping the frame handler would stop the ack for good
    const acked = await Promise.race([ws.until((m) => m.some((x) => x.type === 'ack')).then(() => 'acked'), new Promise<string>((r) => setTimeout(() => r('no ack after 3 s'), 3000))]);
    expect(acked).toBe('acked');
    const send = await fetch(`${base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ event: 'e', mid: 'sync2' }) });
    expect(send.status).toBe(204);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(3);
    expect(unhandled).toEqual([]);
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
  });
});
