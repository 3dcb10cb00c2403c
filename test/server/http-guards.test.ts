import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, readToken, type HubMessage } from '../../src/server/index';
import { closeServer, once, onStop, openWs, startHub, stopAll, upgradeStatus } from './helpers';

afterEach(stopAll);

const json = { 'Content-Type': 'application/json' };

/** A raw request, so that the test controls the body stream (chunked, oversized). */
function rawRequest(url: string, options: http.RequestOptions, write: (req: http.ClientRequest) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    write(req);
  });
}

describe('routing', () => {
  it('answers 404 for unknown paths under the base and passes other paths to the app', async () => {
    const { base, port } = await startHub();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}`)).status).toBe(404);
    const app = await fetch(`http://127.0.0.1:${port}/elsewhere`);
    expect(await app.text()).toBe('app');
  });

  it('answers 405 for a wrong method, 426 for a plain GET on /ws', async () => {
    const { base } = await startHub();
    const wrong = await fetch(`${base}/send`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await fetch(`${base}/sse`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/ws`)).status).toBe(426);
  });

  it('works as Express-style middleware with a relative req.url, calling next for other paths', async () => {
    const hub = createHub({ firstId: 0, pollTimeout: 10_000 });
    const server = http.createServer((req, res) => {
      // a minimal `app.use('/rt', hub.handle)`: strip the mount, as Express does
      if (req.url?.startsWith('/rt/')) {
        req.url = req.url.slice(3);
        hub.handle(req, res, () => {
          res.statusCode = 418;
          res.end('next');
        });
      } else res.end('app');
    });
    server.on('upgrade', hub.handleUpgrade);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onStop(async () => {
      await hub.close();
      await closeServer(server);
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hub.publish('message', 1);
    const poll = await fetch(`${origin}/rt/poll?lastEventId=0`);
    expect(await poll.text()).toBe('id: 1\ndata: 1\n\n');
    expect((await fetch(`${origin}/rt/other`)).status).toBe(418);
    const ws = await openWs(`${origin.replace('http', 'ws')}/rt/ws`);
    await ws.until((m) => m[0]?.type === 'hello');
  });

  it('attach keeps the app for other paths and restores it on detach', async () => {
    const hub = createHub();
    const server = http.createServer((_req, res) => res.end('app'));
    const detach = hub.attach(server, { path: '/rt' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onStop(async () => {
      await hub.close();
      await closeServer(server);
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${origin}/rt/poll`)).headers.get('content-type')).toBe('text/event-stream');
    expect(await (await fetch(`${origin}/x`)).text()).toBe('app');
    detach();
    expect(await (await fetch(`${origin}/rt/poll`)).text()).toBe('app');
    expect(server.listenerCount('upgrade')).toBe(0);
  });

  it("handleUpgrade as the server's only 'upgrade' listener refuses a WebSocket upgrade to another path 404, as attach does", async () => {
    const hub = createHub({ path: '/rt' });
    const server = http.createServer((_req, res) => res.end('app'));
    server.on('upgrade', hub.handleUpgrade);
    const ws = (await listenExpressLike(hub, server)).replace('http', 'ws');
    // without an answer the socket would be held forever: a descriptor per scanner request
    const status = await Promise.race([upgradeStatus(`${ws}/chat`), new Promise<string>((r) => setTimeout(() => r('no answer after 3 s'), 3000))]);
    expect(status).toBe(404);
    const c = await openWs(`${ws}/rt/ws`);
    await c.until((m) => m[0]?.type === 'hello');
  });

  it('attach refuses other upgrades 404 when alone, and leaves them to other listeners otherwise', async () => {
    const { server, port } = await startHub();
    const ws = `ws://127.0.0.1:${port}`;
    expect(await upgradeStatus(`${ws}/elsewhere`)).toBe(404);
    const seen: string[] = [];
    server.on('upgrade', (req, socket) => {
      if (req.url === '/rt/ws') return;
      seen.push(req.url ?? '');
      socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    expect(await upgradeStatus(`${ws}/elsewhere`)).toBe(418);
    expect(seen).toEqual(['/elsewhere']);
    const c = await openWs(`${ws}/rt/ws`);
    await c.until((m) => m[0]?.type === 'hello');
  });
});

