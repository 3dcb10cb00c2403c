/**
 * A Node process that used the client exits by itself after `close()`: spawned `node` children
 * (the client bundled with esbuild, so that the test does not depend on a fresh `dist/`) connect
 * to a hub in this process, receive, close, and must be gone within a bound, with exit code 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubServer } from '../support/helpers';

const EXIT_WITHIN = 5000;
let dir: string;
let bundle: string;
let hs: HubServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'surewire-exit-'));
  bundle = join(dir, 'child.cjs');
  await build({
    entryPoints: [join(__dirname, 'fixtures/exit-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    external: ['bufferutil', 'utf-8-validate'],
    logLevel: 'silent',
  });
  hs = await startHub({ heartbeat: 200, pollTimeout: 300 });
  for (let n = 1; n <= 3; n++) hs.hub.publish('tick', { n });
});
afterAll(async () => {
  await hs.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the child; resolves with its exit code, output and how long it lived after "closed". */
function runChild(url: string, transport: string, mode: string): Promise<{ code: number | null; out: string; afterClose: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, url, transport, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let closedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!closedAt && out.includes('closed')) closedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within ${EXIT_WITHIN} ms of close() (${transport}, ${mode}); output:\n${out}`));
    }, EXIT_WITHIN + 5000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, out, afterClose: closedAt ? Date.now() - closedAt : -1 });
    });
  });
}

describe('a Node process exits by itself after close()', () => {
  it.each(['websocket', 'sse', 'poll'])('%s: after receiving and sending', async (transport) => {
    const { code, out, afterClose } = await runChild(hs.url, transport, 'receive');
    expect(out).toContain('closed after 3');
    expect(code).toBe(0);
    expect(afterClose).toBeGreaterThanOrEqual(0);
    expect(afterClose).toBeLessThan(EXIT_WITHIN);
  }, 15_000);

  it('while a reconnect backoff is pending', async () => {
    // A port nobody listens on: refused, then a 5 s backoff that close() must cancel.
    const { code, out, afterClose } = await runChild('http://127.0.0.1:9/rt', 'sse', 'reconnecting');
    expect(out).toContain('closed while reconnecting');
    expect(code).toBe(0);
    expect(afterClose).toBeLessThan(EXIT_WITHIN);
  }, 15_000);
});
