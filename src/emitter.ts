/**
 * Server events to app handlers: `on` returns its disposer, and a throwing handler is reported
 * instead of breaking delivery to the handlers after it. This wrapped mitt until the wrapper held
 * every rule itself (an isolated call per handler, `off` by the app's function, `*` as an ordinary
 * event name rather than mitt's wildcard); what mitt still did is the Map of lists below.
 */
import type { InboundMessage } from './types';

type AnyHandler = (data: unknown, meta: InboundMessage) => void;
/** One `on` registration: the guarded call, tagged with the app's handler for `off`. */
type Wrapper = ((message: InboundMessage) => void) & { h: AnyHandler };

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
  // Each event's handlers. A list is replaced, never changed in place: an emit walks the one the
  // event found, so a handler added meanwhile waits for the next event, and one removed meanwhile
  // still hears this one (as with mitt, which emitted from a copy).
  const handlers = new Map<string, Wrapper[]>();
  const list = (event: string): Wrapper[] => handlers.get(event) ?? [];
  const all = createListeners<InboundMessage>();

  return {
    on(event, h, once) {
      const wrapper = ((message: InboundMessage) => {
        if (once) dispose();
        try {
          h(message.data, message);
        } catch (cause) {
          report(cause, event);
        }
      }) as Wrapper;
      wrapper.h = h;
      // Disposing twice finds nothing to remove the second time.
      const dispose = (): void => void handlers.set(event, list(event).filter((w) => w != wrapper));
      handlers.set(event, [...list(event), wrapper]);
      return dispose;
    },
    off(event, handler) {
      handlers.set(event, list(event).filter((w) => w.h != handler));
    },
    onMessage: all.add,
    emit(message) {
      // The list as the event arrived: an onMessage handler added by an `on` handler waits for
      // the next event, as an `on` handler does.
      const messageHandlers = all.list;
      for (const wrapper of list(message.event)) wrapper(message);
      for (const handler of messageHandlers) {
        try {
          handler(message);
        } catch (cause) {
          report(cause, message.event);
        }
      }
    },
  };
}
