// Transport fallback in real Chromium: the demo server blocks WebSocket upgrades (as a proxy
// would) and answers 404 on /rt/sse, and the client must land on SSE, then on long-polling,
// without losing or repeating a tick on the way.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startDemo, type Demo } from '../../demo/server.mjs';
import {
  launchBrowser,
  openPage,
  skipBrowserTests,
  stats,
  transitionCount,
  waitMoreTicks,
  waitOpen,
  waitReconnect,
  type OpenedPage,
} from './harness';

describe.skipIf(skipBrowserTests)('transport fallback in Chromium', () => {
  let browser: Browser;
  let demo: Demo;
  let opened: OpenedPage[] = [];

  beforeAll(async () => {
    [browser, demo] = await Promise.all([launchBrowser(), startDemo({ port: 0, tickerMs: 50, heartbeat: 500 })]);
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  afterEach(async () => {
    demo.flags.blockWebSocket = false;
    demo.flags.disableSse = false;
    const pages = opened;
    opened = [];
    await Promise.all(pages.map((p) => p.context.close()));
    // Chromium logs the refused handshakes and 404s itself; anything else is a bug.
    expect(pages.flatMap((p) => p.unexpectedErrors())).toEqual([]);
  });

  async function open(path: string) {
    const p = await openPage(browser, demo.url + path, { allowNetworkErrors: true });
    opened.push(p);
    return p;
  }

  async function expectLossless(page: Page) {
    await waitMoreTicks(page, 10);
    const s = await stats(page);
    expect(s.gaps).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(s.ticks).toBe(s.last! - s.first! + 1);
  }

  it('falls back from a blocked WebSocket to SSE, then to poll with SSE disabled (page controls)', async () => {
    const { page } = await open('/?hb=500&hbt=2000');
    await waitOpen(page, 'websocket');
    await waitMoreTicks(page, 3);

    // Block upgrades with the page's switch, then drop the open socket: the reconnect must not
    // find a WebSocket and must settle on SSE.
    await page.getByText('Block WebSocket upgrades').click();
    await expect.poll(() => demo.flags.blockWebSocket).toBe(true);
    let from = await transitionCount(page);
    await page.click('#btn-drop');
    await page.locator('#log li', { hasText: 'server dropped my websocket connection' }).waitFor();
    await waitReconnect(page, from, 'sse');
    await expect.poll(() => page.textContent('#s-transport')).toBe('sse');
    await expectLossless(page);

    // Now SSE answers 404 as well: the next reconnect ends on long-polling.
    await page.getByText('Disable SSE').click();
    await expect.poll(() => demo.flags.disableSse).toBe(true);
    from = await transitionCount(page);
    await page.click('#btn-drop');
    await page.locator('#log li', { hasText: 'server dropped my sse connection' }).waitFor();
    await waitReconnect(page, from, 'poll');
    await expectLossless(page);
  });

  it('a fresh page with WebSocket blocked connects over SSE', async () => {
    demo.flags.blockWebSocket = true;
    const { page } = await open('/');
    await waitOpen(page, 'sse');
    await expect.poll(() => page.isChecked('#sw-block-ws')).toBe(true);
    await expectLossless(page);
  });

  it('a fresh page with WebSocket blocked and SSE disabled connects over poll', async () => {
    demo.flags.blockWebSocket = true;
    demo.flags.disableSse = true;
    const { page } = await open('/');
    await waitOpen(page, 'poll');
    await expectLossless(page);
  });
});