/** Listens on 127.0.0.1 and stops hub and server after the test; returns the origin. */
async function listenExpressLike(hub: ReturnType<typeof createHub>, server: http.Server): Promise<string> {
  // closeAllConnections() does not reach a socket Node handed to 'upgrade'
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => sockets.add(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onStop(async () => {
    for (const socket of sockets) socket.destroy();
    await hub.close();
    await closeServer(server);
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('an optional upgrade offer (Upgrade: h2c, from curl --http2 or Java HttpClient)', () => {
  // RFC 9110 §7.8: a server may ignore the offer and answer the request as it is.
  const h2c = { Connection: 'Upgrade, HTTP2-Settings', Upgrade: 'h2c', 'HTTP2-Settings': 'AAMAAABkAARAAAAAAAIAAAAA' };

  it("is answered as plain HTTP under attach: the app's routes and the hub's poll and send", async () => {
    const { port } = await startHub();
    const origin = `http://127.0.0.1:${port}`;
    expect(await rawRequest(`${origin}/index.html`, { headers: h2c }, (req) => req.end())).toMatchObject({ status: 200, body: 'app' });
    expect((await rawRequest(`${origin}/rt/poll`, { headers: h2c }, (req) => req.end())).status).toBe(200);
    const send = await rawRequest(`${origin}/rt/send`, { method: 'POST', headers: { ...h2c, ...json } }, (req) => req.end(JSON.stringify({ event: 'a', mid: 'm1' })));
    expect(send.status).toBe(204);
    // a chunked body too: the request is read as Node would have read it without the offer
    const chunked = await rawRequest(`${origin}/rt/send`, { method: 'POST', headers: { ...h2c, ...json } }, (req) => {
      req.write('{"event":"a",');
      setTimeout(() => req.end('"mid":"m2"}'), 20);
    });
    expect(chunked.status).toBe(204);
  });

  it('is answered as plain HTTP by the Express recipe (server.on(upgrade, hub.handleUpgrade))', async () => {
    const hub = createHub({ path: '/rt' });
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/rt/')) {
        req.url = req.url.slice(3);
        return hub.handle(req, res);
      }
      res.end('app');
    });
    server.on('upgrade', hub.handleUpgrade);
    const origin = await listenExpressLike(hub, server);
    const outcome = await Promise.race([
      rawRequest(`${origin}/index.html`, { headers: h2c }, (req) => req.end()).then((r) => `answered ${r.status} ${r.body}`),
      new Promise<string>((r) => setTimeout(() => r('no answer after 2 s'), 2000)),
    ]);
    expect(outcome).toBe('answered 200 app');
    // and the connection is not left open once the client is done with it
    const open = () => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    for (let n = await open(); n > 0; n = await open()) await new Promise((r) => setTimeout(r, 5));
    expect((await rawRequest(`${origin}/rt/poll`, { headers: h2c }, (req) => req.end())).status).toBe(200);
    // a real WebSocket upgrade is still the hub's
    const ws = await openWs(`${origin.replace('http', 'ws')}/rt/ws`);
    await ws.until((m) => m[0]?.type === 'hello');
  });

  it('answers pipelined requests in order when a later one offers h2c while an earlier answer is in flight', async () => {
    const hub = createHub({ path: '/rt' });
    // the first answer is slow, so the second request is parsed (and re-read) while it is pending
    const server = http.createServer((req, res) => setTimeout(() => res.end(`app ${req.url}`), req.url === '/a' ? 50 : 0));
    server.on('upgrade', hub.handleUpgrade);
    const { port } = new URL(await listenExpressLike(hub, server));
    const h2cLines = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';
    const bodies = (text: string) => text.match(/app \/[ab]/g) ?? [];
    for (const first of ['', h2cLines]) {
      const client = net.connect(Number(port), '127.0.0.1');
      onStop(() => void client.destroy());
      await once(client, 'connect');
      const outcome = new Promise<string>((resolve) => {
        let text = '';
        client.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (bodies(text).length === 2) resolve(bodies(text).join(', '));
        });
        // a deadline for an answer that never comes (there is no event for "nothing happened")
        client.setTimeout(3000, () => resolve(`only: ${JSON.stringify(text)}`));
      });
      client.write(`GET /a HTTP/1.1\r\nHost: x\r\n${first}\r\nGET /b HTTP/1.1\r\nHost: x\r\n${h2cLines}\r\n`);
      expect(await outcome).toBe('app /a, app /b');
    }
  });

  it("is left to another 'upgrade' listener when there is one (a tunnel): the hub writes nothing into it", async () => {
    const hub = createHub({ path: '/rt' });
    const server = http.createServer((_req, res) => res.writeHead(404).end('not found'));
    server.on('upgrade', hub.handleUpgrade);
    server.on('upgrade', (req, socket: net.Socket) => {
      if (req.headers.upgrade === 'my-tunnel') socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: my-tunnel\r\nConnection: Upgrade\r\n\r\nTUNNEL-HELLO');
    });
    const { port } = new URL(await listenExpressLike(hub, server));
    const received = await new Promise<string>((resolve) => {
      const client = net.connect(Number(port), '127.0.0.1', () =>
        client.write('GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: my-tunnel\r\n\r\n'),
      );
      let text = '';
      client.on('data', (d: Buffer) => (text += d.toString('latin1')));
      client.on('end', () => resolve(text));
    });
    expect(received).toBe('HTTP/1.1 101 Switching Protocols\r\nUpgrade: my-tunnel\r\nConnection: Upgrade\r\n\r\nTUNNEL-HELLO');
  });
});

