import { describe, expect, it } from 'vitest';
import { createResumeCursor } from '../../src/resume';

describe('createResumeCursor', () => {
  it('starts at the given id and moves with every delivered id', () => {
    const c = createResumeCursor('7');
    expect(c.current).toBe('7');
    c.deliver('8');
    expect(c.current).toBe('8');
    expect(c.seen('8')).toBe(true);
    expect(c.seen('7')).toBe(true); // resuming after 7: a server that replays it again must not deliver it twice
    expect(createResumeCursor(undefined).current).toBeUndefined();
  });

  it('remembers exactly the last 1000 delivered ids: the 1001st-oldest is forgotten', () => {
    const c = createResumeCursor(undefined);
    for (let i = 1; i <= 1001; i++) c.deliver(`e${i}`);
    expect(c.seen('e1')).toBe(false);
    for (let i = 2; i <= 1001; i++) expect(c.seen(`e${i}`)).toBe(true);
    c.deliver('e1002');
    expect(c.seen('e2')).toBe(false);
    expect(c.seen('e3')).toBe(true);
    expect(c.current).toBe('e1002');
  });

  it('a re-delivered id does not take a second slot in the window', () => {
    const c = createResumeCursor(undefined, 3);
    c.deliver('a');
    c.deliver('b');
    c.deliver('b');
    c.deliver('c');
    expect(['a', 'b', 'c'].map((id) => c.seen(id))).toEqual([true, true, true]);
    c.deliver('d');
    expect(c.seen('a')).toBe(false);
    expect(c.seen('b')).toBe(true);
  });

  it('startAt moves the cursor, and the id counts as seen (the stream resumes after it)', () => {
    const c = createResumeCursor(undefined);
    c.startAt('42');
    expect(c.current).toBe('42');
    expect(c.seen('42')).toBe(true);
  });
});
