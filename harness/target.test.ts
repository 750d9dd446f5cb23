// Command splitting and the bounded log of spawned targets (spawning itself is tested in runner.test.ts).
import { describe, expect, it } from 'vitest';
import { HarnessError } from './errors.ts';
import { RingBuffer, splitCommand } from './target.ts';

describe('splitCommand', () => {
  it('splits on whitespace, groups quotes and honours backslashes, without a shell', () => {
    expect(splitCommand('php-cgi -d display_errors=1')).toEqual(['php-cgi', '-d', 'display_errors=1']);
    expect(splitCommand(`  "/opt/my app/bin" 'a b' c\\ d "x\\"y" '' $HOME  `)).toEqual(['/opt/my app/bin', 'a b', 'c d', 'x"y', '', '$HOME']);
    expect(splitCommand('')).toEqual([]);
  });

  it('rejects an unterminated quote as a usage error', () => {
    expect(() => splitCommand('"abc')).toThrow(HarnessError);
    expect(() => splitCommand("a 'b")).toThrow(/unterminated ' quote/);
  });
});

describe('RingBuffer', () => {
  it('keeps the last bytes written, within its capacity', () => {
    const ring = new RingBuffer(10);
    for (let i = 0; i < 20; i++) ring.push(Buffer.from(`${i % 10}`));
    expect(ring.tail()).toBe('0123456789');
    expect(ring.tail(3)).toBe('789');
    ring.push(Buffer.from('a very long line past the capacity'));
    expect(ring.tail()).toBe('e capacity');
    expect(ring.tail().length).toBeLessThanOrEqual(10);
    const mark = ring.written;
    expect(ring.since(mark)).toBe('');
    ring.push(Buffer.from('new'));
    expect(ring.since(mark)).toBe('new');
    expect(ring.since(mark, 2)).toBe('ew');
    ring.clear();
    expect(ring.tail()).toBe('');
  });
});
