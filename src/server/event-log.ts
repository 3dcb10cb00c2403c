/**
 * The hub's ordered event log: a fixed-size ring of serialized events with consecutive numeric
 * ids from `firstId + 1`, the resume decision for a client's `lastEventId`, and batches that
 * serialize their frame once however many connections receive it.
 */
import { BATCH_MAX_BYTES, BATCH_MAX_EVENTS } from './options';
import { sseEvent, wsEvent } from './wire';

/** One published event. Its data is serialized once at publish; frames are built on first use. */
export class LogEntry {
  readonly id: number;
  readonly event: string;
  readonly dataJson: string;
  private wsCache: string | undefined;
  private sseCache: string | undefined;

  constructor(id: number, event: string, dataJson: string) {
    this.id = id;
    this.event = event;
    this.dataJson = dataJson;
  }

  /** The WebSocket JSON object of this event. */
  get ws(): string {
    return (this.wsCache ??= wsEvent(this.id, this.event, this.dataJson));
  }

  /** The SSE block of this event. */
  get sse(): string {
    return (this.sseCache ??= sseEvent(this.id, this.event, this.dataJson));
  }

  /** A cheap upper-bound guess of the frame size, for batch caps (UTF-16 length ≈ bytes). */
  get size(): number {
    return this.dataJson.length + this.event.length + 32;
  }
}

/**
 * Consecutive events that go out together: one WebSocket frame (a JSON array when there are
 * several), one SSE write. Each encoding is built once and shared by every connection.
 */
export class Batch {
  readonly entries: readonly LogEntry[];
  private wsCache: Buffer | undefined;
  private sseCache: Buffer | undefined;

  constructor(entries: readonly LogEntry[]) {
    if (entries.length === 0) throw new Error('surewire/server: a batch needs at least one event');
    this.entries = entries;
  }

  get first(): number {
    return this.entries[0].id;
  }

  get last(): number {
    return this.entries[this.entries.length - 1].id;
  }

  /** Estimated bytes, for flow control without building a frame. */
  get size(): number {
    let n = 0;
    for (const e of this.entries) n += e.size;
    return n;
  }

  /** The WebSocket frame: one object for one event, else an array (DESIGN §3). */
  get ws(): Buffer {
    if (this.wsCache === undefined) {
      const text = this.entries.length === 1 ? this.entries[0].ws : `[${this.entries.map((e) => e.ws).join(',')}]`;
      this.wsCache = Buffer.from(text, 'utf8');
    }
    return this.wsCache;
  }

  /** The SSE text of every event, for one `write`. */
  get sse(): Buffer {
    return (this.sseCache ??= Buffer.from(this.entries.map((e) => e.sse).join(''), 'utf8'));
  }
}

/** Cuts a run of consecutive entries into batches within the per-frame caps. */
export function toBatches(entries: readonly LogEntry[], maxEvents = BATCH_MAX_EVENTS, maxBytes = BATCH_MAX_BYTES): Batch[] {
  const out: Batch[] = [];
  let start = 0;
  while (start < entries.length) {
    let end = start;
    let bytes = 0;
    // At least one event per batch, however big: a cap must never stall the stream.
    do bytes += entries[end++].size;
    while (end < entries.length && end - start < maxEvents && bytes + entries[end].size <= maxBytes);
    out.push(new Batch(entries.slice(start, end)));
    start = end;
  }
  return out;
}

/**
 * Where a new connection starts and what its hello says. `cursor` is the id after which events
 * are sent. `resumed` is absent when the client sent no `lastEventId`.
 */
export interface ResumePoint {
  readonly cursor: number;
  readonly given: boolean;
  readonly resumed?: boolean;
}

// Ids the hub issues: decimal, no sign, no leading zeros; `resolve` also checks the safe range.
const ID_PATTERN = /^(?:0|[1-9]\d{0,15})$/;

/** A ring of the newest `capacity` events, numbered from `firstId + 1`. */
export class EventLog {
  private readonly capacity: number;
  private readonly ring: (LogEntry | undefined)[];
  private held = 0;
  private newest: number;

  constructor(capacity: number, firstId: number) {
    this.capacity = capacity;
    this.ring = new Array<LogEntry | undefined>(capacity);
    this.newest = firstId;
  }

  /** The newest id issued; `firstId` before the first publish. */
  get last(): number {
    return this.newest;
  }

  /** The oldest id held; `last + 1` when none is held. */
  get first(): number {
    return this.newest - this.held + 1;
  }

  /** Events held. */
  get size(): number {
    return this.held;
  }

  /** Appends an event with the next id (ids survive eviction: they never repeat). */
  append(event: string, dataJson: string): LogEntry {
    const entry = new LogEntry(this.newest + 1, event, dataJson);
    this.newest = entry.id;
    if (this.capacity > 0) {
      this.ring[(entry.id - 1) % this.capacity] = entry;
      if (this.held < this.capacity) this.held++;
    }
    return entry;
  }

  /**
   * Events after `cursor`, oldest first, within the batch caps; `[]` when there are none, `null`
   * when some after `cursor` were already evicted (the caller can no longer serve it losslessly).
   */
  after(cursor: number, maxEvents = BATCH_MAX_EVENTS, maxBytes = BATCH_MAX_BYTES): LogEntry[] | null {
    if (cursor >= this.newest) return [];
    if (cursor + 1 < this.first) return null;
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let id = cursor + 1; id <= this.newest && out.length < maxEvents; id++) {
      const entry = this.ring[(id - 1) % this.capacity] as LogEntry;
      if (out.length > 0 && bytes + entry.size > maxBytes) break;
      bytes += entry.size;
      out.push(entry);
    }
    return out;
  }

  /**
   * Decides where a connection with this `lastEventId` starts (DESIGN §3 "Resume"):
   * - none (absent or empty): from the newest id, which the hello announces; nothing replayed.
   * - a held position (every later event still held): `resumed: true`, replay after it.
   * - a gap (older than the oldest held), an id this log never issued (ahead of the newest, or
   *   below `firstId`: another hub's, e.g. the one before a restart) or anything that is not one
   *   of our ids: `resumed: false`, and every held event is replayed, since the client cannot
   *   have seen them.
   */
  resolve(lastEventId: string | undefined): ResumePoint {
    if (lastEventId === undefined || lastEventId === '') return { cursor: this.newest, given: false };
    if (ID_PATTERN.test(lastEventId)) {
      const n = Number(lastEventId);
      // `first - 1` is never below firstId: the oldest held, or firstId itself before any event.
      if (Number.isSafeInteger(n) && n <= this.newest && n >= this.first - 1) return { cursor: n, given: true, resumed: true };
    }
    return { cursor: this.first - 1, given: true, resumed: false };
  }
}
