// @vitest-environment node
/**
 * Differential conformance of the SSE transport: DESIGN §3 says "any conforming SSE server works
 * with this transport unchanged". Each stream of a corpus of tricky but WHATWG-valid event streams
 * is served by a real node:http server on 127.0.0.1, cut into chunks (one chunk, every byte, and
 * seeded random cuts that also fall inside CRLFs and inside UTF-8 sequences), and read at once by
 * the `eventsource` package (v4, a WHATWG EventSource) and by surewire's client with only the SSE
 * transport. Both must dispatch the same (event, data) sequence, and it must be the sequence that
 * a literal reading of the spec's parsing algorithm gives (`whatwg()` below): the two clients
 * share eventsource-parser, so agreeing with each other alone would prove less than it seems.
 * Where a client departs from the spec, its output is pinned with the reason (`Deviation`), so
 * that the test fails, and the pin is removed, once it is fixed.
 *
 * Ids are checked against surewire's documented semantics, not against EventSource's
 * `lastEventId` (DESIGN §3: `meta.id` is the block's own `id:` line, an empty one is none, and the
 * cursor is the id of the last dispatched event that carried one).
 *
 * Pacing: the server writes a chunk only once the client has read every byte before it (the
 * injected fetch reports what it read), so every cut is a read boundary on the client. Without
 * it, a loop of 1-byte writes reaches the reader as one buffer and tests nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client';
import { collect, startServer, untilStatus, type TestServer } from './helpers';

interface Dispatched {
  event: string;
  data: string;
}

// ---------------------------------------------------------------------------------------------
// The oracle: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
// ---------------------------------------------------------------------------------------------

interface SpecEvent extends Dispatched {
  /** The block's own last `id:` value without NUL, `undefined` when none or empty (surewire's `meta.id`). */
  ownId?: string;
}

