/**
 * What the hub does with bad input: oversized, malformed and wrongly typed sends are refused with
 * the status of DESIGN §5 while every other connection keeps being served; and a client that
 * stops reading is cut off before the hub's buffers pass their limit, then resumes by id with
 * nothing lost.
 */
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.mjs';
import { startHub, type HubServer } from '../support/helpers';
import { watch, type Watched } from '../support/watch';

const MAX = 4096;
let hs: HubServer;
const received: { onMessage: Array<{ event: string; mid: string }> } = { onMessage: [] };
const clients: Watched[] = [];
let next = 0;

beforeEach(async () => {
  received.onMessage = [];
  next = 0;
  hs = await startHub({
    firstId: 0, // ids from '1'
    maxMessageBytes: MAX,
    heartbeat: 1000,
    onMessage: (m) => received.onMessage.push({ event: m.event, mid: m.mid }),
  });
});
afterEach(async () => {
  for (const w of clients.splice(0)) w.client.close();
  await hs.close();
});

/** A bystander: a real client on SSE that must keep receiving while others misbehave. */
async function bystander(): Promise<Watched> {
  const w = watch({ url: hs.url, transports: ['sse'] });
  clients.push(w);
  await w.until(() => w.client.status.lastEventId !== undefined);
  return w;
}
const tick = () => hs.hub.publish('tick', { n: ++next });

