/**
 * Server events to app handlers: mitt, wrapped so that `on` returns its disposer and a throwing
 * handler is reported instead of breaking delivery to the handlers after it (mitt does not
 * isolate listeners).
 */
import mitt from 'mitt';
import type { Emitter as Mitt, Handler } from 'mitt';
import type { InboundMessage } from './types';

type AnyHandler = (data: unknown, meta: InboundMessage) => void;

// mitt reserves '*' for its wildcard; a server event of that name is an ordinary event here.
const STAR = '\u0000*';
const key = (event: string): string => (event === '*' ? STAR : event);

/** Typed registry of event handlers and all-message handlers. */
export interface EventEmitter {
  on(event: string, handler: AnyHandler, once?: boolean): () => void;
  off(event: string, handler: AnyHandler): void;
  onMessage(handler: (message: InboundMessage) => void): () => void;
  /** Delivers one message to its event's handlers, then to every `onMessage` handler. */
  emit(message: InboundMessage): void;
}

/**
 * @param report - receives what a handler threw; it must not throw itself.
 */
export function createEmitter(report: (cause: unknown, event: string) => void): EventEmitter {
  const bus: Mitt<Record<string, InboundMessage>> = mitt();
  // off(handler) must find the wrapper that mitt holds; one handler may be registered twice.
  const wrappers = new Map<string, Map<AnyHandler, Handler<InboundMessage>[]>>();
  const all = new Set<(message: InboundMessage) => void>();

  const forget = (event: string, handler: AnyHandler, wrapper: Handler<InboundMessage>): void => {
    const list = wrappers.get(event)?.get(handler);
    const index = list ? list.indexOf(wrapper) : -1;
    if (index < 0) return;
    list!.splice(index, 1);
    if (list!.length === 0) wrappers.get(event)!.delete(handler);
    bus.off(event, wrapper);
  };

  return {
    on(name, handler, once = false) {
      const event = key(name);
      const wrapper: Handler<InboundMessage> = (message) => {
        if (once) forget(event, handler, wrapper);
        try {
          handler(message.data, message);
        } catch (cause) {
          report(cause, event);
        }
      };
      let byHandler = wrappers.get(event);
      if (!byHandler) wrappers.set(event, (byHandler = new Map()));
      const list = byHandler.get(handler);
      if (list) list.push(wrapper);
      else byHandler.set(handler, [wrapper]);
      bus.on(event, wrapper);
      return () => forget(event, handler, wrapper);
    },
    off(name, handler) {
      const event = key(name);
      const list = wrappers.get(event)?.get(handler);
      if (list) for (const wrapper of [...list]) forget(event, handler, wrapper);
    },
    onMessage(handler) {
      // A Set would fold a handler registered twice into one; wrap so each registration counts.
      const entry = (message: InboundMessage): void => handler(message);
      all.add(entry);
      return () => void all.delete(entry);
    },
    emit(message) {
      bus.emit(key(message.event), message);
      for (const handler of all) {
        try {
          handler(message);
        } catch (cause) {
          report(cause, message.event);
        }
      }
    },
  };
}