/** What a WHATWG EventSource dispatches for the whole stream `bytes`, written from the spec, not from a parser. */
function whatwg(bytes: Uint8Array): SpecEvent[] {
  // [spec] The stream is decoded with "UTF-8 decode" (one leading BOM removed, errors → U+FFFD).
  // [spec] Lines end with CRLF, a lone LF or a lone CR; "Once the end of the file is reached, any
  // pending data must be discarded": the text after the last line end is not a line.
  const lines = new TextDecoder().decode(bytes).split(/\r\n|\r|\n/);
  lines.pop();
  const events: SpecEvent[] = [];
  let data = '';
  let type = '';
  let ownId: string | undefined;
  for (const line of lines) {
    if (line === '') {
      // [spec] "If the data buffer is an empty string, set the data buffer and the event type
      // buffer to the empty string and return"; else remove one trailing LF and dispatch.
      if (data !== '') events.push({ event: type || 'message', data: data.slice(0, -1), ownId: ownId || undefined });
      data = type = '';
      ownId = undefined;
      continue;
    }
    if (line.startsWith(':')) continue; // [spec] a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data += `${value}\n`;
    else if (field === 'id' && !value.includes('\0')) ownId = value;
    // [spec] `retry` only sets the reconnection time; every other field is ignored.
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

/** What a client dispatches where it departs from the spec (for the chunkings `when` accepts), and why. */
interface Deviation {
  why: string;
  dispatches: Dispatched[];
  when?: (chunks: Uint8Array[]) => boolean;
}

interface Case {
  name: string;
  stream: Uint8Array;
  eventsourceV4?: Deviation;
  surewire?: Deviation;
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
/** Text and raw bytes, concatenated: for streams that are not valid UTF-8. */
const bytes = (...parts: Array<string | number[]>): Uint8Array => new Uint8Array(parts.flatMap((part) => [...(typeof part === 'string' ? utf8(part) : part)]));
const msg = (data: string, event = 'message'): Dispatched => ({ event, data });
/** The text a reader decodes from its first chunk (or, `skipEmpty`, its first chunk that decodes to any). */
function firstText(chunks: Uint8Array[], skipEmpty: boolean): string {
  const decoder = new TextDecoder();
  for (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text || !skipEmpty) return text;
  }
  return '';
}

/** A small seeded PRNG (mulberry32): the same cuts and the same generated stream on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` small events with random line endings, names, ids (unique), comments and odd fields. */
function manySmallEvents(count: number, seed: number): string {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const endings = ['\n', '\r\n', '\r'];
  const names = ['', 'tick', 'message', 'ünï', '日本', '🚀', 'open'];
  const values = ['x', '', ' lead', 'é€😀', 'a:b', '{"n":1}'];
  let out = '';
  let id = 0;
  // A lone CR followed by an LF ending of the next (blank) line reads as one CRLF: the oracle, not
  // this generator, says where the blocks are.
  const line = (text: string): void => void (out += text + pick(endings));
  for (let i = 0; i < count; i++) {
    if (random() < 0.1) line(`: comment ${i}`);
    if (random() < 0.6) line(`id: ${++id}`);
    else if (random() < 0.1) line('id:');
    if (random() < 0.4) line(`event: ${pick(names)}`);
    if (random() < 0.05) line(`retry: ${pick(['100', 'x', ''])}`);
    if (random() < 0.05) line('unknown: field');
    const dataLines = random() < 0.05 ? 0 : 1 + Math.floor(random() * 3);
    for (let j = 0; j < dataLines; j++) line(pick(['data', `data:${pick(values)}`, `data: ${pick(values)} ${i}`]));
    line('');
  }
  return `${out}data: the unfinished last block`;
}

const MIB = 1 << 20;
/** ~1 MiB of one- to four-byte characters on a single data line. */
const bigLine = 'surewire€😀ü-0123456789'.repeat(Math.ceil(MIB / utf8('surewire€😀ü-0123456789').length));

const CORPUS: Case[] = [
  // Line endings
  { name: 'LF', stream: utf8('data: a\n\nevent: e\ndata: b\n\n') },
  { name: 'CRLF', stream: utf8('event: e\r\ndata: a\r\n\r\ndata: b\r\nid: 1\r\n\r\n') },
  { name: 'CR only (ends with a comment line)', stream: utf8('data: a\r\rdata: b\rdata: c\r\revent: e\rdata: d\r\r: end\n') },
  {
    name: 'CR only, the last blank line a bare CR at the end of the stream',
    stream: utf8('data: a\r\rdata: b\r\r'),
    eventsourceV4: {
      why: 'eventsource-parser holds back a chunk-final CR (it may be half a CRLF) and eventsource v4 resets the parser at the end of the response, so the last event is lost',
      dispatches: [msg('a')],
    },
  },
  { name: 'mixed endings; LF then CR is two line ends (a blank line)', stream: utf8('data: a\r\ndata: b\rdata: c\n\r\ndata: d\n\rdata: e\r\n\ndata: f\r\r\ndata: g\n\r\n') },
  // BOM
  { name: 'BOM at the start', stream: utf8('\uFEFFdata: bom\n\ndata: b\n\n') },
  { name: 'BOM before a comment and CRLF', stream: utf8('\uFEFF: hi\r\ndata: x\r\n\r\n') },
  { name: 'two BOMs: only the first is removed', stream: utf8('\uFEFF\uFEFFdata: a\n\ndata: b\n\n') },
  {
    name: 'first line starting with "ï»¿" (a BOM decoded as Latin-1) is an unknown field',
    stream: utf8('ï»¿data: a\n\ndata: b\n\n'),
    // eventsource-parser 3 compares the start of the first text it is fed with the code units EF BB
    // BF, which are "ï»¿", not U+FEFF, and strips them. Only when that text holds all three: a
    // shorter one uses up the first-chunk check. eventsource feeds every chunk's text, even an
    // empty one. surewire feeds a comment line first, which uses up the check (TextDecoder has
    // already removed the real BOM).
    eventsourceV4: {
      why: 'eventsource-parser strips a leading "ï»¿"',
      dispatches: [msg('a'), msg('b')],
      when: (chunks) => firstText(chunks, false).startsWith('ï»¿'),
    },
  },
  // data
  { name: 'multi-line data', stream: utf8('data: a\ndata: b\ndata:\ndata: c\n\n') },
  { name: 'space after the colon: one is removed, only one', stream: utf8('data:no space\n\ndata:  two spaces\n\ndata: \ttab\n\ndata:\t tab first\n\ndata: trailing \n\n') },
  { name: 'empty data lines', stream: utf8('data:\n\ndata\n\ndata:\ndata:\n\ndata\ndata\n\ndata: a\ndata\n\ndata:\ndata: b\n\n') },
  { name: 'fields without a colon', stream: utf8('data\nevent\nid\nretry\n\nevent: x\nevent\ndata: y\n\nid: 1\nid\ndata: z\n\n') },
  { name: 'unknown and mis-cased fields are ignored', stream: utf8('foo: bar\nData: no\nDATA: no\n data: no\ndata : no\nevent : no\nno colon at all\ndata: yes\n\ndat: x\ndata2: x\n\n') },
  { name: 'a line of spaces is not a blank line', stream: utf8('data: a\n \ndata: b\n\n \n\n') },
  { name: 'comments', stream: utf8(': c\n:\n::\n:data: x\ndata: a\n: between\ndata: b\n\n: only comments\n\n:\r\n\r\n') },
  { name: 'NUL and control characters in data', stream: utf8('data: a\0b\x01\x7f\x1b[0m\n\n') },
  { name: 'runs of blank lines', stream: utf8('data: a\n\n\n\n\r\n\r\rdata: b\n\n\n') },
  // event
  { name: 'unicode event names', stream: utf8('event: ünïcödé\ndata: 1\n\nevent: 日本語\ndata: 2\n\nevent: 🚀\ndata: 3\n\nevent: with space\ndata: 4\n\nevent:  leading space\ndata: 5\n\nevent:no-space\ndata: 6\n\n') },
  { name: 'names that are lifecycle words or object keys', stream: utf8('event: open\ndata: 1\n\nevent: error\ndata: 2\n\nevent: *\ndata: 3\n\nevent: __proto__\ndata: 4\n\nevent: constructor\ndata: 5\n\nevent: message\ndata: 6\n\nevent: MESSAGE\ndata: 7\n\n') },
  { name: 'empty event: resets to message', stream: utf8('event: a\nevent:\ndata: 1\n\nevent: b\nevent: c\ndata: 2\n\nevent:\ndata: 3\n\nevent: d\n\ndata: 4\n\n') },
  // id
  { name: 'id carries over in WHATWG, not in meta.id', stream: utf8('id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid\ndata: d\n\ndata: e\n\nid: 3\ndata: f\n\nid:\ndata: g\n\n') },
  { name: 'id with NUL is ignored', stream: utf8('id: 7\ndata: a\n\nid: 8\0x\ndata: b\n\nid: 9\nid: \0\ndata: c\n\n') },
  { name: 'the last id line wins; odd ids', stream: utf8('id: 1\nid: 2\ndata: x\n\nid:  spaced\ndata: y\n\nid: ü€😀\ndata: z\n\nid:3\ndata: w\n\nid: 4\nid:\ndata: v\n\n') },
  // retry
  { name: 'retry valid and invalid', stream: utf8('retry: 60000\ndata: a\n\nretry: 10a\nretry: -1\nretry:\nretry: 1.5\nretry: ١٢\nretry: 1e3\nretry:  5\nretry\ndata: b\n\nretry: 60000\n\n') },
  // Blocks that dispatch nothing
  { name: 'blocks without data are not dispatched', stream: utf8('event: e\nid: 5\n\n: comment\n\nretry: 1000\n\nid: 6\nevent: f\n\n\n\ndata: after\n\n') },
  { name: 'unfinished last block (ends after LF)', stream: utf8('id: 1\ndata: a\n\nid: 2\ndata: b\n') },
  { name: 'unfinished last block (no line end)', stream: utf8('data: a\n\ndata: b') },
  { name: 'unfinished last block (CRLF)', stream: utf8('data: a\r\n\r\ndata: b\r\n') },
  { name: 'unfinished last block (a CR ends the data line only)', stream: utf8('data: a\r\n\r\ndata: b\r') },
  // UTF-8
  { name: 'multi-byte characters', stream: utf8('data: héllo wörld €uro 日本語 🎉 𝄞\n\nevent: ✓\ndata: ½\r\n\r\nid: é\rdata: 😀😀\r\rdata: ü\n\n') },
  {
    // Beyond the valid corpus: the spec's "UTF-8 decode" defines what a client must do with it.
    name: 'invalid UTF-8 becomes U+FFFD',
    stream: bytes('data: ', [0xff], 'x', [0xe2, 0x82], '\n\nevent: ', [0xc3], '\ndata: y', [0xed, 0xa0, 0x80], '\n\ndata: z', [0xf0, 0x9f]),
  },
  // Size
  { name: '1 MiB data line', stream: utf8(`id: big\nevent: big\ndata: ${bigLine}\n\ndata: after\n\n`) },
  { name: '20 000-line event (CRLF)', stream: utf8(`${Array.from({ length: 20_000 }, (_, i) => `data: line ${i} ü`).join('\r\n')}\r\n\r\ndata: after\r\n\r\n`) },
  { name: '3 000 small events', stream: utf8(manySmallEvents(3000, 7)) },
];

// ---------------------------------------------------------------------------------------------
// Chunking and the paced server
// ---------------------------------------------------------------------------------------------

interface Plan {
  label: string;
  chunks: Uint8Array[];
  /** Cuts between the CR and the LF of a CRLF, and inside a UTF-8 sequence. */
  cutsInCRLF: number;
  cutsInUTF8: number;
}

const isCRLFMiddle = (b: Uint8Array, i: number): boolean => b[i - 1] === 13 && b[i] === 10;
const isUTF8Middle = (b: Uint8Array, i: number): boolean => (b[i]! & 0xc0) === 0x80;

function plan(label: string, stream: Uint8Array, cuts: number[]): Plan {
  const at = [0, ...cuts, stream.length];
  return {
    label,
    chunks: at.slice(1).map((end, i) => stream.subarray(at[i], end)),
    cutsInCRLF: cuts.filter((i) => isCRLFMiddle(stream, i)).length,
    cutsInUTF8: cuts.filter((i) => isUTF8Middle(stream, i)).length,
  };
}

/** Seeded random cuts, plus some of the cuts a reader rarely meets by chance (inside CRLF and UTF-8). */
function randomCuts(stream: Uint8Array, seed: number): number[] {
  const random = prng(seed);
  const cuts = new Set<number>();
  const longest = Math.max(8, Math.floor(stream.length / 200));
  for (let at = 1 + Math.floor(random() * longest); at < stream.length; at += 1 + Math.floor(random() * longest)) cuts.add(at);
  const awkward: number[] = [];
  for (let i = 1; i < stream.length; i++) if (isCRLFMiddle(stream, i) || isUTF8Middle(stream, i)) awkward.push(i);
  for (const i of awkward) if (random() < 64 / awkward.length) cuts.add(i);
  return [...cuts].sort((a, b) => a - b);
}

function plans(stream: Uint8Array, seed: number): Plan[] {
  const all = [plan('one chunk', stream, []), plan(`seeded cuts #${seed}`, stream, randomCuts(stream, seed))];
  if (stream.length <= 600) all.push(plan('every byte', stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)));
  return all;
}

/** Per request path: how much its client has read, in how many reads, and the server waiting for it. */
interface Progress {
  read: number;
  reads: number;
  wake?: () => void;
}
const progress = new Map<string, Progress>();
const track = (path: string): Progress => progress.get(path) ?? progress.set(path, { read: 0, reads: 0 }).get(path)!;
/** Path → the chunks to serve there (once); path → requests seen. */
const streams = new Map<string, Uint8Array[]>();
const requests = new Map<string, number>();
let server: TestServer;
let nextPath = 0;

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  requests.set(path, (requests.get(path) ?? 0) + 1);
  const chunks = streams.get(path);
  // Served once: a reconnect gets 204, which stops both clients for good ([spec] EventSource
  // fails the connection; DESIGN §4 "stop"), so nothing can be dispatched twice.
  streams.delete(path);
  if (!chunks) return void res.writeHead(204).end();
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  const reader = track(path);
  let gone = false;
  res.on('close', () => {
    gone = true;
    reader.wake?.();
  });
  let written = 0;
  for (const chunk of chunks) {
    res.write(chunk);
    written += chunk.length;
    while (reader.read < written && !gone) await new Promise<void>((wake) => (reader.wake = wake));
  }
  res.end();
}

