/**
 * Server events to app handlers: mitt, wrapped so that `on` returns its disposer and a throwing
 * handler is reported instead of breaking delivery to the handlers after it (mitt does not
 * isolate listeners).
 */
import mitt from 'mitt';
import type { InboundMessage } from './types';

type AnyHandler = (data: unknown, meta: InboundMessage) => void;
/** What mitt holds for one `on`: the guarded call, tagged with the app's handler for `off`. */
type Wrapper = ((message: InboundMessage) => void) & { h: AnyHandler };

// mitt reserves '*' for its wildcard; a server event of that name is an ordinary event here.
const key = (event: string): string => (event == '*' ? '\0*' : event);

/** Typed registry of event handlers and all-message handlers. */
export interface EventEmitter {
  on(event: string, handler: AnyHandler, once?: boolean): () => void;
  off(event: string, handler: AnyHandler): void;
  onMessage(handler: (message: InboundMessage) => void): () => void;
  /** Delivers one message to its event's handlers, then to every `onMessage` handler. */
  emit(message: InboundMessage): void;
}

/** A list of handlers, replaced (never changed in place) when one is added or removed. */
export interface Listeners<T> {
  /** Adds a handler; each registration counts, even of one function. Returns its remover. */
  add(handler: (value: T) => void): () => void;
  /** The current list: a dispatch walks the one it started with, so a handler added during it
   * waits for the next value, and one that subscribes itself again cannot loop for ever. */
  readonly list: ReadonlyArray<(value: T) => void>;
}

export function createListeners<T>(): Listeners<T> {
  let list: Array<(value: T) => void> = [];
  return {
    add(handler) {
      const entry = (value: T): void => handler(value);
      list = [...list, entry];
      return () => void (list = list.filter((e) => e != entry));
    },
    get list() {
      return list;
    },
  };
}

/**
 * @param report - receives what a handler threw; it must not throw itself.
 */
export function createEmitter(report: (cause: unknown, event: string) => void): EventEmitter {
  const bus = mitt<Record<string, InboundMessage>>();
  const all = createListeners<InboundMessage>();
  const guard = (call: () => void, event: string): void => {
    try {
      call();
    } catch (cause) {
      report(cause, event);
    }
  };

  return {
    on(name, h, once) {
      const event = key(name);
      const wrapper = ((message: InboundMessage) => {
        if (once) dispose();
        guard(() => h(message.data, message), name);
      }) as Wrapper;
      wrapper.h = h;
      // mitt's off() of a handler it no longer holds does nothing, so disposing twice is harmless.
      const dispose = (): void => bus.off(event, wrapper);
      bus.on(event, wrapper);
      return dispose;
    },
    off(name, handler) {
      const event = key(name);
      const list = bus.all.get(event) as Wrapper[] | undefined;
      // mitt emits from a copy of the list, so replacing it during an emit is safe.
      if (list) bus.all.set(event, list.filter((wrapper) => wrapper.h != handler));
    },
    onMessage: all.add,
    emit(message) {
      // The list as the event arrived: an onMessage handler added by an `on` handler waits for
      // the next event, as mitt makes an `on` handler wait.
      const list = all.list;
      bus.emit(key(message.event), message);
      for (const handler of list) guard(() => handler(message), message.event);
    },
  };
}
