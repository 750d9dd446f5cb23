import { describe, expect, it } from 'vitest';
import {
  bulkBytes,
  compareProbeResponse,
  expectedProbeResponse,
  parseCgiResponse,
  phpCapabilities,
  type ProbeExpectation,
} from './model.ts';

const b = (s: string): Uint8Array => Buffer.from(s);
const str = (u: Uint8Array): string => Buffer.from(u).toString('latin1');

function summary(e: ProbeExpectation): { status: number; body: string; stderr: string; appStatus: number | undefined } {
  return { status: e.status, body: str(e.body), stderr: str(e.stderr), appStatus: e.appStatus };
}

describe('expectedProbeResponse (probe contract v1)', () => {
  it.each([
    ['no action: echo-stdin', {}, 'in', '', { status: 200, body: 'in', stderr: '', appStatus: 0 }],
    ['echo-stdin', { PROBE_ACTION: 'echo-stdin', PROBE_EXIT: '7' }, 'abc', '', { status: 200, body: 'abc', stderr: '', appStatus: 7 }],
    ['echo-data', { PROBE_ACTION: 'echo-data' }, 'in', 'file', { status: 200, body: 'file', stderr: '', appStatus: 0 }],
    ['echo-param', { PROBE_ACTION: 'echo-param', PROBE_NAME: 'X', X: 'v' }, '', '', { status: 200, body: 'v', stderr: '', appStatus: 0 }],
    ['echo-param, absent', { PROBE_ACTION: 'echo-param', PROBE_NAME: 'Y' }, '', '', { status: 404, body: 'no such param\n', stderr: '', appStatus: 0 }],
    ['echo-param, no name', { PROBE_ACTION: 'echo-param' }, '', '', { status: 400, body: 'bad PROBE_NAME\n', stderr: '', appStatus: 0 }],
    ['echo-params', { PROBE_ACTION: 'echo-params', PROBE_PREFIX: 'T_', T_b: '2', T_a: '1', U: 'x', T_B: '0' }, '', '', { status: 200, body: 'T_B=0\nT_a=1\nT_b=2\n', stderr: '', appStatus: 0 }],
    ['bulk', { PROBE_ACTION: 'bulk', PROBE_SIZE: '23' }, '', '', { status: 200, body: '01234567890123456789012', stderr: '', appStatus: 0 }],
    ['bulk, bad size', { PROBE_ACTION: 'bulk', PROBE_SIZE: '-1' }, '', '', { status: 400, body: 'bad PROBE_SIZE\n', stderr: '', appStatus: 0 }],
    ['sleep', { PROBE_ACTION: 'sleep', PROBE_MS: '5' }, '', '', { status: 200, body: 'slept\n', stderr: '', appStatus: 0 }],
    ['sleep, too long', { PROBE_ACTION: 'sleep', PROBE_MS: '9999999' }, '', '', { status: 400, body: 'bad PROBE_MS\n', stderr: '', appStatus: 0 }],
    ['stderr', { PROBE_ACTION: 'stderr', PROBE_TEXT: 'oops' }, '', '', { status: 200, body: 'ok\n', stderr: 'oops', appStatus: 0 }],
    ['status', { PROBE_ACTION: 'status', PROBE_STATUS: '418' }, '', '', { status: 418, body: 'status\n', stderr: '', appStatus: 0 }],
    ['status, bad', { PROBE_ACTION: 'status', PROBE_STATUS: '42' }, '', '', { status: 400, body: 'bad PROBE_STATUS\n', stderr: '', appStatus: 0 }],
    ['unknown action', { PROBE_ACTION: 'dance' }, '', '', { status: 400, body: 'unknown action\n', stderr: '', appStatus: 0 }],
    ['bad exit', { PROBE_EXIT: '4294967296' }, '', '', { status: 400, body: 'bad PROBE_EXIT\n', stderr: '', appStatus: 0 }],
  ])('%s', (_name, params, stdin, data, expected) => {
    expect(summary(expectedProbeResponse('responder', params, b(stdin), b(data)))).toEqual(expected);
  });

  it('answers as an Authorizer from PROBE_AUTH only', () => {
    const allow = expectedProbeResponse('authorizer', { PROBE_AUTH: 'allow', PROBE_ACTION: 'bulk' });
    expect(allow.status).toBe(200);
    expect(allow.headers).toContainEqual(['Variable-PROBE', 'ok']);
    expect(str(allow.body)).toBe('authorized\n');
    expect(expectedProbeResponse('authorizer', { PROBE_AUTH: 'deny' }).status).toBe(403);
    expect(expectedProbeResponse('authorizer', {}).status).toBe(403);
  });

  it('models what PHP cannot do', () => {
    expect(expectedProbeResponse('filter', { PROBE_ACTION: 'echo-data' }, b(''), b('x'), phpCapabilities).status).toBe(501);
    expect(expectedProbeResponse('responder', { PROBE_EXIT: '3' }, b(''), b(''), phpCapabilities).appStatus).toBeUndefined();
    const php = expectedProbeResponse('responder', { PROBE_ACTION: 'stderr', PROBE_TEXT: 't' }, b(''), b(''), phpCapabilities);
    expect(compareProbeResponse(php, { stdout: b('Status: 200\nContent-Type: application/octet-stream\n\nok\n'), stderr: b('PHP message: t') })).toEqual([]);
    expect(compareProbeResponse(php, { stdout: b('Status: 200\nContent-Type: application/octet-stream\n\nok\n'), stderr: b('') })).toHaveLength(1);
  });

  it('treats params as bytes: echo-params sorts bytewise, values pass through', () => {
    const e = expectedProbeResponse('responder', [
      ['PROBE_ACTION', 'echo-params'],
      ['PROBE_PREFIX', 'Z'],
      [Uint8Array.of(0x5a, 0xff), Uint8Array.of(0, 1, 2)],
      ['Z~', 'tilde'],
      ['Z~', 'last wins'],
    ]);
    expect([...e.body]).toEqual([...Buffer.from('Z~=last wins\n'), 0x5a, 0xff, 0x3d, 0, 1, 2, 0x0a]);
  });

  it('bulkBytes repeats 0123456789 from any offset', () => {
    expect(str(bulkBytes(12, 8))).toBe('890123456789');
  });
});