describe('CORS', () => {
  it('echoes an allowed Origin with credentials and refuses others 403', async () => {
    const { base } = await startHub({ allowOrigins: ['https://app.example.com'] });
    const ok = await fetch(`${base}/poll`, { headers: { Origin: 'https://app.example.com' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    await ok.text();
    for (const path of ['/poll', '/sse', '/send']) {
      const res = await fetch(`${base}${path}`, { method: path === '/send' ? 'POST' : 'GET', headers: { Origin: 'https://evil.example.com', ...json }, body: path === '/send' ? '[]' : undefined });
      expect(res.status).toBe(403);
    }
    const noOrigin = await fetch(`${base}/poll`);
    expect(noOrigin.status).toBe(200);
    expect(noOrigin.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('compares origins as browsers serialize them: scheme and host in any case, no default port, no trailing slash', async () => {
    const { base } = await startHub({ allowOrigins: ['https://App.Example.com:443/', 'http://LOCALHOST:8080'] });
    for (const origin of ['https://app.example.com', 'https://APP.example.com:443', 'http://localhost:8080']) {
      const res = await fetch(`${base}/poll`, { headers: { Origin: origin } });
      await res.text();
      expect([origin, res.status]).toEqual([origin, 200]);
    }
    // another port or scheme is another origin; an Origin that is not a URL never matches
    for (const origin of ['https://app.example.com:8443', 'http://app.example.com', 'null', 'app.example.com']) {
      const res = await fetch(`${base}/poll`, { headers: { Origin: origin } });
      await res.text();
      expect([origin, res.status]).toEqual([origin, 403]);
    }
  });

  it("with '*' echoes any origin", async () => {
    const { base } = await startHub();
    const res = await fetch(`${base}/poll`, { headers: { Origin: 'https://a.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://a.example');
  });

  it('answers a preflight allowing the requested headers, or the protocol ones', async () => {
    const { base } = await startHub({ authenticate: () => false });
    const pre = await fetch(`${base}/send`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://a.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type, x-app' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-app');
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://a.example');
    const bare = await fetch(`${base}/sse`, { method: 'OPTIONS', headers: { Origin: 'https://a.example' } });
    expect(bare.headers.get('access-control-allow-headers')).toBe('Authorization, Last-Event-ID, Content-Type');
  });
});

describe('authentication', () => {
  it('answers 401 without a valid bearer token on every HTTP endpoint and passes with one', async () => {
    const { base } = await startHub({ authenticate: async (req) => readToken(req) === 'secret', pollTimeout: 10_000 });
    for (const [path, method] of [['/sse', 'GET'], ['/poll', 'GET'], ['/send', 'POST']] as const) {
      const res = await fetch(`${base}${path}`, { method, headers: { ...json, Authorization: 'Bearer wrong' }, body: method === 'POST' ? '[]' : undefined });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    const ok = await fetch(`${base}/poll`, { headers: { Authorization: 'Bearer secret' } });
    expect(ok.status).toBe(200);
  });

  it('answers 500 and reports when authenticate throws', async () => {
    const errors: unknown[] = [];
    const { base } = await startHub({ authenticate: () => Promise.reject(new Error('db down')), onError: (e) => errors.push(e) });
    expect((await fetch(`${base}/poll`)).status).toBe(500);
    expect(errors).toHaveLength(1);
  });

  const slowRequests = {
    sse: 'GET /rt/sse HTTP/1.1\r\nHost: x\r\n\r\n',
    websocket: 'GET /rt/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  };

  it.each(Object.keys(slowRequests) as (keyof typeof slowRequests)[])('%s: reports an authenticate rejection even when the client left before it came', async (kind) => {
    // A slow auth backend that times out after the client's openTimeout gave up: the outage must still show.
    let fail!: (e: Error) => void;
    let entered!: () => void;
    const called = new Promise<void>((r) => (entered = r));
    let reported!: (e: unknown) => void;
    const report = new Promise<unknown>((r) => (reported = r));
    const { port, server } = await startHub({
      authenticate: () => (entered(), new Promise<boolean>((_, reject) => (fail = reject))),
      onError: (e) => reported(e),
    });
    const serverSide = new Promise<net.Socket>((r) => server.once('connection', r));
    const socket = net.connect(port, '127.0.0.1');
    onStop(() => {
      socket.destroy();
    });
    await new Promise<void>((r) => socket.once('connect', r));
    socket.write(slowRequests[kind]);
    await called;
    const peer = await serverSide;
    socket.resetAndDestroy();
    // the hub has seen the client go before the backend answers
    await new Promise((r) => peer.once('close', r));
    fail(new Error('auth backend timed out'));
    const outcome = await Promise.race([report.then((e) => String(e)), new Promise((r) => setTimeout(() => r('never reported'), 500))]);
    expect(outcome).toBe('Error: auth backend timed out');
  });
});

describe('POST /send', () => {
  async function sendHub() {
    const received: HubMessage[] = [];
    const server = await startHub({ maxMessageBytes: 1024, onMessage: (msg, ctx) => {
      expect(ctx.transport).toBe('http');
      received.push(msg);
    } });
    return { ...server, received };
  }

  it('delivers a JSON array or one object and answers 204, each mid once', async () => {
    const { base, received } = await sendHub();
    const batch = [
      { event: 'a', data: 1, mid: 'm1' },
      { event: 'b', data: { x: 2 }, mid: 'm2' },
    ];
    const res = await fetch(`${base}/send`, { method: 'POST', headers: json, body: JSON.stringify(batch) });
    expect(res.status).toBe(204);
    // a retried batch: accepted again, delivered never again
    expect((await fetch(`${base}/send`, { method: 'POST', headers: json, body: JSON.stringify(batch) })).status).toBe(204);
    expect((await fetch(`${base}/send`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ event: 'c', mid: 'm3' }) })).status).toBe(204);
    expect(received).toEqual([...batch, { event: 'c', data: null, mid: 'm3' }]);
  });

  it('answers 415 for another content type', async () => {
    const { base, received } = await sendHub();
    const res = await fetch(`${base}/send`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '[]' });
    expect(res.status).toBe(415);
    expect(received).toEqual([]);
  });

  it('answers 400 for malformed JSON and for missing or invalid fields, delivering nothing', async () => {
    const { base, received } = await sendHub();
    for (const body of ['{nope', '5', '[{"event":"a","data":1}]', '[{"event":"a","mid":"m1"},{"data":1,"mid":"m2"}]', '[{"event":3,"mid":"m"}]']) {
      const res = await fetch(`${base}/send`, { method: 'POST', headers: json, body });
      expect(res.status, body).toBe(400);
    }
    expect(received).toEqual([]);
  });

  it('answers 413 for a body over maxMessageBytes, by Content-Length or while streaming', async () => {
    const { base, received } = await sendHub();
    const big = JSON.stringify([{ event: 'a', data: 'x'.repeat(2000), mid: 'm' }]);
    const declared = await fetch(`${base}/send`, { method: 'POST', headers: json, body: big });
    expect(declared.status).toBe(413);
    // chunked, no Content-Length: refused once the running total passes the limit
    const streamed = await rawRequest(`${base}/send`, { method: 'POST', headers: { ...json, 'Transfer-Encoding': 'chunked' } }, (req) => {
      req.write('[{"event":"a","mid":"m","data":"');
      const chunk = 'x'.repeat(512);
      let sent = 0;
      const pump = () => {
        // keeps sending (up to 1 MB) until the server answers: it must not wait for the end
        while (sent < 1_000_000 && req.write(chunk)) sent += chunk.length;
        if (sent < 1_000_000) req.once('drain', pump);
      };
      pump();
      req.on('response', () => req.destroy());
    });
    expect(streamed.status).toBe(413);
    expect(received).toEqual([]);
  });
});
