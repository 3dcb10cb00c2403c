/**
 * Compile-time contract of the public API (DESIGN §2): payloads inferred from the event map,
 * wrong names and payloads rejected, `onMessage` narrowing by `event`.
 */
import WS from 'ws';
import { describe, expectTypeOf, it } from 'vitest';
import { createClient, isSurewireError, type Client, type InboundMessage, type MessageMeta, type Status, type SurewireError } from '../../src/index';

type Chat = { message: { user: string; text: string }; typing: { user: string } };

// An interface (not a type alias) works as an event map too.
interface Game {
  move: { x: number; y: number };
  resign: null;
}
interface Commands {
  join: { room: string };
}

describe('client types', () => {
  const client = createClient<Chat>({ url: 'https://example.com/rt', autoConnect: false });

  it('on() infers the payload and meta from the event name, and returns a disposer', () => {
    const off = client.on('message', (data, meta) => {
      expectTypeOf(data).toEqualTypeOf<{ user: string; text: string }>();
      expectTypeOf(meta).toEqualTypeOf<MessageMeta>();
      expectTypeOf(meta.id).toEqualTypeOf<string | undefined>();
    });
    expectTypeOf(off).toEqualTypeOf<() => void>();
    client.once('typing', (data) => expectTypeOf(data).toEqualTypeOf<{ user: string }>());
    const handler = (data: { user: string }) => void data;
    client.off('typing', handler);
  });

  it('a wrong event name does not compile', () => {
    // @ts-expect-error 'messages' is not an event of Chat
    client.on('messages', () => {});
    // @ts-expect-error a handler for typing cannot be removed from message
    client.off('message', (data: { user: string; nope: number }) => void data);
  });

  it('send() checks the event name and the payload', () => {
    expectTypeOf(client.send('typing', { user: 'ann' })).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error unknown event
    void client.send('typo', { user: 'ann' });
    // @ts-expect-error wrong payload: text missing
    void client.send('message', { user: 'ann' });
    // @ts-expect-error wrong payload type
    void client.send('typing', { user: 42 });
  });

  it('outbound events can differ from inbound ones', () => {
    const c = createClient<Game, Commands>({ url: 'https://x', autoConnect: false });
    void c.send('join', { room: 'r1' });
    // @ts-expect-error 'move' is inbound only
    void c.send('move', { x: 1, y: 2 });
    c.on('move', (d) => expectTypeOf(d).toEqualTypeOf<{ x: number; y: number }>());
    c.on('resign', (d) => expectTypeOf(d).toEqualTypeOf<null>());
    // @ts-expect-error 'join' is outbound only
    c.on('join', () => {});
  });

  it('onMessage narrows data by event', () => {
    client.onMessage((msg) => {
      expectTypeOf(msg).toEqualTypeOf<InboundMessage<Chat>>();
      if (msg.event === 'message') expectTypeOf(msg.data).toEqualTypeOf<{ user: string; text: string }>();
      else expectTypeOf(msg.data).toEqualTypeOf<{ user: string }>();
      switch (msg.event) {
        case 'typing':
          expectTypeOf(msg.data.user).toBeString();
          // @ts-expect-error typing has no text
          void msg.data.text;
          break;
      }
    });
  });

  it('status is read-only; onStatus and onError hand out typed values and disposers', () => {
    expectTypeOf(client.status).toEqualTypeOf<Status>();
    expectTypeOf(client.status.state).toEqualTypeOf<'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'>();
    expectTypeOf(client.status.transport).toEqualTypeOf<'websocket' | 'sse' | 'poll' | null>();
    // @ts-expect-error snapshots are read-only
    client.status.state = 'open';
    expectTypeOf(client.onStatus(() => {})).toEqualTypeOf<() => void>();
    client.onError((e) => {
      expectTypeOf(e).toEqualTypeOf<SurewireError>();
      expectTypeOf(e.fatal).toBeBoolean();
      // @ts-expect-error codes are a closed union
      if (e.code === 'NOT_A_CODE') return;
    });
    const unknown: unknown = new Error('x');
    if (isSurewireError(unknown)) expectTypeOf(unknown.code).toExtend<string>();
  });

  it('an untyped client accepts any event name with unknown data', () => {
    const c: Client = createClient({ url: 'https://x', autoConnect: false });
    c.on('anything', (d) => expectTypeOf(d).toBeUnknown());
    void c.send('whatever', { any: 'thing' });
  });

  it('the real WebSocket classes are accepted as the WebSocket option, without a cast (strict)', () => {
    createClient({ url: 'https://x', autoConnect: false, WebSocket: WS });
    createClient({ url: 'https://x', autoConnect: false, WebSocket: globalThis.WebSocket });
  });

  it('options are checked', () => {
    // @ts-expect-error not a transport
    createClient({ url: 'https://x', transports: ['carrier-pigeon'] });
    // @ts-expect-error not a jitter
    createClient({ url: 'https://x', reconnect: { jitter: 'some' } });
    createClient({ url: 'https://x', token: async () => 'token', headers: () => ({ 'X-App': '1' }), heartbeat: false, decode: (raw, event) => `${event}${raw}` });
  });
});
