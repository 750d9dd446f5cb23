// Profile files, the profile FCGI_GET_VALUES proposes, and which scenarios a profile rules out.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeNameValuePairs } from '../reference/codec/name-value.ts';
import { encodeRecord, RecordDecoder } from '../reference/codec/record.ts';
import { FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT } from '../spec/constants.ts';
import type { Profile } from '../suites/define.ts';
import { HarnessError } from './errors.ts';
import { parseProfile, proposeProfile, queryGetValues, unmetNeeds } from './profile.ts';

describe('parseProfile', () => {
  it('accepts the documented keys', () => {
    expect(parseProfile('{"roles":["responder","filter","filter"],"multiplex":true,"keepConn":false,"maxConns":4,"maxReqs":8}')).toEqual({
      roles: ['responder', 'filter'],
      multiplex: true,
      keepConn: false,
      maxConns: 4,
      maxReqs: 8,
    });
    expect(parseProfile('{}')).toEqual({});
  });

  it.each([
    ['not json', /not JSON/],
    ['[]', /JSON object/],
    ['{"roles":[]}', /roles/],
    ['{"roles":["web-server"]}', /roles/],
    ['{"multiplex":"yes"}', /multiplex/],
    ['{"maxConns":0}', /maxConns/],
    ['{"maxReqs":1.5}', /maxReqs/],
    ['{"probe":true}', /unknown key "probe"/],
  ])('rejects %s as a usage error', (text, message) => {
    let error: unknown;
    try {
      parseProfile(text, 'p.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as HarnessError).code).toBe('E_USAGE');
    expect((error as HarnessError).message).toMatch(message);
    expect((error as HarnessError).message).toMatch(/^p\.json: /);
  });
});

describe('proposeProfile', () => {
  it('takes FCGI_GET_VALUES where the file is silent, and defaults otherwise', () => {
    const answer = { answered: true, values: { FCGI_MPXS_CONNS: '1', FCGI_MAX_CONNS: '16', FCGI_MAX_REQS: 'lots' } };
    expect(proposeProfile({}, answer, false)).toEqual({ roles: ['responder'], multiplex: true, keepConn: true, maxConns: 16, probe: false });
    expect(proposeProfile({ multiplex: false, maxReqs: 3 }, answer, true)).toEqual({ roles: ['responder'], multiplex: false, keepConn: true, maxConns: 16, maxReqs: 3, probe: true });
    expect(proposeProfile({}, undefined, false)).toEqual({ roles: ['responder'], multiplex: false, keepConn: true, probe: false });
    expect(proposeProfile({}, { answered: true, values: { FCGI_MPXS_CONNS: '0' } }, false).multiplex).toBe(false);
  });
});

describe('unmetNeeds', () => {
  const p: Profile = { roles: ['responder'], multiplex: false, keepConn: true, probe: false };
  it('names what the profile lacks', () => {
    expect(unmetNeeds(undefined, p)).toBeUndefined();
    expect(unmetNeeds({ keepConn: true, roles: ['responder'] }, p)).toBeUndefined();
    expect(unmetNeeds({ probe: true }, p)).toMatch(/--probe/);
    expect(unmetNeeds({ roles: ['filter', 'authorizer'] }, p)).toMatch(/filter and authorizer roles/);
    expect(unmetNeeds({ multiplex: true }, p)).toMatch(/FCGI_MPXS_CONNS/);
    expect(unmetNeeds({ multiplex: false }, { ...p, multiplex: true })).toMatch(/do not multiplex/);
    expect(unmetNeeds({ keepConn: true }, { ...p, keepConn: false })).toMatch(/FCGI_KEEP_CONN/);
  });
});

describe('queryGetValues', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));
  const listen = async (onRecord: (write: (b: Uint8Array) => void, end: () => void) => void): Promise<number> => {
    server = createServer((s) => {
      const d = new RecordDecoder();
      s.on('data', (c: Buffer) => {
        for (const r of d.push(new Uint8Array(c))) if (r.type === FCGI_GET_VALUES) onRecord((b) => s.write(b), () => s.end());
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  };

  it('reads the answer', async () => {
    const port = await listen((write) => write(encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '1' }) })));
    expect(await queryGetValues({ kind: 'tcp', host: '127.0.0.1', port }, 1000)).toEqual({ answered: true, values: { FCGI_MPXS_CONNS: '1' } });
  });

  it('says why there is no answer', async () => {
    const port = await listen((_write, end) => end());
    expect(await queryGetValues({ kind: 'tcp', host: '127.0.0.1', port }, 1000)).toMatchObject({ answered: false, detail: expect.stringMatching(/closed/) });
  });
});