/** The global fetch, with each response body passed through read by read and the reads reported to the server. */
async function pacedFetch(url: string | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  const source = response.body?.getReader();
  if (!source) return response;
  const reader = track(new URL(url).pathname);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await source.read();
        if (done) return controller.close();
        controller.enqueue(value);
        reader.reads++;
        reader.read += value.length;
        reader.wake?.();
      },
      cancel: (reason) => source.cancel(reason),
    },
    // Pull only when the client reads: one client read, one network read.
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, headers: response.headers });
}

/** A URL that serves `chunks` once. */
function route(chunks: Uint8Array[]): string {
  const path = `/s${nextPath++}`;
  streams.set(path, chunks);
  return `${server.origin}${path}`;
}

// ---------------------------------------------------------------------------------------------
// The two readers
// ---------------------------------------------------------------------------------------------

interface Read {
  dispatched: Dispatched[];
  requests: number;
  reads: number;
}

async function viaEventSource(chunks: Uint8Array[], names: Set<string>): Promise<Read & { readyStateAtEnd: number }> {
  const url = route(chunks);
  const dispatched: Dispatched[] = [];
  const es = new EventSource(url, { fetch: pacedFetch });
  const take = (ev: Event): void => {
    // A server event called `error` or `open` is a MessageEvent; the source's own are not.
    if (ev instanceof MessageEvent) dispatched.push({ event: ev.type, data: ev.data as string });
  };
  es.onmessage = take;
  for (const name of names) if (name !== 'message') es.addEventListener(name, take);
  // The end of the response fires `error` with a reconnect scheduled (readyState CONNECTING).
  // close() once the handler has returned: eventsource 4.1.1 arms the reconnect timer after the
  // `error` dispatch, so a close() inside the handler would leave that timer behind.
  const readyStateAtEnd = await new Promise<number>((resolve) => (es.onerror = () => resolve(es.readyState)));
  es.close();
  const path = new URL(url).pathname;
  return { dispatched, readyStateAtEnd, requests: requests.get(path) ?? 0, reads: track(path).reads };
}

