import { describe, expect, it } from 'vitest';
import { CgiStatusMemo } from './engine.ts';

const head = (status: string, body = 'x'): Buffer => Buffer.from(`Status: ${status}\r\nContent-Type: text/plain\r\n\r\n${body}`);

describe('CgiStatusMemo', () => {
  it('gives what parsing gives, whether the bytes repeat or not', () => {
    const memo = new CgiStatusMemo();
    expect(memo.statusOf(head('200 OK'))).toBe('200');
    expect(memo.statusOf(head('200 OK'))).toBe('200');
    expect(memo.statusOf(head('404 Not Found'))).toBe('404');
    expect(memo.statusOf(head('200 OK'))).toBe('200');
    expect(memo.statusOf(Buffer.from('no header block at all'))).toBe('cut');
    expect(memo.statusOf(Buffer.from('\r\n\r\nbody'))).toBe('none');
    // Longer than it remembers: parsed every time, still right.
    const big = head('500 Internal Server Error', 'y'.repeat(4096));
    expect([memo.statusOf(big), memo.statusOf(big)]).toEqual(['500', '500']);
  });

  it('keeps a copy: a reused read buffer changing under it does not fool it', () => {
    const memo = new CgiStatusMemo();
    const chunk = head('200 OK');
    expect(memo.statusOf(chunk)).toBe('200');
    head('503 No').copy(chunk); // same length, new status, in the same memory
    expect(memo.statusOf(chunk)).toBe('503');
  });
});
