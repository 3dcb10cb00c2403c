/**
 * The resume cursor and the dedupe window: which ids were delivered, and where to resume from.
 */

/** Remembers the last `size` delivered ids and the cursor (the newest of them). */
export interface ResumeCursor {
  /** The id to resume after; `undefined` before any id is known. */
  readonly current: string | undefined;
  /** True when `id` was delivered recently (within the window). */
  seen(id: string): boolean;
  /** Records a delivered id and moves the cursor to it. */
  deliver(id: string): void;
  /** Moves the cursor without delivering (a server hello's starting id); the id counts as seen. */
  startAt(id: string): void;
  /** Forgets the delivered ids (the server lost track: what it sends now is new); keeps the cursor. */
  forget(): void;
}

/**
 * Creates a cursor with a dedupe window of `size` ids (DESIGN §3: the last 1000).
 * A ring of ids plus a Set: O(1) per event, no iterator allocation on the hot path.
 */
export function createResumeCursor(initial: string | undefined, size = 1000): ResumeCursor {
  // Grows as ids arrive: an idle client must not pay for 1000 slots up front.
  let ring: string[] = [];
  const ids = new Set<string>();
  let next = 0;
  let current: string | undefined;
  // The id to resume after was delivered before (a saved cursor, a hello's newest id): a server
  // that replays from it inclusively must not deliver it again.
  const deliver = (id: string): void => {
    current = id;
    if (ids.has(id)) return;
    // Until the ring is full, ring[next] is a new slot (undefined): nothing to forget.
    ids.delete(ring[next]!);
    ring[next] = id;
    next = (next + 1) % size;
    ids.add(id);
  };
  if (initial !== undefined) deliver(initial);
  return {
    get current() {
      return current;
    },
    seen: (id) => ids.has(id),
    deliver,
    startAt: deliver,
    forget() {
      ring = [];
      ids.clear();
      next = 0;
    },
  };
}
