// Headless Chromium for measured tabs that Playwright does NOT instrument.
//
// Playwright enables the DevTools Network domain on every page it drives; on this machine that
// slowed native WebSocket ~2.6x and native EventSource ~3x. So we only use Playwright to launch
// the browser and to open one *browser-level* CDP session. Every measured tab is created with
// `Target.createTarget` inside a fresh browser context created over that session. Playwright's
// auto-attach finds no context of its own for such a target (a non-persistent launch has no
// default context) and detaches at once, so the tab runs with no domain enabled. Tabs report
// their results by POSTing them to the bench server.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROME_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export function chromePath() {
  for (const p of [process.env.CHROME_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('No Chromium found: install Debian chromium or set CHROME_PATH');
}

export async function launchBrowser() {
  const browser = await chromium.launch({ executablePath: chromePath(), headless: true, args: CHROME_ARGS, timeout: 30_000 });
  const cdp = await browser.newBrowserCDPSession();
  const version = browser.version();
  const open = new Set();

  /** Opens `url` in a new tab of a new, isolated browser context (own connection pool). */
  async function openTab(url) {
    const { browserContextId } = await cdp.send('Target.createBrowserContext', { disposeOnDetach: true });
    const { targetId } = await cdp.send('Target.createTarget', { url, browserContextId });
    const tab = {
      targetId,
      browserContextId,
      async close() {
        if (!open.delete(tab)) return;
        await cdp.send('Target.closeTarget', { targetId }).catch(() => {});
        await cdp.send('Target.disposeBrowserContext', { browserContextId }).catch(() => {});
      },
    };
    open.add(tab);
    return tab;
  }

  /** Opens a tab the usual Playwright way (instrumented), only to demonstrate the pitfall. */
  async function openInstrumentedTab(url) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(url);
    return { async close() { await ctx.close().catch(() => {}); } };
  }

  /** Playwright's view: how many pages it drives (must stay 0 for measured tabs). */
  function instrumentedPages() {
    return browser.contexts().reduce((n, c) => n + c.pages().length, 0);
  }

  async function close() {
    for (const t of [...open]) await t.close();
    await browser.close().catch(() => {});
  }

  return { version, openTab, openInstrumentedTab, instrumentedPages, close };
}
