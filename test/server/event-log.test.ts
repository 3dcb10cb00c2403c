import { describe, expect, it } from 'vitest';
import { EventLog, toBatches } from '../../src/server/event-log';
import { classifyInbound, sseEvent, sseHello, wsHello } from '../../src/server/wire';
import { parseSse } from './helpers';

describe('EventLog', () => {
  it('issues consecutive decimal ids from 1 and keeps only the newest `capacity`', () => {
    const log = new EventLog(3, 0);
    expect(log.last).toBe(0);
    expect(log.size).toBe(0);
    const ids = [1, 2, 3, 4, 5].map((n) => log.append('message', String(n)).id);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect(log.size).toBe(3);
    expect(log.first).toBe(3);
    expect(log.after(2)?.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(log.after(4)?.map((e) => e.id)).toEqual([5]);
    expect(log.after(5)).toEqual([]);
    // id 2 was evicted, so "after 1" cannot be served losslessly
    expect(log.after(1)).toBeNull();
  });

  it('resolves a cursor: none → newest, held → resumed, gap/ahead/garbage → not resumed, replay all held', () => {
    const log = new EventLog(3, 0);
    expect(log.resolve(undefined)).toEqual({ cursor: 0, given: false });
    expect(log.resolve('0')).toEqual({ cursor: 0, given: true, resumed: true });
    for (let i = 0; i < 5; i++) log.append('message', 'null');
    expect(log.resolve(undefined)).toEqual({ cursor: 5, given: false });
    expect(log.resolve('')).toEqual({ cursor: 5, given: false });
    expect(log.resolve('5')).toEqual({ cursor: 5, given: true, resumed: true });
    expect(log.resolve('2')).toEqual({ cursor: 2, given: true, resumed: true });
    // 1 would need id 2, which is gone: a gap; the replay starts at the oldest held (3)
    expect(log.resolve('1')).toEqual({ cursor: 2, given: true, resumed: false });
    expect(log.resolve('6')).toEqual({ cursor: 2, given: true, resumed: false });
    for (const garbage of ['abc', '-1', '01', '1.5', ' 3', '99999999999999999999']) {
      expect(log.resolve(garbage)).toEqual({ cursor: 2, given: true, resumed: false });
    }
  });

  it('numbers from firstId + 1, says firstId while empty, and never resumes a cursor it did not issue', () => {
    const log = new EventLog(3, 1000);
    expect(log.last).toBe(1000);
    expect(log.resolve(undefined)).toEqual({ cursor: 1000, given: false });
    expect(log.resolve('1000')).toEqual({ cursor: 1000, given: true, resumed: true });
    // below firstId: an id of an earlier hub (a restart), which this one never issued
    expect(log.resolve('999')).toEqual({ cursor: 1000, given: true, resumed: false });
    expect(log.resolve('0')).toEqual({ cursor: 1000, given: true, resumed: false });
    expect([1, 2].map(() => log.append('message', 'null').id)).toEqual([1001, 1002]);
    expect(log.resolve('1001')).toEqual({ cursor: 1001, given: true, resumed: true });
    expect(log.resolve('999')).toEqual({ cursor: 1000, given: true, resumed: false });
    // ahead of the newest: never issued either
    expect(log.resolve('1003')).toEqual({ cursor: 1000, given: true, resumed: false });
    // ids past 2^53 cannot be told apart as numbers: not ours
    expect(new EventLog(3, 2 ** 53 - 1).resolve('9007199254740993')).toEqual({ cursor: 2 ** 53 - 1, given: true, resumed: false });
  });

  it('with history 0 holds nothing but still numbers events', () => {
    const log = new EventLog(0, 0);
    log.append('message', '1');
    log.append('message', '2');
    expect(log.size).toBe(0);
    expect(log.resolve('2')).toEqual({ cursor: 2, given: true, resumed: true });
    expect(log.resolve('1')).toEqual({ cursor: 2, given: true, resumed: false });
    expect(log.after(2)).toEqual([]);
  });

  it('caps one read by events and bytes, but always returns at least one event', () => {
    const log = new EventLog(100, 0);
    for (let i = 0; i < 10; i++) log.append('message', JSON.stringify('x'.repeat(100)));
    expect(log.after(0, 4, 1_000_000)?.length).toBe(4);
    expect(log.after(0, 100, 300)?.length).toBe(2);
    expect(log.after(0, 100, 1)?.length).toBe(1);
  });
});

describe('toBatches', () => {
  it('builds one frame per batch: an array for several events, an object for one', () => {
    const log = new EventLog(10, 0);
    const entries = [log.append('message', '{"a":1}'), log.append('chat', '[1,2]'), log.append('message', '"s"')];
    const [batch] = toBatches(entries);
    expect(JSON.parse(batch.ws.toString())).toEqual([
      { id: '1', event: 'message', data: { a: 1 } },
      { id: '2', event: 'chat', data: [1, 2] },
      { id: '3', event: 'message', data: 's' },
    ]);
    expect(parseSse(batch.sse.toString())).toEqual([
      { id: '1', data: '{"a":1}' },
      { id: '2', event: 'chat', data: '[1,2]' },
      { id: '3', data: '"s"' },
    ]);
    const single = toBatches([entries[1]]);
    expect(JSON.parse(single[0].ws.toString())).toEqual({ id: '2', event: 'chat', data: [1, 2] });
    // the same Buffer is handed to every connection
    expect(batch.ws).toBe(batch.ws);
  });

  it('splits by the caps without losing or reordering events', () => {
    const log = new EventLog(2000, 0);
    const entries = Array.from({ length: 1100 }, (_, i) => log.append('message', String(i)));
    const batches = toBatches(entries, 512, 1_000_000);
    expect(batches.map((b) => b.entries.length)).toEqual([512, 512, 76]);
    expect(batches.flatMap((b) => b.entries.map((e) => e.id))).toEqual(entries.map((e) => e.id));
  });
});

describe('wire', () => {
  it('writes one data line per line, so a raw newline cannot end an event early', () => {
    expect(sseEvent(7, 'message', '"a"\n"b"')).toBe('id: 7\ndata: "a"\ndata: "b"\n\n');
    expect(sseEvent(8, 'x', '1')).toBe('id: 8\nevent: x\ndata: 1\n\n');
  });

  it('says heartbeat/resumed/id/ack in the hello as DESIGN §3 spells them', () => {
    expect(sseHello({ heartbeat: 15000, id: '42' })).toBe('event: surewire:hello\nid: 42\ndata: {"heartbeat":15000}\n\n');
    expect(sseHello({ heartbeat: 15000, resumed: false })).toBe('event: surewire:hello\ndata: {"heartbeat":15000,"resumed":false}\n\n');
    expect(JSON.parse(wsHello({ heartbeat: 15000, resumed: true }))).toEqual({ type: 'hello', heartbeat: 15000, resumed: true, ack: true });
    expect(JSON.parse(wsHello({ heartbeat: 0, id: '0' }))).toEqual({ type: 'hello', ack: true, id: '0' });
  });

  it('accepts {event, data, mid} and control frames, and refuses the rest', () => {
    expect(classifyInbound({ event: 'e', data: { x: 1 }, mid: 'm' })).toEqual({ kind: 'message', message: { event: 'e', data: { x: 1 }, mid: 'm' } });
    expect(classifyInbound({ event: 'e', mid: 'm' })).toEqual({ kind: 'message', message: { event: 'e', data: null, mid: 'm' } });
    expect(classifyInbound({ type: 'ping' })).toEqual({ kind: 'ping' });
    expect(classifyInbound({ type: 'pong' })).toEqual({ kind: 'pong' });
    for (const bad of [null, 1, 'x', [], { event: 'e' }, { mid: 'm' }, { event: '', mid: 'm' }, { event: 'e', mid: 5 }, { event: 'e', mid: 'x'.repeat(257) }, { type: 'other' }]) {
      expect(classifyInbound(bad)).toEqual({ kind: 'invalid' });
    }
  });
});
