import { describe, expect, it } from 'vitest';
import { HarnessError } from '../errors.ts';
import { checkNumber, parseParams, pick, reportOutputs } from './options.ts';

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('E_USAGE');
    return (err as Error).message;
  }
  throw new Error('no usage error');
};

describe('the shared command-line options', () => {
  it('checks numbers against their bounds, and says what was wanted for a word', () => {
    expect(checkNumber('runs', 3, { min: 1, integer: true })).toBe(3);
    expect(checkNumber('runs', undefined, { min: 1, integer: true })).toBeUndefined();
    expect(messageOf(() => checkNumber('runs', Number.NaN, { min: 1, integer: true }))).toBe('--runs needs an integer ≥ 1');
    expect(messageOf(() => checkNumber('runs', 1.5, { min: 1, integer: true }))).toBe('--runs must be an integer ≥ 1, got 1.5');
    expect(messageOf(() => checkNumber('scale', 0, { min: 0, above: true }))).toBe('--scale must be a number > 0, got 0');
    expect(messageOf(() => checkNumber('scale', Number.POSITIVE_INFINITY, { min: 0 }))).toBe('--scale must be a number ≥ 0, got Infinity');
  });

  it('parses NAME=VALUE params, a value may hold "="', () => {
    expect(parseParams(['A=1', 'B=x=y', 'A=2', 'EMPTY='])).toEqual({ A: '2', B: 'x=y', EMPTY: '' });
    expect(messageOf(() => parseParams(['=v']))).toBe('--param "=v": expected NAME=VALUE');
    expect(messageOf(() => parseParams(['novalue']))).toBe('--param "novalue": expected NAME=VALUE');
  });

  it('maps the report flags to files, --out to all four', () => {
    expect(reportOutputs({ json: 'r.json', md: 'r.md' })).toEqual({ json: 'r.json', markdown: 'r.md' });
    expect(Object.keys(reportOutputs({ out: 'dir' })).sort()).toEqual(['html', 'json', 'junit', 'markdown']);
    expect(messageOf(() => reportOutputs({ out: '' }))).toBe('--out needs a folder');
    expect(messageOf(() => reportOutputs({ html: '' }))).toBe('--html needs a FILE');
  });

  it('leaves absent options out', () => {
    expect(pick<{ a?: number }, 'a'>('a', undefined)).toEqual({});
    expect(pick<{ a?: number }, 'a'>('a', 0)).toEqual({ a: 0 });
  });
});
