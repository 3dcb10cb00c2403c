// Shared by the browser tests: find and launch Chromium, open demo pages that record console
// errors, and wait on page conditions (never on sleeps).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's `chromium` package, or whatever CHROME_PATH points at. */
export const chromePath = process.env.CHROME_PATH || '/usr/bin/chromium';
const found = existsSync(chromePath);

/**
 * Without a browser the suite is skipped locally, with the reason printed, and fails in CI
 * (`CI` set): a green CI run must mean the browser tests ran.
 */
export const skipBrowserTests = !found && !process.env.CI;
if (skipBrowserTests) {
  console.warn(
    `[surewire] browser tests skipped: no Chromium at ${chromePath}. ` +
      'Install Debian\'s `chromium` or set CHROME_PATH; with CI set this is a failure, not a skip.',
  );
}

export async function launchBrowser(): Promise<Browser> {
  if (!found) {
    throw new Error(
      `No Chromium at ${chromePath}, and CI is set: the browser tests must run in CI. ` +
        'Install it (`apt-get install -y chromium`, as .ci/run does) or set CHROME_PATH.',
    );
  }
  return chromium.launch({
    executablePath: chromePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** What the demo page exposes on `window` (demo/app.js; the ESM page has `client` and `stats`). */
export interface DemoWindow {
  client: {
    status: { state: string; transport: string | null; lastEventId?: string; attempt: number; rtt?: number; resumed?: boolean };
  };
  demo: {
    cid: string;
    stats: { ticks: number; first: number | null; last: number | null; gaps: number; duplicates: number; missed: number };
    transitions: { state: string; transport: string | null; error?: string }[];
    errors: string[];
    control(name: string, query?: Record<string, string>): Promise<Record<string, unknown>>;
  };
  Surewire?: { createClient: unknown };
  __pwned?: unknown;
}

/**
 * Network failures that Chromium itself logs as console errors when a test breaks the
 * connection on purpose (a refused WebSocket handshake, a 404 from a disabled transport, a
 * stream cut mid-body). Tests that break things allow these; nothing else.
 */
export const NETWORK_NOISE = [
  /^WebSocket connection to '.*' failed/,
  /^Failed to load resource: the server responded with a status of 404/,
  /^Failed to load resource: net::ERR_(INCOMPLETE_CHUNKED_ENCODING|EMPTY_RESPONSE|CONNECTION_RESET|CONNECTION_CLOSED|ABORTED)/,
];

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  /** `errors` without the allowed network noise. */
  unexpectedErrors(): string[];
}

/** Opens `url` in a fresh context (its own "tab" with its own storage) and records errors. */
export async function openPage(browser: Browser, url: string, { allowNetworkErrors = false } = {}): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  await page.goto(url);
  return {
    page,
    context,
    errors,
    unexpectedErrors: () =>
      errors.filter((e) => !(allowNetworkErrors && NETWORK_NOISE.some((re) => re.test(e)))),
  };
}

/** Waits until the page's client is open, over `transport` when given. */
export async function waitOpen(page: Page, transport?: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (t) => {
      const s = (globalThis as unknown as DemoWindow).client?.status;
      return !!s && s.state === 'open' && (!t || s.transport === t);
    },
    transport,
    { timeout },
  );
}

/** Waits until the page has counted `more` ticks beyond what it has now. */
export async function waitMoreTicks(page: Page, more: number, timeout = 10_000): Promise<void> {
  const now = await page.evaluate(() => (globalThis as unknown as DemoWindow).demo.stats.ticks);
  await page.waitForFunction((n) => (globalThis as unknown as DemoWindow).demo.stats.ticks >= n, now + more, { timeout });
}

/** Waits until a transition after index `from` matches (e.g. leaving `open`, then `open` again). */
export async function waitTransition(
  page: Page,
  from: number,
  match: { state?: string; transport?: string; notState?: string },
  timeout = 10_000,
): Promise<void> {
  await page.waitForFunction(
    ([i, m]) =>
      (globalThis as unknown as DemoWindow).demo.transitions
        .slice(i)
        .some((t) => (!m.state || t.state === m.state) && (!m.transport || t.transport === m.transport) && (!m.notState || t.state !== m.notState)),
    [from, match] as const,
    { timeout },
  );
}

/**
 * Waits for a reconnect that began after transition `from`: a state other than `open`, then
 * `open` again (over `transport` when given).
 */
export async function waitReconnect(page: Page, from: number, transport?: string, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([i, t]) => {
      const list = (globalThis as unknown as DemoWindow).demo.transitions;
      const left = list.findIndex((x, k) => k >= i && x.state !== 'open');
      return left >= 0 && list.some((x, k) => k > left && x.state === 'open' && (!t || x.transport === t));
    },
    [from, transport] as const,
    { timeout },
  );
}

export const stats = (page: Page) => page.evaluate(() => ({ ...(globalThis as unknown as DemoWindow).demo.stats }));
export const transitionCount = (page: Page) => page.evaluate(() => (globalThis as unknown as DemoWindow).demo.transitions.length);
export const status = (page: Page) => page.evaluate(() => ({ ...(globalThis as unknown as DemoWindow).client.status, error: undefined }));