function post(body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${hs.url}/send`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
}

describe('hub: bad sends over POST are refused; the bystander keeps receiving', () => {
  const cases: Array<[string, number, () => Promise<Response>]> = [
    ['a body over maxMessageBytes', 413, () => post(JSON.stringify([{ event: 'e', data: 'x'.repeat(MAX), mid: 'm1' }]))],
    ['malformed JSON', 400, () => post('[{"event": "e", "mid": "m1"')],
    ['a wrong content type', 415, () => post(JSON.stringify([{ event: 'e', data: 1, mid: 'm1' }]), 'text/plain')],
    ['an item without a mid', 400, () => post(JSON.stringify([{ event: 'e', data: 1 }]))],
    ['an event that is not a string', 400, () => post(JSON.stringify([{ event: 5, data: 1, mid: 'm1' }]))],
    ['a mid that is not a string', 400, () => post(JSON.stringify([{ event: 'e', data: 1, mid: 7 }]))],
    ['a JSON scalar', 400, () => post('42')],
    ['one bad item among good ones (all or nothing)', 400, () => post(JSON.stringify([{ event: 'e', data: 1, mid: 'ok1' }, { event: '', mid: 'm2' }]))],
  ];
  it.each(cases)('%s → HTTP %i', async (_name, code, send) => {
    const w = await bystander();
    tick();
    await w.ticks(1);
    const res = await send();
    expect(res.status).toBe(code);
    await res.arrayBuffer();
    expect(received.onMessage).toEqual([]);
    tick();
    await w.ticks(2);
    expect(w.ns).toEqual([1, 2]);
    // And the hub still takes a good send afterwards.
    const ok = await post(JSON.stringify([{ event: 'e', data: 1, mid: 'good' }]));
    expect(ok.status).toBe(204);
    expect(received.onMessage).toEqual([{ event: 'e', mid: 'good' }]);
  });
});

describe('hub: bad WebSocket frames', () => {
  /** A raw `ws` client; collects parsed frames. */
  async function rawWs(): Promise<{ ws: WebSocket; frames: Array<Record<string, unknown>>; closed: Promise<number>; until(f: (x: Record<string, unknown>) => boolean): Promise<void> }> {
    const ws = new WebSocket(`${hs.url.replace('http', 'ws')}/ws`);
    const frames: Array<Record<string, unknown>> = [];
    const waiters = new Set<() => void>();
    ws.on('message', (d) => {
      const v = JSON.parse(d.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
      frames.push(...(Array.isArray(v) ? v : [v]));
      for (const w of [...waiters]) w();
    });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('error', () => {});
    await new Promise((r) => ws.once('open', r));
    return {
      ws,
      frames,
      closed,
      until: (f) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (frames.some(f)) {
              waiters.delete(check);
              resolve();
            }
          };
          waiters.add(check);
          check();
        }),
    };
  }

  it('a frame over maxMessageBytes closes that socket 1009; the bystander keeps receiving', async () => {
    const w = await bystander();
    const c = await rawWs();
    tick();
    await w.ticks(1);
    c.ws.send(JSON.stringify({ event: 'e', data: 'x'.repeat(MAX * 2), mid: 'big' }));
    expect(await c.closed).toBe(1009);
    tick();
    await w.ticks(2);
    expect(w.ns).toEqual([1, 2]);
    expect(received.onMessage).toEqual([]);
  });

  it('non-JSON and wrongly typed frames are skipped and not acknowledged; the socket stays and good sends are acked', async () => {
    const w = await bystander();
    const c = await rawWs();
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ event: 7, mid: 'bad1' }));
    c.ws.send(JSON.stringify([{ event: 'e', data: 1 }, { event: 'e', data: 2, mid: 'good1' }]));
    await c.until((f) => f.type === 'ack');
    expect(c.frames.filter((f) => f.type === 'ack')).toEqual([{ type: 'ack', mids: ['good1'] }]);
    expect(received.onMessage).toEqual([{ event: 'e', mid: 'good1' }]);
    tick();
    await c.until((f) => f.id === '1');
    await w.ticks(1);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('hub: a client that stops reading', () => {
  let proxy: FaultProxy;
  afterEach(async () => {
    await proxy?.close();
  });

  it.each(['sse', 'websocket'] as const)('%s: is cut off before the buffers pass maxBufferedBytes, then resumes by id with nothing lost', async (transport) => {
    const LIMIT = 256 * 1024;
    await hs.close();
    hs = await startHub({ maxBufferedBytes: LIMIT, history: 10_000, heartbeat: 60_000 });
    proxy = await createFaultProxy({ targetPort: hs.port, seed: 7 });
    // A long heartbeat: the hub, not the client's liveness check, must be what ends it.
    const w = watch({ url: proxy.url('/rt'), transports: [transport], heartbeat: { interval: 30_000, timeout: 60_000 } });
    clients.push(w);
    await w.until(() => w.client.status.lastEventId !== undefined);
    tick();
    await w.ticks(1);

    // From now on the client side reads nothing: the hub's writes pile up.
    proxy.stallAll();
    const payload = 'z'.repeat(8 * 1024);
    let maxBuffered = 0;
    let cutAt: number | undefined;
    const TOTAL = 4000; // 32 MiB: far beyond what the kernel's socket buffers can hide
    await new Promise<void>((resolve) => {
      const burst = () => {
        for (let i = 0; i < 50 && next < TOTAL; i++) hs.hub.publish('tick', { n: ++next, payload });
        const stats = hs.hub.stats();
        maxBuffered = Math.max(maxBuffered, stats.bufferedBytes);
        if (cutAt === undefined && stats.connections[transport] === 0) cutAt = next;
        if (next < TOTAL) setImmediate(burst);
        else setImmediate(resolve); // one more turn: the last flush
      };
      burst();
    });
    if (cutAt === undefined && hs.hub.stats().connections[transport] === 0) cutAt = next;
    // The hub gave up on it while it was not reading, long before the burst ended.
    expect(cutAt).toBeDefined();
    expect(cutAt!).toBeLessThan(TOTAL);
    // The client wakes up: it reads what the kernel held, sees the close, and resumes by id.
    proxy.unstallAll();
    await w.ticks(TOTAL, 30_000);
    expect(w.ns).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    // The limit, plus at most one batch written before the check (BATCH_MAX_BYTES = 256 KiB).
    expect(maxBuffered).toBeLessThanOrEqual(LIMIT + 256 * 1024 + 64 * 1024);
    // It was cut (and came back), not merely slow.
    expect(w.errors.length).toBeGreaterThan(0);
    expect(w.client.status.state).toBe('open');
  }, 40_000);
});
