// The demo pages in real headless Chromium: the script-tag global, the ESM build, chat between
// two tabs, hostile chat text, and no console errors on any of it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startDemo, type Demo } from '../../demo/server.mjs';
import { launchBrowser, openPage, skipBrowserTests, stats, waitMoreTicks, waitOpen, type DemoWindow, type OpenedPage } from './harness';

describe.skipIf(skipBrowserTests)('demo pages in Chromium', () => {
  let browser: Browser;
  let demo: Demo;
  const opened: OpenedPage[] = [];

  beforeAll(async () => {
    [browser, demo] = await Promise.all([launchBrowser(), startDemo({ port: 0, tickerMs: 50, heartbeat: 500 })]);
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  afterEach(() => {
    // Nothing on these pages breaks the network on purpose: not a single console error is allowed.
    expect(opened.flatMap((p) => p.unexpectedErrors())).toEqual([]);
  });

  async function open(path: string) {
    const p = await openPage(browser, demo.url + path);
    opened.push(p);
    return p;
  }
  /** Pages are opened on first use and then shared by the tests that follow (opening is the slow part). */
  const once = <T>(make: () => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };
  const mainPage = once(() => open('/?hb=500&hbt=2000'));
  // ann sends WebSocket frames; bob, on long-polling, sends with POST /rt/send.
  const chatPages = once(() => Promise.all([open('/?user=ann'), open('/?user=bob&transport=poll')]));

  it('the script-tag global connects over WebSocket and fills the status panel', async () => {
    const { page } = await mainPage();
    expect(await page.evaluate(() => typeof (globalThis as unknown as DemoWindow).Surewire?.createClient)).toBe('function');
    await waitOpen(page, 'websocket');
    await waitMoreTicks(page, 5);
    await expect.poll(() => page.textContent('#s-state')).toBe('open');
    expect(await page.textContent('#s-transport')).toBe('websocket');
    expect(await page.textContent('#s-last')).toMatch(/^\d+$/);
    // The client pings every 500 ms over WebSocket and shows the round trip.
    await page.waitForFunction(() => /^\d+ ms$/.test(document.getElementById('s-rtt')?.textContent ?? ''));
    const s = await stats(page);
    expect(s.gaps).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(Number(await page.textContent('#m-ticks'))).toBeGreaterThanOrEqual(5);
  });

  it('the transport picker recreates the client on that transport, resuming from the same cursor', async () => {
    const { page } = await mainPage();
    await waitOpen(page, 'websocket');
    for (const transport of ['sse', 'poll', 'websocket']) {
      const before = await page.evaluateHandle(() => (globalThis as unknown as DemoWindow).client);
      await page.locator(`#transport input[value=${transport}]`).check();
      await waitOpen(page, transport);
      expect(await page.evaluate((old) => (globalThis as unknown as DemoWindow).client !== old, before)).toBe(true);
      await before.dispose();
      expect(new URL(page.url()).searchParams.get('transport')).toBe(transport);
      await waitMoreTicks(page, 5);
    }
    const s = await stats(page);
    expect(s.gaps).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(s.ticks).toBe(s.last! - s.first! + 1);
  });

  it('a chat message typed in one page appears in another (sent over WebSocket and over POST)', async () => {
    const [a, b] = await chatPages();
    await Promise.all([waitOpen(a.page, 'websocket'), waitOpen(b.page, 'poll')]);
    await a.page.fill('#chat-text', 'hello from ann');
    await a.page.press('#chat-text', 'Enter');
    const line = b.page.locator('#chat li', { hasText: 'hello from ann' });
    await line.waitFor();
    expect(await line.locator('.who').textContent()).toBe('ann');
    // The sender sees its own message come back from the hub, marked as its own.
    await a.page.locator('#chat li.mine', { hasText: 'hello from ann' }).waitFor();
    expect(await a.page.inputValue('#chat-text')).toBe('');

    await b.page.fill('#chat-text', 'hi ann, bob here');
    await b.page.click('#chat-form button[type=submit]');
    await a.page.locator('#chat li', { hasText: 'hi ann, bob here' }).waitFor();
    // Each message arrives exactly once.
    for (const { page } of [a, b]) expect(await page.locator('#chat li').count()).toBe(2);
  });

  it('renders hostile chat text inertly, as the literal text', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const [a, b] = await chatPages();
    await Promise.all([waitOpen(a.page), waitOpen(b.page)]);
    await a.page.fill('#chat-text', hostile);
    await a.page.press('#chat-text', 'Enter');
    for (const { page } of [a, b]) {
      const text = page.locator('#chat .text', { hasText: 'onerror' });
      await text.waitFor();
      expect(await text.textContent()).toBe(hostile);
      expect(await page.locator('#chat img').count()).toBe(0);
    }
    // An <img src=x> would have failed to load by now and logged a console error (afterEach).
    await waitMoreTicks(b.page, 5);
    for (const { page } of [a, b]) {
      expect(await page.evaluate(() => (globalThis as unknown as DemoWindow).__pwned)).toBeUndefined();
    }
  });

  it('a client that gave up shows Reconnect; the button, or a switch, connects it again', async () => {
    // SSE disabled answers 404, which Chromium logs itself: the one page here allowed to.
    const p = await openPage(browser, demo.url + '/?transport=sse&hb=500&hbt=2000', { allowNetworkErrors: true });
    opened.push(p);
    const { page } = p;
    const state = () => page.evaluate(() => (globalThis as unknown as DemoWindow).client.status.state);
    const sseSwitch = 'label:has(#sw-no-sse)';
    /** Disables SSE with the page's switch and drops the connection: only SSE may be used, so the client gives up. */
    const giveUp = async () => {
      await page.click(sseSwitch);
      await expect.poll(() => demo.flags.disableSse).toBe(true);
      await page.click('#btn-drop');
      await page.waitForFunction(() => (globalThis as unknown as DemoWindow).client.status.state === 'closed');
      await page.locator('#btn-reconnect').waitFor({ state: 'visible' });
    };
    try {
      await waitOpen(page, 'sse');
      await waitMoreTicks(page, 3);
      expect(await page.isVisible('#btn-reconnect')).toBe(false);

      await giveUp();
      expect(await page.evaluate(() => (globalThis as unknown as DemoWindow).demo.errors)).toContain('NO_TRANSPORT');
      // A closed client refuses a send: the text goes back into the box.
      await page.fill('#chat-text', 'typed while closed');
      await page.press('#chat-text', 'Enter');
      await expect.poll(() => page.inputValue('#chat-text')).toBe('typed while closed');

      // Another tab (here: the server itself) enables SSE again; a closed page hears nothing of it.
      demo.flags.disableSse = false;
      expect(await page.isChecked('#sw-no-sse')).toBe(true);
      await page.click('#btn-reconnect');
      await waitOpen(page, 'sse');
      expect(await page.isVisible('#btn-reconnect')).toBe(false);
      // Reconnected, the page asks the server for the switches again.
      await expect.poll(() => page.isChecked('#sw-no-sse')).toBe(false);
      await page.press('#chat-text', 'Enter');
      await page.locator('#chat li.mine', { hasText: 'typed while closed' }).waitFor();

      // Closed again; this time flipping a switch back restarts the client without the button.
      await giveUp();
      await page.click(sseSwitch);
      await waitOpen(page, 'sse');
      expect(await state()).toBe('open');
      expect(await page.isVisible('#btn-reconnect')).toBe(false);

      // Both restarts resumed from the cursor: nothing lost, nothing twice.
      await waitMoreTicks(page, 5);
      const s = await stats(page);
      expect(s.gaps).toBe(0);
      expect(s.duplicates).toBe(0);
      expect(s.ticks).toBe(s.last! - s.first! + 1);
    } finally {
      demo.flags.disableSse = false;
    }
  });

  it('the ESM page imports dist/surewire.mjs and receives the ticker', async () => {
    const { page } = await open('/esm.html');
    await waitOpen(page, 'websocket');
    await waitMoreTicks(page, 5);
    // No global: this page really runs the ESM build through its import map.
    expect(await page.evaluate(() => typeof (globalThis as unknown as DemoWindow).Surewire)).toBe('undefined');
    const s = await stats(page);
    expect(s.gaps).toBe(0);
    expect(s.duplicates).toBe(0);
    await expect.poll(() => page.textContent('#s-state')).toBe('open');
  });
});
