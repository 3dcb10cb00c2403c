/**
 * The bytes of DESIGN §3, in one place: SSE text blocks, WebSocket JSON frames, the hello, and
 * validation of what clients send. Nothing here touches a socket.
 */
import type { HubMessage } from './types';

/** Written at once when an SSE stream opens, so that a buffering proxy shows itself. */
export const SSE_OPEN_COMMENT = ':ok\n\n';
/** An SSE heartbeat: a comment line, ignored by every parser but seen as activity. */
export const SSE_HEARTBEAT = ':\n\n';
/** The hub's WebSocket heartbeat; clients answer it with a pong. */
export const WS_PING = '{"type":"ping"}';
/** The answer to a client's `{"type":"ping"}`. */
export const WS_PONG = '{"type":"pong"}';
/** The SSE event name of the hello; it is control and never reaches the app. */
export const SSE_HELLO_EVENT = 'surewire:hello';
/** Longest accepted `mid`: bounds the memory of the dedupe window. */
export const MAX_MID_LENGTH = 256;

/** What a hello says (DESIGN §3 "Hello"). */
export interface HelloFields {
  heartbeat: number;
  /** Absent when the request carried no `lastEventId`. */
  resumed?: boolean;
  /** The newest id, only when the request carried no `lastEventId`. */
  id?: string;
}

function helloBody(h: HelloFields): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  // heartbeat 0 means "off": announce nothing rather than a 0 ms heartbeat.
  if (h.heartbeat > 0) body.heartbeat = h.heartbeat;
  if (h.resumed !== undefined) body.resumed = h.resumed;
  return body;
}

/** `event: surewire:hello`, an `id:` line when there is an id, and the JSON `data:`. */
export function sseHello(h: HelloFields): string {
  return `event: ${SSE_HELLO_EVENT}\n${h.id !== undefined ? `id: ${h.id}\n` : ''}data: ${JSON.stringify(helloBody(h))}\n\n`;
}

/** `{"type":"hello",…,"ack":true}`: `ack` announces the send-acknowledgement extension. */
export function wsHello(h: HelloFields): string {
  const body: Record<string, unknown> = { type: 'hello', ...helloBody(h), ack: true };
  if (h.id !== undefined) body.id = h.id;
  return JSON.stringify(body);
}

/** `{"type":"ack","mids":[…]}`: these sends were handled (duplicates included). */
export function wsAck(mids: readonly string[]): string {
  return JSON.stringify({ type: 'ack', mids });
}

/** One event as a WebSocket JSON object; `dataJson` is already serialized. */
export function wsEvent(id: number, event: string, dataJson: string): string {
  return `{"id":"${id}","event":${JSON.stringify(event)},"data":${dataJson}}`;
}

/** One event as an SSE block; `event:` is omitted for `message`, the WHATWG default. */
export function sseEvent(id: number, event: string, dataJson: string): string {
  const name = event === 'message' ? '' : `event: ${event}\n`;
  // [spec] a raw CR or LF would end the data line early, so each line gets its own `data:`.
  // JSON.stringify never emits one, but `dataJson` is only a string as far as types go.
  const data = /[\r\n]/.test(dataJson) ? dataJson.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('') : `data: ${dataJson}\n`;
  return `id: ${id}\n${name}${data}\n`;
}

/**
 * An event name the SSE framing can carry: non-empty, no CR or LF (they would split the
 * `event:` line), and not the reserved hello name.
 */
export function isValidEventName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !/[\r\n]/.test(name) && name !== SSE_HELLO_EVENT;
}

/** An inbound item after validation. */
export type InboundItem = { kind: 'message'; message: HubMessage } | { kind: 'ping' } | { kind: 'pong' } | { kind: 'invalid' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Classifies one parsed item: a control frame (`type`), or a message that must have a string
 * `event` and a string `mid` of 1–256 characters. A missing `data` (`send('ping')` serializes
 * `undefined` away) becomes `null`.
 */
export function classifyInbound(value: unknown): InboundItem {
  if (!isRecord(value)) return { kind: 'invalid' };
  if (value.type !== undefined) {
    if (value.type === 'ping') return { kind: 'ping' };
    if (value.type === 'pong') return { kind: 'pong' };
    return { kind: 'invalid' };
  }
  const { event, mid } = value;
  if (typeof event !== 'string' || event.length === 0) return { kind: 'invalid' };
  if (typeof mid !== 'string' || mid.length === 0 || mid.length > MAX_MID_LENGTH) return { kind: 'invalid' };
  return { kind: 'message', message: { event, data: value.data === undefined ? null : value.data, mid } };
}

/** A parsed body or frame as a list of items: one object or an array of them. */
export function asItems(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}
