// Lossless resume in real Chromium: on every transport, a connection the server drops and one it
// stalls (open but silent: only the heartbeat can tell) must come back without a single gap or
// duplicate in a 50 ms ticker; so must every tab after the hub restarts its connections.
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
  type DemoWindow,
  type OpenedPage,
} from './harness';

const transports = ['websocket', 'sse', 'poll'] as const;
/** Client heartbeat for these pages: a stall is declared dead after 1.5 s of silence. */
const HB = 'hb=500&hbt=1500';

describe.skipIf(skipBrowserTests)('lossless resume in Chromium', () => {
  let browser: Browser;
  let demo: Demo;
  /**
   * One tab per transport, opened once: every test below breaks its connection again, so the
   * gap and duplicate counts, which never reset, prove the whole sequence lossless.
   */
  const tabs = {} as Record<(typeof transports)[number], OpenedPage>;

  beforeAll(async () => {
    [browser, demo] = await Promise.all([launchBrowser(), startDemo({ port: 0, tickerMs: 50, heartbeat: 500 })]);
    await Promise.all(
      transports.map(async (t) => {
        tabs[t] = await openPage(browser, `${demo.url}/?transport=${t}&${HB}`, { allowNetworkErrors: true });
        await waitOpen(tabs[t].page, t);
        await waitMoreTicks(tabs[t].page, 5);
      }),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  afterEach(() => {
    // A cut stream is logged by Chromium itself; anything else is a bug.
    for (const t of transports) expect(tabs[t]?.unexpectedErrors() ?? []).toEqual([]);
  });

  /**
   * Asks the demo server to drop or stall this page's connection. WebSocket and SSE: with the
   * page's button, as a user would. A long-poll has a request open most of the time but not
   * always (between two polls), so there ask until one was hit.
   */
  async function breakConnection(page: Page, how: 'drop' | 'stall', transport: string = 'poll') {
    if (transport !== 'poll') {
      const done = page.locator('#log li', { hasText: how === 'drop' ? 'server dropped my' : 'server stalled my' });
      const before = await done.count();
      await page.click(how === 'drop' ? '#btn-drop' : '#btn-stall');
      await expect.poll(() => done.count()).toBe(before + 1);
      return;
    }
    await expect
      .poll(
        () =>
          page.evaluate(async (h) => {
            const { demo } = globalThis as unknown as DemoWindow;
            const r = await demo.control(h, { cid: demo.cid });
            return Number(r.dropped ?? r.stalled ?? 0);
          }, how),
        { timeout: 5_000, interval: 50 },
      )
      .toBeGreaterThan(0);
  }

  async function expectLossless(page: Page) {
    await waitMoreTicks(page, 10);
    const s = await stats(page);
    expect(s.gaps).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(s.ticks).toBe(s.last! - s.first! + 1);
  }

  for (const transport of transports) {
    it(`a dropped ${transport} connection resumes with no gap and no duplicate`, async () => {
      const { page } = tabs[transport];
      const from = await transitionCount(page);
      await breakConnection(page, 'drop', transport);
      // A held poll has its headers sent at once, so a cut poll is a failed response the client
      // sees (had it been cut before any response byte, Chromium would silently retry the GET).
      await waitReconnect(page, from, transport);
      await expectLossless(page);
    });

    it(`a stalled ${transport} connection is caught by the heartbeat and resumes losslessly`, async () => {
      const { page } = tabs[transport];
      const from = await transitionCount(page);
      const errors = await page.evaluate(() => (globalThis as unknown as DemoWindow).demo.errors.length);
      await breakConnection(page, 'stall', transport);
      await waitReconnect(page, from, transport);
      const after = await page.evaluate((n) => (globalThis as unknown as DemoWindow).demo.errors.slice(n), errors);
      expect(after).toContain('HEARTBEAT_TIMEOUT');
      await expectLossless(page);
    });
  }

  it('the counters do see loss: a resume beyond the hub history shows resumed=false and a gap', async () => {
    // A hub that keeps 10 events (0.5 s of ticks), and a tab kept away from it for longer.
    const small = await startDemo({ port: 0, tickerMs: 50, heartbeat: 500, history: 10 });
    const tab = await openPage(browser, `${small.url}/?transport=websocket&${HB}`, { allowNetworkErrors: true });
    try {
      const { page } = tab;
      await waitOpen(page, 'websocket');
      await waitMoreTicks(page, 5);
      const seqNow = () => page.evaluate(() => fetch('/demo/state').then((r) => r.json()).then((s: { seq: number }) => s.seq));
      const away = await seqNow();
      small.flags.blockWebSocket = true;
      await breakConnection(page, 'drop');
      await expect.poll(seqNow, { timeout: 5_000 }).toBeGreaterThan(away + 20);
      small.flags.blockWebSocket = false;
      await page.waitForFunction(() => (globalThis as unknown as DemoWindow).client.status.resumed === false, null, { timeout: 10_000 });
      await waitMoreTicks(page, 3);
      const s = await stats(page);
      expect(s.gaps).toBeGreaterThanOrEqual(1);
      expect(s.missed).toBeGreaterThan(10);
      expect(s.duplicates).toBe(0);
      expect(await page.textContent('#s-resumed')).toMatch(/^no/);
      await page.locator('#log li', { hasText: 'NOT fully resumed' }).waitFor();
      expect(tab.unexpectedErrors()).toEqual([]);
    } finally {
      await tab.context.close();
      await small.close();
    }
  });

  it('every tab resumes losslessly after the hub restarts its connections (history kept)', async () => {
    const pages = transports.map((t) => tabs[t].page);
    const from = await Promise.all(pages.map((page) => transitionCount(page)));
    await pages[0].click('#btn-restart');
    await pages[0].locator('#log li', { hasText: 'hub restarted' }).waitFor();
    // WebSocket and SSE connections are always open, so both must go through a reconnect; a
    // long-poll is only hit when a request happened to be pending at that instant.
    await Promise.all([0, 1].map((i) => waitReconnect(pages[i], from[i], transports[i])));
    for (const page of pages) await expectLossless(page);
  });
});
