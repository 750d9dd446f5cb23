import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCgiResponse, parseCgiHead, parseCgiResponse, type CgiResponse } from './cgi.ts';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function ok(s: string | Uint8Array, maxHeaderBytes?: number): CgiResponse {
  const r = parseCgiResponse(typeof s === 'string' ? bytes(s) : s, maxHeaderBytes === undefined ? {} : { maxHeaderBytes });
  if (r.kind !== 'response') throw new Error(`expected a response, got ${r.error.kind}: ${r.error.message}`);
  return r.response;
}
function error(s: string, maxHeaderBytes?: number): string {
  const r = parseCgiResponse(bytes(s), maxHeaderBytes === undefined ? {} : { maxHeaderBytes });
  return r.kind === 'error' ? r.error.kind : 'response';
}

describe('parseCgiResponse', () => {
  it.each([
    ['CRLF', 'Content-Type: text/html\r\nX-A:  b \r\n\r\n<p>hi</p>'],
    ['LF', 'Content-Type: text/html\nX-A:  b \n\n<p>hi</p>'],
    ['mixed', 'Content-Type: text/html\r\nX-A:  b \n\r\n<p>hi</p>'],
  ])('accepts %s line ends', (_name, input) => {
    const r = ok(input);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual([
      ['Content-Type', 'text/html'],
      ['X-A', 'b'],
    ]);
    expect(text(r.body)).toBe('<p>hi</p>');
    expect(r.headerLength).toBe(input.length - '<p>hi</p>'.length);
  });

  it('takes the status and reason from Status:, keeping the header in order', () => {
    const r = ok('X-First: 1\r\nStatus: 404 Not Found\r\n\r\n');
    expect([r.status, r.reason]).toEqual([404, 'Not Found']);
    expect(r.headers.map(([n]) => n)).toEqual(['X-First', 'Status']);
    expect(ok('status:503\n\n').status).toBe(503);
  });

  it('is 302 for an absolute Location without Status, 200 for a local one, Status winning over both', () => {
    expect(ok('Location: https://example.com/x\r\n\r\n').status).toBe(302);
    expect(ok('Location: /local/path\r\n\r\n').status).toBe(200);
    expect(ok('Location: http://a/\r\nStatus: 301 Moved\r\n\r\n').status).toBe(301);
  });

  it('keeps binary bodies and header bytes exactly, and the body is a view', () => {
    const input = Buffer.concat([bytes('X-Name: caf\xe9\n\n'), Buffer.from([0, 255, 10, 13, 10])]);
    const r = ok(input);
    expect(r.headers).toEqual([['X-Name', 'caf\xe9']]);
    expect([...r.body]).toEqual([0, 255, 10, 13, 10]);
    expect(r.body.buffer).toBe(input.buffer);
  });

  it.each([
    ['', 'empty'],
    ['no header block at all', 'no-header-end'],
    ['Content-Type: text/plain\r\n', 'no-header-end'],
    ['\r\nbody without headers', 'no-headers'],
    ['\nbody without headers', 'no-headers'],
    ['Just a line\n\n', 'bad-header-line'],
    [': no name\n\n', 'bad-header-line'],
    ['Bad Name: x\n\n', 'bad-header-line'],
    ['A: b\n folded\n\n', 'bad-header-line'],
    ['Status: OK\n\n', 'bad-status'],
    ['Status: 20\n\n', 'bad-status'],
  ])('rejects %j as %s', (input, kind) => {
    expect(error(input)).toBe(kind);
  });

  it('bounds the header block', () => {
    const long = `X-Long: ${'a'.repeat(200)}\r\n\r\nbody`;
    expect(error(long, 100)).toBe('header-too-large');
    expect(ok(long, long.length - 4).status).toBe(200);
    expect(error(long, long.length - 5)).toBe('header-too-large');
  });
});

describe('parseCgiHead', () => {
  it('is incomplete until the empty line arrives, however the bytes are cut', () => {
    const input = 'Status: 200 OK\r\nContent-Type: a/b\r\n\r\nbody';
    const end = input.indexOf('\r\n\r\n') + 4;
    for (let cut = 0; cut < end; cut++) expect(parseCgiHead(bytes(input.slice(0, cut))).kind).toBe('incomplete');
    const head = parseCgiHead(bytes(input.slice(0, end)));
    expect(head.kind === 'head' && head.head.headerLength).toBe(end);
  });

  it('gives up at the bound instead of waiting forever', () => {
    expect(parseCgiHead(bytes(`X: ${'y'.repeat(100)}`), { maxHeaderBytes: 64 }).kind).toBe('error');
  });
});

describe('formatCgiResponse', () => {
  it('round-trips through parseCgiResponse', () => {
    const seed = 7331;
    console.log(`fast-check seed ${seed}`);
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !/^(status|location)$/i.test(n));
    const value = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
        fc.array(fc.tuple(name, value), { minLength: 1, maxLength: 6 }),
        fc.uint8Array({ maxLength: 64 }),
        (status, headers, body) => {
          const r = ok(formatCgiResponse({ ...(status === undefined ? {} : { status, reason: 'Why' }), headers, body }));
          expect(r.status).toBe(status ?? 200);
          expect(r.headers.filter(([n]) => n !== 'Status')).toEqual(headers);
          expect([...r.body]).toEqual([...body]);
        },
      ),
      { seed, numRuns: 100 },
    );
  });
});
