// A standard SSE server, cross-origin, in real Chromium (DESIGN §3: "any conforming SSE server
// works with this transport unchanged"). Such a server allows every origin on its GET and, since
// EventSource never sends a preflight, answers no OPTIONS: surewire's reconnects with a cursor
// must still get through. So must one after an id that no header can carry (an emoji).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, skipBrowserTests } from './harness';

const bundle = fileURLToPath(new URL('../../dist/surewire.min.js', import.meta.url));

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe.skipIf(skipBrowserTests)('SSE from a page on another origin, in Chromium', () => {
  let browser: Browser;
  let page: { server: Server; port: number };
  let sse: { server: Server; port: number };
  const preflights: string[] = [];
  const cursors: Array<string | null> = [];
  const served = new Map<string, number>();

  beforeAll(async () => {
    page = await listen((req, res) => {
      if (req.url === '/surewire.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(bundle));
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title>');
    });
    // One event per stream, then the end of it: every event after the first needs a reconnect.
    sse = await listen((req, res) => {
      const { pathname, searchParams } = new URL(req.url!, 'http://x');
      if (req.method === 'OPTIONS') {
        preflights.push(pathname);
        return void res.writeHead(405).end();
      }
      const n = (served.get(pathname) ?? 0) + 1;
      served.set(pathname, n);
      cursors.push(searchParams.get('lastEventId'));
      const id = pathname === '/emoji' ? `🎉${n}` : String(n);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'access-control-allow-origin': '*' });
      res.end(`id: ${id}\ndata: "e${n}"\n\n`);
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of [page, sse]) await new Promise((resolve) => s?.server.close(resolve));
  });

  /** Runs a client in a fresh page until 3 events or 5 errors. */
  async function run(path: string): Promise<{ got: string[]; errors: string[] }> {
    const tab = await browser.newPage();
    try {
      await tab.goto(`http://localhost:${page.port}/`);
      await tab.addScriptTag({ url: '/surewire.min.js' });
      return await tab.evaluate(
        (url) =>
          new Promise<{ got: string[]; errors: string[] }>((resolve) => {
            const got: string[] = [];
            const errors: string[] = [];
            const { createClient } = (window as unknown as { Surewire: typeof import('../../src/index') }).Surewire;
            const c = createClient<{ message: string }>({ endpoints: { sse: url }, transports: ['sse'], heartbeat: false, reconnect: { initialDelay: 20, maxDelay: 40 } });
            const done = (): void => {
              c.close();
              resolve({ got, errors });
            };
            c.on('message', (d) => got.push(d) === 3 && done());
            c.onError((e) => errors.push(e.code) === 5 && done());
          }),
        `http://127.0.0.1:${sse.port}${path}`,
      );
    } finally {
      await tab.close();
    }
  }

  it('reconnects with its cursor to a server that answers no preflight', async () => {
    cursors.length = 0;
    const { got, errors } = await run('/plain');
    expect(got).toEqual(['e1', 'e2', 'e3']);
    // Each stream ends after its event (STREAM_ENDED); a refused preflight would be NETWORK.
    expect(errors).toEqual(['STREAM_ENDED', 'STREAM_ENDED']);
    // The cursor went in the query when the header could not.
    expect(cursors).toEqual([null, '1', '2']);
  });

  it('reconnects after an id that a header cannot carry (outside Latin-1)', async () => {
    expect((await run('/emoji')).got).toEqual(['e1', 'e2', 'e3']);
  });
});