async function viaSurewire(chunks: Uint8Array[], names: Set<string>) {
  const url = route(chunks);
  const client = createClient<Record<string, string>>({
    transports: ['sse'],
    endpoints: { sse: url, send: false },
    decode: 'text',
    heartbeat: false,
    fetch: pacedFetch,
    // The end of the stream is awaited below and the client closed before any reconnect.
    reconnect: { initialDelay: 60_000 },
  });
  const got = collect(client);
  const byName: Dispatched[] = [];
  for (const name of names) client.on(name, (data, meta) => byName.push({ event: meta.event, data }));
  await untilStatus(client, (s) => s.state === 'reconnecting' || s.state === 'closed');
  client.close();
  const path = new URL(url).pathname;
  return {
    dispatched: got.messages.map(({ event, data }) => ({ event, data })),
    byName,
    ids: got.messages.map((m) => m.id),
    cursor: client.status.lastEventId,
    errors: got.errors.map((e) => e.code),
    requests: requests.get(path) ?? 0,
    reads: track(path).reads,
  };
}

/** Reads `chunks` with both clients at once. */
async function readBoth(chunks: Uint8Array[], names: Set<string>) {
  const [es, sw] = await Promise.all([viaEventSource(chunks, names), viaSurewire(chunks, names)]);
  return { es, sw };
}

