/**
 * Turns the bytes of an event stream (SSE, and each long-poll response) into listener calls:
 * streaming UTF-8 decoding, `eventsource-parser` for the WHATWG field rules, and surewire's own
 * rules on top (hello is control, an event's `id` is its own block's, one batch per chunk).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { GuardedListener } from './common';
import type { Hello, WireEvent } from './transport';

/** The event name of the server's hello on SSE and poll (DESIGN §3). */
export const HELLO_EVENT = 'surewire:hello';

/** Feeds one event stream to a listener. Create one per stream (per SSE connection, per poll). */
export interface EventStreamDecoder {
  /**
   * One chunk as it arrived: reports `activity()`, then the events it completed in ONE
   * `events()` call (a hello or a `retry` in between is reported in its place).
   */
  write(chunk: Uint8Array | string): void;
  /**
   * End of the stream. An event whose blank line never arrived is discarded ([spec] "If the file
   * ends in the middle of an event, before the final empty line, the final event is not
   * dispatched").
   */
  finish(): void;
}

const CR = 13;
const LF = 10;
const CR_OR_CRLF = /\r\n?/g;

/**
 * Creates the decoder of one stream.
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
export function createEventStreamDecoder(out: GuardedListener): EventStreamDecoder {
  const decoder = new TextDecoder();
  let batch: WireEvent[] = [];
  let skipLF = false;

  const parser = createParser({ onEvent, onRetry });

  function onEvent(message: EventSourceMessage): void {
    if (out.done) return;
    if (message.event === HELLO_EVENT) {
      flush();
      hello(message);
      return;
    }
    // [surewire] The id is the block's own `id:` line (eventsource-parser resets it after every
    // block, unlike WHATWG's carried-over lastEventId); an empty `id:` is treated as no id, since
    // "" cannot be a cursor and would make the client's dedupe drop every such event.
    batch.push({ id: message.id || undefined, event: message.event ?? 'message', format: 'text', data: message.data });
  }

  function onRetry(ms: number): void {
    // eventsource-parser only calls this for ASCII digits ([spec] "If the field value consists of
    // only ASCII digits"); `retry: abc` goes to its onError, which we leave unset.
    out.retry(ms);
  }

  function hello(message: EventSourceMessage): void {
    let value: unknown;
    try {
      value = JSON.parse(message.data);
    } catch (cause) {
      out.bad(message.data, cause);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.bad(message.data, new Error('the data of a surewire:hello event must be a JSON object'));
      return;
    }
    out.hello(toHello(value as Record<string, unknown>, message.id || undefined));
  }

  function flush(): void {
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    out.events(events);
  }

  function feed(text: string): void {
    if (text === '') return;
    if (skipLF) {
      skipLF = false;
      if (text.charCodeAt(0) === LF) {
        text = text.slice(1);
        if (text === '') return;
      }
    }
    if (text.indexOf('\r') !== -1) {
      skipLF = text.charCodeAt(text.length - 1) === CR;
      text = text.replace(CR_OR_CRLF, '\n');
    }
    parser.feed(text);
  }

  return {
    write(chunk) {
      out.activity();
      if (out.done) return;
      feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      flush();
    },
    finish() {
      if (out.done) return;
      // Flushes a trailing partial UTF-8 sequence (as U+FFFD): it can only belong to a torn event.
      feed(decoder.decode());
      flush();
      parser.reset();
    },
  };
}

/**
 * The hello fields with the types the client relies on; anything else is left out. The `id` is
 * the block's `id:` line (DESIGN §3), or an `id` inside the JSON when the block has none.
 */
export function toHello(value: Record<string, unknown>, blockId: string | undefined): Hello {
  const hello: Hello = {};
  if (typeof value.heartbeat === 'number' && Number.isFinite(value.heartbeat) && value.heartbeat >= 0) hello.heartbeat = value.heartbeat;
  if (typeof value.resumed === 'boolean') hello.resumed = value.resumed;
  if (typeof value.ack === 'boolean') hello.ack = value.ack;
  const id = blockId ?? idOf(value.id);
  if (id !== undefined) hello.id = id;
  return hello;
}

/** An id from JSON: a non-empty string, or a number as its decimal string. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
