/**
 * Turns the bytes of an event stream (SSE, and each long-poll response) into listener calls:
 * streaming UTF-8 decoding, `eventsource-parser` for the WHATWG field rules, and surewire's own
 * rules on top (hello is control, an event's `id` is its own block's, one batch per chunk).
 */
import { createParser } from 'eventsource-parser';
import { type GuardedListener, isObject, parseJson } from './common';
import type { Hello, WireEvent } from './transport';

/** Characters one unfinished line plus the data of one unfinished event may hold (16 Mi). */
export const MAX_BUFFER = 1 << 24;

/**
 * Reads one stream (one SSE connection, one poll response) to its end: each chunk as it arrived
 * reports `activity()`, then the events it completed in ONE `events()` call (a hello or a
 * `retry` in between is reported in its place). No reader (a response without a body) is an
 * empty stream. Resolves with how many event blocks the stream dispatched (hello included);
 * rejects with the reader's error, or when an unfinished line or event outgrows `MAX_BUFFER`.
 * close() and the poll timeout cancel the reader, which ends the stream; a chunk read meanwhile
 * is dropped by the guard.
 *
 * There is nothing to do at the end of a stream: an event whose blank line never arrived is
 * dropped with the feed ([spec] "If the file ends in the middle of an event, before the final
 * empty line, the final event is not dispatched"), and the decoder can only hold back part of a
 * UTF-8 sequence, which cannot complete an event.
 *
 * Line endings are normalised to LF before the parser sees them. [spec] CR, LF and CRLF all end
 * a line; eventsource-parser 3 holds back a chunk's trailing CR until the next chunk shows whether
 * an LF follows, which would delay the last event of a CR-only stream until the next bytes (a
 * heartbeat away) and drop it at the end of a poll response. Here a CR ends the line at once, and
 * an LF at the start of the next chunk is skipped as the rest of that CRLF.
 *
 * The BOM is removed by `TextDecoder` (its default `ignoreBOM: false`), once, at the start of the
 * stream, as [spec] requires; a BOM split across chunks is handled by the streaming decoder.
 */
export async function readEventStream(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, out: GuardedListener): Promise<number> {
  const decoder = new TextDecoder();
  let batch: WireEvent[] = [];
  let skipLF = false;
  let dispatched = 0;

  const flush = (): void => {
    if (batch.length) out.events(batch);
    batch = [];
  };

  const parser = createParser({
    onEvent({ id, event, data }) {
      dispatched++;
      // [surewire] The id is the block's own `id:` line (eventsource-parser resets it after every
      // block, unlike WHATWG's carried-over lastEventId); an empty `id:` is treated as no id, since
      // "" cannot be a cursor and would make the client's dedupe drop every such event.
      if (event != 'surewire:hello') return void batch.push({ id: id || undefined, event: event || 'message', format: 'text', data });
      // The hello of DESIGN §3 keeps its place: the events before it go first.
      flush();
      const value = parseJson(data, out);
      if (isObject(value)) out.hello(toHello(value, id || undefined));
      else if (value !== undefined) out.bad(data, new Error('hello is not a JSON object'));
    },
    // eventsource-parser only calls this for ASCII digits ([spec] "If the field value consists of
    // only ASCII digits"); `retry: abc` and unknown fields go to onError, where they are ignored.
    onRetry: out.retry,
    // A server that never ends a line or an event must not grow memory without bound: past the
    // limit the stream fails like a network error (thrown out of feed() and out of the read
    // loop below), and the client reconnects with backoff.
    maxBufferSize: MAX_BUFFER,
    onError(error) {
      if (error.type == 'max-buffer-size-exceeded') throw error;
    },
  });
  // eventsource-parser 3 takes the characters "ï»¿" (the BOM's bytes read as Latin-1) off the
  // start of the first text it is fed, where [spec] they are part of a field name. TextDecoder
  // has already removed the real BOM: a comment line uses that first-text check up.
  parser.feed(':\n');

  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) return dispatched;
    out.activity();
    let text = decoder.decode(chunk.value, { stream: true });
    // An empty text (part of a UTF-8 sequence) must not forget a pending CR.
    if (text) {
      if (skipLF && text[0] == '\n') text = text.slice(1);
      skipLF = text.endsWith('\r');
      parser.feed(text.replace(/\r\n?/g, '\n'));
      flush();
    }
  }
}

/**
 * The hello fields with the types the client relies on; anything else is left out. The `id` is
 * the block's `id:` line (DESIGN §3), or an `id` inside the JSON when the block has none.
 */
export function toHello(value: Record<string, unknown>, blockId?: string): Hello {
  const hello: Hello & Record<string, unknown> = {};
  const heartbeat = value.heartbeat as number;
  if (Number.isFinite(heartbeat) && heartbeat >= 0) hello.heartbeat = heartbeat;
  for (const flag of ['resumed', 'ack']) if (typeof value[flag] == 'boolean') hello[flag] = value[flag];
  const id = blockId ?? idOf(value.id);
  if (id !== undefined) hello.id = id;
  return hello;
}

/** An id from JSON: a non-empty string, or a finite number as its decimal string. */
export function idOf(value: unknown): string | undefined {
  return typeof value == 'string' ? value || undefined : Number.isFinite(value) ? String(value) : undefined;
}
