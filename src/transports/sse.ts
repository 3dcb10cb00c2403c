/**
 * The SSE transport over `fetch` and eventsource-parser (not the native `EventSource`, which can
 * neither send headers nor tell us why it failed).
 */
import { guardListener, redact } from './common';
import { createEventStreamDecoder } from './event-stream';
import { checkEventStreamResponse, createHttpSender, discardBody, eventStreamRequest, resolveFetch } from './http';
import type { Transport, TransportFactory } from './transport';

/**
 * `GET ctx.url` with `Accept: text/event-stream` and the cursor as `lastEventId` query and
 * `Last-Event-ID` header; redirects are followed by `fetch`. Opens on a 2xx `text/event-stream`
 * answer; EOF is `{kind:'ended'}`, a read error `{kind:'network'}`. Sends are `POST ctx.sendUrl`.
 */
export const createSseTransport: TransportFactory = (ctx, listener) => {
  const out = guardListener(listener);
  const controller = new AbortController();
  const sender = createHttpSender(ctx);
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  async function run(): Promise<void> {
    // Report nothing before the factory has returned.
    await undefined;
    if (out.done) return;
    try {
      const fetchFn = resolveFetch(ctx);
      const { url, init } = eventStreamRequest(ctx, ctx.lastEventId(), controller.signal);
      const response = await fetchFn(url, init);
      if (out.done) {
        discardBody(response);
        return;
      }
      const failure = checkEventStreamResponse(response);
      if (failure) {
        out.end(failure);
        return;
      }
      out.open();
      if (!response.body) {
        out.end({ kind: 'ended' });
        return;
      }
      if (out.done) {
        discardBody(response);
        return;
      }
      const decoder = createEventStreamDecoder(out);
      reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (out.done) return;
        if (done) break;
        if (value) decoder.write(value);
      }
      decoder.finish();
      out.end({ kind: 'ended' });
    } catch (cause) {
      // After close(), the abort surfaces here as an AbortError: not a failure to report.
      if (!out.done) out.end({ kind: 'network', cause: redact(cause, ctx.token) });
    } finally {
      if (out.done) cancel();
    }
  }

  function cancel(): void {
    const r = reader;
    reader = undefined;
    // A fetch that ignores the signal still has its stream cancelled.
    r?.cancel().catch(() => {});
  }

  void run();

  const transport: Transport = {
    name: 'sse',
    send: (batch) => sender.send(batch),
    close(): void {
      out.stop();
      controller.abort();
      cancel();
      sender.close();
    },
  };
  return transport;
};
