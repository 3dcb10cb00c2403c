/**
 * The token is a secret: it goes as `Authorization: Bearer` on HTTP and as `access_token` on the
 * WebSocket URL only (DESIGN §3). It must never appear in an error (message, stack, cause chain,
 * raw), a debug log line, a status snapshot, or any URL other than the WebSocket one — through
 * every failure this test can provoke.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isSurewireError, type WebSocketConstructor } from '../../src/index';
import { never, sseEvent, startScriptServer, status, stream, wsEvent, wsFrames, type ScriptServer } from '../support/script-server';
import { watch, type Watched } from '../support/watch';

const TOKEN = 'tok-S3CRET/+=?&#x';
const ENCODED = encodeURIComponent(TOKEN);

let srv: ScriptServer;
const clients: Watched[] = [];
afterEach(async () => {
  for (const w of clients.splice(0)) w.client.close();
  await srv?.close();
});

/** Everything an error carries, as text, down its cause chain. */
function dump(value: unknown, depth = 0): string {
  if (depth > 6 || value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (!(value instanceof Error) && !isSurewireError(value)) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  const e = value as Error & { raw?: string; cause?: unknown };
  return [e.name, e.message, e.stack ?? '', e.raw ?? '', JSON.stringify(e), dump(e.cause, depth + 1)].join('\n');
}

function expectClean(w: Watched, where: string): void {
  const texts = [
    ...w.errors.map((e) => dump(e)),
    ...w.debug,
    JSON.stringify(w.client.status),
    dump(w.client.status.error),
  ];
  for (const t of texts) {
    expect(t.includes(TOKEN) || t.includes(ENCODED), `${where}: the token leaked into:\n${t}`).toBe(false);
  }
}

function client(options: Parameters<typeof watch>[0]): Watched {
  const w = watch({ url: srv.origin, token: () => TOKEN, ...options });
  clients.push(w);
  return w;
}

describe('the token stays secret', () => {
  it('HTTP transports: in the Authorization header only, never in a URL; 401 → refresh → fatal is clean', async () => {
    srv = await startScriptServer();
    srv.on('/sse', stream(sseEvent(1), 'reset'), status(401), status(401));
    srv.on('/send', status(500), status(204));
    const w = client({ transports: ['sse'], heartbeat: { interval: 100, timeout: 2000 } });
    await w.ticks(1);
    const sent = w.client.send('note', { x: 1 });
    sent.catch(() => {});
    await w.closed();
    for (const s of srv.seen) {
      expect(s.url.includes(TOKEN) || s.url.includes(ENCODED), s.url).toBe(false);
      expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`);
    }
    expect(w.client.status.error?.code).toBe('UNAUTHORIZED');
    expectClean(w, 'sse 401');
  });

  it('poll: never in a URL, clean through a timeout and a 5xx', async () => {
    srv = await startScriptServer();
    srv.on('/poll', never, status(503), status(403));
    const w = client({ transports: ['poll'], openTimeout: 200 });
    await w.closed();
    expect(srv.to('/poll').length).toBeGreaterThanOrEqual(3);
    for (const s of srv.seen) expect(s.url.includes(TOKEN) || s.url.includes(ENCODED), s.url).toBe(false);
    expect(w.codes()).toEqual(expect.arrayContaining(['OPEN_TIMEOUT', 'HTTP_STATUS', 'FORBIDDEN']));
    expectClean(w, 'poll');
  });

  it('WebSocket: in the URL as access_token (the one place), and clean through close codes and bad frames', async () => {
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1), 'garbage', Buffer.from('bin')], { code: 1011, reason: 'try again' }), wsFrames([wsEvent(2)], { code: 4403 }));
    const w = client({ transports: ['websocket'] });
    await w.closed();
    expect(w.ns).toEqual([1, 2]);
    expect(w.codes()).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE', 'WS_CLOSE', 'FORBIDDEN']);
    expect(srv.to('ws').every((s) => s.query.get('access_token') === TOKEN)).toBe(true);
    expectClean(w, 'websocket');
  });

  it('WebSocket: a close reason that quotes the token does not carry it into the error or the log', async () => {
    // Servers do echo credentials ("token tok-… expired"). The client holds the token and builds
    // the message: it must not republish it (the same rule the transports already apply to
    // platform errors that quote URLs or headers).
    srv = await startScriptServer();
    srv.onWs(wsFrames([wsEvent(1)], { code: 1011, reason: `token ${TOKEN} expired` }), wsFrames([wsEvent(2)]));
    const w = client({ transports: ['websocket'] });
    await w.ticks(2);
    expect(w.errors[0]).toMatchObject({ code: 'WS_CLOSE', closeCode: 1011 });
    expectClean(w, 'websocket close reason');
  });

  it('a refused WebSocket and an unparseable endpoint: errors that quote URLs do not quote the token', async () => {
    srv = await startScriptServer();
    const dead = await startScriptServer();
    const deadOrigin = dead.origin;
    await dead.close();
    const w = client({
      endpoints: { websocket: `${deadOrigin}/ws`, sse: `${srv.origin}/sse` },
      transports: ['websocket', 'sse'],
    });
    srv.on('/sse', stream(sseEvent(1)));
    await w.ticks(1);
    expect(w.codes()[0]).toBe('NETWORK');
    expectClean(w, 'refused websocket');

    // A constructor that throws with the URL in its message, as browsers' SyntaxError does.
    class Throwing {
      constructor(url: string) {
        throw new SyntaxError(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`);
      }
    }
    const v = client({ transports: ['websocket', 'sse'], WebSocket: Throwing as unknown as WebSocketConstructor });
    await v.ticks(1);
    expect(v.codes()[0]).toBe('NETWORK');
    expectClean(v, 'throwing constructor');
  });

  it('a fetch that throws with the header value in its message is redacted', async () => {
    srv = await startScriptServer();
    const fetch = (_url: string, init: { headers?: Record<string, string> }) =>
      Promise.reject(new TypeError(`Invalid header value: '${init.headers?.Authorization ?? ''}'`));
    const w = client({ transports: ['sse'], fetch, reconnect: { initialDelay: 10, maxDelay: 10, maxAttempts: 1 } });
    await w.closed();
    expect(w.codes()).toContain('NETWORK');
    expectClean(w, 'throwing fetch');
  });
});
