/**
 * The size budget of the script-tag build, enforced by `npm test` (which builds first), with
 * every dependency inside, and nothing of Node or of `surewire/server` in it.
 *
 * The budget is a regression guard at today's size plus a little room, not the 6 KiB target of
 * issue #2, which v1 misses (9.2 KB after the compaction, from 10.9 KB: eventsource-parser is
 * ~1.4 KB of it, the rest is three transports, fallback and the policies; see bench/RESULTS.md).
 * Raised from 9,344 to 9,792 B for ~50 fixes found by review (re-entrancy, the send queue,
 * reauth, Retry-After, offline/online, dedupe after a restart, ids no header can carry, CORS
 * preflights of other SSE servers, a throwing logger, option types): about 400 B.
 * A compaction pass over every module saved ~200 B, and the fixes that came with it (URL checks
 * at createClient and connect(), send-queue re-sends kept over close(), `cause` set for ES2020
 * engines) took ~280 B back: 9,812 B. Raised to 9,850 B for the connect() check (95 B): a client
 * created during a server render with a relative URL (autoConnect is the default) closes with
 * BAD_OPTIONS instead of retrying in the server process for ever. Then to 9,880 B (9,841 B
 * measured): 9 B of room was too little for zlib builds that differ between machines.
 * Lower it whenever the bundle shrinks; raising it is a decision to write down in the commit.
 * gzip level 9, as `size-limit` and `gzip-size` measure; `npm run bench` reports brotli too.
 *
 * The import checks look for module syntax, not bare words: the bundle legitimately holds the
 * string "ws" (the default WebSocket endpoint `{url}/ws`, `replace(/^http/, "ws")`) and an error
 * message that tells Node users to `import WebSocket from 'ws'`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BUDGET_GZIP_BYTES = 9_880;
const file = fileURLToPath(new URL('../../dist/surewire.min.js', import.meta.url));
const code = (): string => readFileSync(file, 'utf8');

/** Each entry: what it finds, and the pattern. Printed by name on failure, never the whole bundle. */
const NODE_IMPORTS: Array<[string, RegExp]> = [
  ['require( call', /\brequire\s*\(/],
  ['node: module specifier', /["'`]node:[a-z_/]+["'`]/],
  ['dynamic import or require of "ws"', /\b(?:require|import)\s*\(\s*["']ws["']\s*\)/],
  ['static import of "ws"', /(?:^|[;}])\s*import\s[^;'"`]*\bfrom\s*["']ws["']/m],
  ['static import of anything', /(?:^|[;}])\s*import\s*(?:[\w*{][^;'"`]*\bfrom\s*)?["'][^"']+["']\s*;/m],
];

describe('dist/surewire.min.js', () => {
  it('exists (run `npm run build` first; `npm test` does)', () => {
    expect(existsSync(file)).toBe(true);
  });

  it(`stays within ${BUDGET_GZIP_BYTES} bytes min+gzip`, () => {
    const gzip = gzipSync(readFileSync(file), { level: 9 }).length;
    expect(gzip, `min+gzip is ${gzip} bytes, ${gzip - BUDGET_GZIP_BYTES} over the ${BUDGET_GZIP_BYTES}-byte budget`).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });

  it.each(NODE_IMPORTS)('contains no %s', (_what, pattern) => {
    const m = pattern.exec(code());
    expect(m ? `found ${JSON.stringify(m[0])} at offset ${m.index}` : null).toBeNull();
  });

  it('is a self-contained IIFE (no external globals handed in)', () => {
    // Rollup passes externals of an IIFE as arguments: `}({}, ws)`. Ours must take only `{}`.
    const tail = code().replace(/\/\/# sourceMappingURL=\S*\s*$/, '').trimEnd().slice(-40);
    expect(tail).toMatch(/\}\)?\(\{\}\)\)?;?$/);
  });

  it('holds nothing of surewire/server', () => {
    for (const word of ['createHub', 'handleUpgrade', 'disconnectAll']) {
      expect(code().includes(word) ? `found ${word}` : null).toBeNull();
    }
  });
});