describe('parseCgiResponse and compareProbeResponse', () => {
  it('parses CRLF and LF header blocks; Status sets the code, else 200', () => {
    expect(parseCgiResponse(b('Status: 404 Nope\r\nContent-Type: x\r\n\r\nbody'))).toEqual({
      status: 404,
      headers: [['Status', '404 Nope'], ['Content-Type', 'x']],
      body: Buffer.from('body'),
    });
    expect(parseCgiResponse(b('Content-Type: x\n\n'))?.status).toBe(200);
    expect(parseCgiResponse(b('no header block'))).toBeUndefined();
    expect(parseCgiResponse(b('Status: abc\n\n'))).toBeUndefined();
  });

  it('finds each kind of difference', () => {
    const expected = expectedProbeResponse('responder', { PROBE_ACTION: 'stderr', PROBE_TEXT: 'e', PROBE_EXIT: '2' });
    const good = b('Status: 200 OK\r\nContent-Type: application/octet-stream\r\nX-Extra: 1\r\n\r\nok\n');
    expect(compareProbeResponse(expected, { stdout: good, stderr: b('e'), appStatus: 2 })).toEqual([]);
    expect(compareProbeResponse(expected, { stdout: b('Content-Type: application/octet-stream\n\nok\n') })).toEqual([]);
    const problems = compareProbeResponse(expected, { stdout: b('Status: 500 X\nContent-Type: text/html\n\nok!'), stderr: b(''), appStatus: 0 });
    expect(problems).toHaveLength(5);
    expect(compareProbeResponse(expected, { stdout: b('ok') })).toHaveLength(1);
  });
});

describe('README', () => {
  it('names files that exist', async () => {
    const { readFile, access } = await import('node:fs/promises');
    const root = new URL('../../', import.meta.url);
    const readme = await readFile(new URL('./README.md', import.meta.url), 'utf8');
    const paths = [...readme.matchAll(/`((?:harness|reference)\/[^`]+|[a-z-]+\.ts)`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) await access(p.includes('/') ? new URL(p, root) : new URL(`./${p}`, import.meta.url));
  });
});
