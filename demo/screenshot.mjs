// Takes docs/demo.png: two tabs chat while one of them is dropped, stalled and pushed onto SSE.
//   npm run build && node demo/screenshot.mjs        (CHROME_PATH to use another Chromium)
import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { startDemo } from './server.mjs';

const out = fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const demo = await startDemo({ port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

const open = async (user) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${user}] pageerror`, err.message));
  await page.goto(`${demo.url}/?user=${user}`);
  await page.waitForFunction(() => window.client?.status.state === 'open');
  return page;
};
const say = async (page, text) => {
  await page.fill('#chat-text', text);
  await page.press('#chat-text', 'Enter');
  await page.locator('#chat li', { hasText: text }).last().waitFor();
};
const reconnected = async (page, from, transport) =>
  page.waitForFunction(
    ([i, t]) => {
      const list = window.demo.transitions;
      const left = list.findIndex((x, k) => k >= i && x.state !== 'open');
      return left >= 0 && list.some((x, k) => k > left && x.state === 'open' && (!t || x.transport === t));
    },
    [from, transport],
    { timeout: 20_000 },
  );
const mark = (page) => page.evaluate(() => window.demo.transitions.length);

try {
  const [ann, bob] = await Promise.all([open('ann'), open('bob')]);
  await say(bob, 'hi ann! try the buttons on the left');
  await say(ann, 'dropping my connection now...');

  let from = await mark(ann);
  await ann.click('#btn-drop');
  await reconnected(ann, from);
  await say(ann, 'back, and the ticker shows no gap');

  from = await mark(ann);
  await ann.click('#btn-stall');
  await reconnected(ann, from);
  await say(bob, 'the heartbeat caught your stall in ~5 s');

  // Block WebSocket upgrades and drop: the reconnect lands on SSE.
  await ann.getByText('Block WebSocket upgrades').click();
  from = await mark(ann);
  await ann.click('#btn-drop');
  await reconnected(ann, from, 'sse');
  await say(ann, 'WebSocket blocked: now on SSE, still lossless');
  await say(bob, '<b>is this bold?</b> (no: chat is rendered as text)');
  // Unblock, and pick the transport again: a new client resumes from the old one's cursor.
  await ann.getByText('Block WebSocket upgrades').click();
  await ann.waitForFunction(() => document.getElementById('sw-block-ws').checked === false);
  await ann.locator('#transport input[value=websocket]').check();
  await ann.waitForFunction(() => window.client.status.state === 'open' && typeof window.client.status.rtt === 'number', null, { timeout: 10_000 });
  await say(bob, 'welcome back to WebSocket');
  // Let a few more ticks in, so the tape shows a run.
  const ticks = await ann.evaluate(() => window.demo.stats.ticks);
  await ann.waitForFunction((n) => window.demo.stats.ticks >= n + 4, ticks);
  await ann.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await demo.close();
}
