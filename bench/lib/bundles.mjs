// Browser bundles of the peers, built the same way for the pages and for the size table:
// esbuild, bundle + minify, IIFE, platform browser, ES2020, legal comments dropped.
import { build } from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

/** name → [global, entry source, what it offers] */
export const PEERS = {
  'socket.io-client': ['SocketIOClient', `export { io } from 'socket.io-client';`, 'WebSocket + long-poll fallback'],
  partysocket: ['PartySocket', `export { WebSocket } from 'partysocket';`, 'WebSocket only'],
  'reconnecting-websocket': ['RWS', `export { default as ReconnectingWebSocket } from 'reconnecting-websocket';`, 'WebSocket only'],
  eventsource: ['EventSourceLib', `export { EventSource } from 'eventsource';`, 'SSE only'],
  'fetch-event-source': ['FetchEventSource', `export { fetchEventSource } from '@microsoft/fetch-event-source';`, 'SSE only'],
};

export function sizes(buf) {
  return {
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}

async function bundle(repo, outDir, name, globalName, contents) {
  const outfile = join(outDir, `${name}.js`);
  await build({
    stdin: { contents, resolveDir: repo, loader: 'js', sourcefile: `${name}-entry.js` },
    bundle: true,
    minify: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** Builds every peer bundle into `outDir`; returns rows for the size table. */
export async function buildPeers(repo, outDir) {
  await mkdir(outDir, { recursive: true });
  const rows = [];
  for (const [name, [globalName, contents, offers]] of Object.entries(PEERS)) {
    const file = await bundle(repo, outDir, name, globalName, contents);
    const pkg = name === 'fetch-event-source' ? '@microsoft/fetch-event-source' : name;
    const version = JSON.parse(await readFile(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')).version;
    rows.push({ name: pkg, version, offers, ...sizes(await readFile(file)) });
  }
  return rows;
}

/** surewire: the shipped dist/surewire.min.js (rollup + terser), and the same esbuild recipe. */
export async function surewireSizes(repo, outDir) {
  const min = join(repo, 'dist/surewire.min.js');
  const mjs = join(repo, 'dist/surewire.mjs');
  if (!existsSync(min)) return [];
  const rows = [{ name: 'surewire (dist/surewire.min.js)', version: 'this repo', offers: 'WebSocket + SSE + long-poll fallback', ...sizes(await readFile(min)) }];
  if (existsSync(mjs)) {
    const file = await bundle(repo, outDir, 'surewire-esbuild', 'Surewire', `export { createClient } from ${JSON.stringify(mjs)};`);
    rows.push({ name: 'surewire (esbuild, same recipe as peers)', version: 'this repo', offers: 'WebSocket + SSE + long-poll fallback', ...sizes(await readFile(file)) });
  }
  return rows;
}
