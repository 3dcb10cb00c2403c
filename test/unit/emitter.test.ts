import { describe, expect, it, vi } from 'vitest';
import { createEmitter } from '../../src/emitter';
import type { InboundMessage } from '../../src/types';

const msg = (event: string, data: unknown = null, id?: string): InboundMessage => ({ event, data, id, transport: 'websocket' });

describe('createEmitter', () => {
  it('on() returns a disposer; handlers get (data, meta)', () => {
    const e = createEmitter(() => {});
    const h = vi.fn();
    const off = e.on('chat', h);
    e.emit(msg('chat', { text: 'hi' }, '1'));
    expect(h).toHaveBeenCalledWith({ text: 'hi' }, expect.objectContaining({ id: '1', event: 'chat', transport: 'websocket' }));
    off();
    off(); // twice is harmless
    e.emit(msg('chat'));
    expect(h).toHaveBeenCalledTimes(1);
  });

  it('once() fires once; its disposer works before it fired', () => {
    const e = createEmitter(() => {});
    const h = vi.fn();
    e.on('a', h, true);
    e.emit(msg('a'));
    e.emit(msg('a'));
    expect(h).toHaveBeenCalledTimes(1);
    const h2 = vi.fn();
    const off = e.on('a', h2, true);
    off();
    e.emit(msg('a'));
    expect(h2).not.toHaveBeenCalled();
  });

  it('off() removes every registration of a handler, and only that one', () => {
    const e = createEmitter(() => {});
    const h = vi.fn();
    const other = vi.fn();
    e.on('a', h);
    e.on('a', h);
    e.on('a', other);
    e.emit(msg('a'));
    expect(h).toHaveBeenCalledTimes(2);
    e.off('a', h);
    e.emit(msg('a'));
    expect(h).toHaveBeenCalledTimes(2);
    expect(other).toHaveBeenCalledTimes(2);
    e.off('nothing', h); // unknown event: no throw
  });

  it('a throwing handler is reported and the others still run, onMessage included', () => {
    const report = vi.fn();
    const e = createEmitter(report);
    const boom = new Error('boom');
    const before = vi.fn();
    const after = vi.fn();
    const all = vi.fn();
    e.on('a', before);
    e.on('a', () => {
      throw boom;
    });
    e.on('a', after);
    e.onMessage(() => {
      throw boom;
    });
    e.onMessage(all);
    e.emit(msg('a', 1));
    expect(before).toHaveBeenCalledTimes(1);
    expect(after).toHaveBeenCalledTimes(1);
    expect(all).toHaveBeenCalledTimes(1);
    expect(report).toHaveBeenCalledTimes(2);
    expect(report).toHaveBeenCalledWith(boom, 'a');
  });

  it('events named *, open and error are ordinary events', () => {
    const e = createEmitter(() => {});
    const star = vi.fn();
    const open = vi.fn();
    const error = vi.fn();
    const chat = vi.fn();
    e.on('*', star);
    e.on('open', open);
    e.on('error', error);
    e.on('chat', chat);
    e.emit(msg('chat', 1));
    expect(star).not.toHaveBeenCalled(); // not mitt's wildcard
    e.emit(msg('*', 2));
    e.emit(msg('open', 3));
    e.emit(msg('error', 4));
    expect(star).toHaveBeenCalledWith(2, expect.objectContaining({ event: '*' }));
    expect(open).toHaveBeenCalledWith(3, expect.anything());
    expect(error).toHaveBeenCalledWith(4, expect.anything());
    expect(chat).toHaveBeenCalledTimes(1);
  });

  it('a throwing handler of the * event is reported under its own name', () => {
    const report = vi.fn();
    const e = createEmitter(report);
    const boom = new Error('boom');
    e.on('*', () => {
      throw boom;
    });
    e.emit(msg('*'));
    expect(report).toHaveBeenCalledWith(boom, '*');
  });

  it('onMessage runs after the event handlers, for every event, and its disposer works', () => {
    const e = createEmitter(() => {});
    const order: string[] = [];
    e.on('a', () => order.push('on'));
    const off = e.onMessage((m) => order.push(`all:${m.event}`));
    e.emit(msg('a'));
    e.emit(msg('b'));
    off();
    e.emit(msg('c'));
    expect(order).toEqual(['on', 'all:a', 'all:b']);
  });

  it('a handler registered twice with onMessage runs twice; each disposer removes one', () => {
    const e = createEmitter(() => {});
    const h = vi.fn();
    const off1 = e.onMessage(h);
    e.onMessage(h);
    e.emit(msg('a'));
    expect(h).toHaveBeenCalledTimes(2);
    off1();
    e.emit(msg('a'));
    expect(h).toHaveBeenCalledTimes(3);
  });
});
