// @vitest-environment jsdom
/**
 * In a page (jsdom): the client listens on `window` (`online`) and `document`
 * (`visibilitychange`) while it runs, and leaves not one listener behind after `close()`, after a
 * fatal end, or after several connect/close cycles. The offline rule of DESIGN §4 is checked
 * here too, since it needs those listeners.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sseEvent, startScriptServer, status, stream, type ScriptServer } from '../support/script-server';
import { watch, type Watched } from '../support/watch';

type Target = { addEventListener: EventTarget['addEventListener']; removeEventListener: EventTarget['removeEventListener'] };

/** Counts listeners added minus removed on a target, by event type (same function = same listener). */
function countListeners(target: Target) {
  const live = new Map<string, Set<unknown>>();
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  target.addEventListener = ((type: string, fn: unknown, opts?: unknown) => {
    if (!live.has(type)) live.set(type, new Set());
    live.get(type)!.add(fn);
    return add(type, fn as EventListener, opts as AddEventListenerOptions);
  }) as Target['addEventListener'];
  target.removeEventListener = ((type: string, fn: unknown, opts?: unknown) => {
    live.get(type)?.delete(fn);
    return remove(type, fn as EventListener, opts as EventListenerOptions);
  }) as Target['removeEventListener'];
  return {
    /** `{ type: count }` of listeners still registered. */
    left: () => Object.fromEntries([...live].filter(([, s]) => s.size > 0).map(([t, s]) => [t, s.size])),
    restore() {
      target.addEventListener = add;
      target.removeEventListener = remove;
    },
  };
}

let srv: ScriptServer;
let onWindow: ReturnType<typeof countListeners>;
let onDocument: ReturnType<typeof countListeners>;
const clients: Watched[] = [];
let online = true;

beforeEach(async () => {
  srv = await startScriptServer();
  onWindow = countListeners(window);
  onDocument = countListeners(document);
  online = true;
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
});
afterEach(async () => {
  for (const w of clients.splice(0)) w.client.close();
  onWindow.restore();
  onDocument.restore();
  await srv.close();
});

function client(options: Parameters<typeof watch>[0]): Watched {
  const w = watch({ url: srv.origin, ...options });
  clients.push(w);
  return w;
}

describe('window and document listeners', () => {
  it('are added while running and all removed by close()', async () => {
    srv.on('/sse', stream(sseEvent(1)));
    const w = client({ transports: ['sse'] });
    await w.ticks(1);
    expect(Object.keys({ ...onWindow.left(), ...onDocument.left() }).length).toBeGreaterThan(0);
    w.client.close();
    expect(onWindow.left()).toEqual({});
    expect(onDocument.left()).toEqual({});
  });

  it('are all removed by a fatal end (403), without close()', async () => {
    srv.on('/sse', stream(sseEvent(1), 'end'), status(403));
    const w = client({ transports: ['sse'] });
    await w.closed();
    expect(w.ns).toEqual([1]);
    expect(onWindow.left()).toEqual({});
    expect(onDocument.left()).toEqual({});
  });

  it('do not pile up over connect/close cycles', async () => {
    srv.on('/sse', stream(sseEvent(1)));
    const w = client({ transports: ['sse'] });
    for (let i = 0; i < 5; i++) {
      await w.until(() => w.client.status.state === 'open');
      w.client.close();
      w.client.connect();
    }
    const left = { ...onWindow.left(), ...onDocument.left() };
    expect(Math.max(...Object.values(left))).toBe(1); // one of each, from the running client
    w.client.close();
    expect(onWindow.left()).toEqual({});
    expect(onDocument.left()).toEqual({});
  });
});

describe('§4 browser goes offline', () => {
  it('no attempt is spent while offline; `online` reconnects at once and resumes', async () => {
    srv.on('/sse', stream(sseEvent(1), 'reset'), stream(sseEvent(2)));
    const w = client({ transports: ['sse'], reconnect: { initialDelay: 10, maxDelay: 20 } });
    await w.ticks(1);
    online = false;
    await w.until(() => w.client.status.state === 'reconnecting');
    const count = srv.to('/sse').length;
    // An absence again: 20 backoffs' worth of time, and not one request.
    await new Promise((r) => setTimeout(r, 400));
    expect(srv.to('/sse').length).toBe(count);
    online = true;
    window.dispatchEvent(new Event('online'));
    await w.ticks(2);
    expect(w.ns).toEqual([1, 2]);
    expect(srv.to('/sse')[1].query.get('lastEventId')).toBe('1');
  });
});