/** Equality of long sequences, reported as the first difference rather than a megabyte diff. */
function expectSame(actual: unknown[], expected: unknown[], what: string): void {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  const at = Array.from({ length: Math.max(actual.length, expected.length) }, (_, i) => i).find((i) => JSON.stringify(actual[i]) !== JSON.stringify(expected[i]));
  const show = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v).slice(0, 300));
  expect.fail(`${what}: ${actual.length} vs ${expected.length} items; first difference at #${at}:\n  got  ${show(actual[at!])}\n  want ${show(expected[at!])}`);
}

beforeAll(async () => {
  server = await startServer((req, res) => void serve(req, res));
});
afterAll(async () => {
  await server.close();
});

describe('the SSE transport reads what a WHATWG EventSource reads', () => {
  CORPUS.forEach((c, index) => {
    const expected = whatwg(c.stream);
    const names = new Set(['message', ...[...expected, ...(c.eventsourceV4?.dispatches ?? []), ...(c.surewire?.dispatches ?? [])].map((e) => e.event)]);
    const spec = { why: 'the WHATWG algorithm', dispatches: expected.map(({ event, data }) => ({ event, data })) };
    for (const p of plans(c.stream, 1000 + index)) {
      it(`${c.name} — ${p.label} (${p.chunks.length} chunks)`, async () => {
        const { es, sw } = await readBoth(p.chunks, names);
        // Both read the stream once, to its end, every cut a read of its own.
        expect([es.requests, es.readyStateAtEnd, sw.requests, sw.errors]).toEqual([1, EventSource.CONNECTING, 1, ['STREAM_ENDED']]);
        expect(es.reads).toBeGreaterThanOrEqual(p.chunks.length);
        expect(sw.reads).toBeGreaterThanOrEqual(p.chunks.length);
        if (p.chunks.length > 1) {
          if (c.stream.some((_, i) => isCRLFMiddle(c.stream, i))) expect(p.cutsInCRLF).toBeGreaterThan(0);
          if (c.stream.some((_, i) => isUTF8Middle(c.stream, i))) expect(p.cutsInUTF8).toBeGreaterThan(0);
        }

        // The differential: surewire and eventsource dispatch the same (event, data) sequence …
        const pin = (d?: Deviation): Deviation => (d && (d.when?.(p.chunks) ?? true) ? d : spec);
        const [forEs, forSw] = [pin(c.eventsourceV4), pin(c.surewire)];
        if (JSON.stringify(forEs.dispatches) === JSON.stringify(forSw.dispatches)) expectSame(sw.dispatched, es.dispatched, 'surewire vs eventsource');
        // … which is the spec's (also where the two share a parser), or a pinned deviation.
        expectSame(es.dispatched, forEs.dispatches, `eventsource vs ${forEs.why}`);
        expectSame(sw.dispatched, forSw.dispatches, `surewire vs ${forSw.why}`);
        expectSame(sw.byName, sw.dispatched, 'on(name) handlers vs onMessage');

        // Ids: DESIGN §3, the block's own id line (empty = none); the cursor is the last of them.
        if (forSw !== spec) return; // a pinned deviation has no ids
        expectSame(sw.ids, expected.map((e) => e.ownId), 'surewire meta.id vs the block ids');
        expect(sw.cursor).toBe(expected.map((e) => e.ownId).filter((id) => id !== undefined).pop());
      });
    }
  });
});

describe('documented differences from a WHATWG EventSource (DESIGN §3)', () => {
  it('a repeated id is delivered once: dedupe by id', async () => {
    const { es, sw } = await readBoth([utf8('id: 1\ndata: a\n\nid: 1\ndata: b\n\ndata: c\n\n')], new Set(['message']));
    expect(es.dispatched).toEqual([msg('a'), msg('b'), msg('c')]);
    expect(sw.dispatched).toEqual([msg('a'), msg('c')]);
    expect(sw.ids).toEqual(['1', undefined]);
  });

  it('`event: surewire:hello` is control and never reaches a handler', async () => {
    const { es, sw } = await readBoth([utf8('event: surewire:hello\ndata: {"heartbeat":0}\n\ndata: a\n\n')], new Set(['message', 'surewire:hello']));
    expect(es.dispatched).toEqual([msg('{"heartbeat":0}', 'surewire:hello'), msg('a')]);
    expect(sw.dispatched).toEqual([msg('a')]);
  });
});
