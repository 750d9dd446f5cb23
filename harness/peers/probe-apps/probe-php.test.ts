import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FCGI_AUTHORIZER, FCGI_FILTER, FCGI_RESPONDER, roleNames, type RoleName } from '../../../spec/constants.ts';
import { RawConnection } from '../../../reference/client/raw-connection.ts';
import { compareProbeResponse, expectedProbeResponse, phpCapabilities } from '../../../reference/probe/model.ts';
import { collect, requestBytes } from '../../../reference/responder/test-kit.ts';

const SCRIPT = fileURLToPath(new URL('./probe.php', import.meta.url));
const has = (bin: string): boolean => spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0;
const PHP = ['php8.2', 'php'].find(has);
const PHP_CGI = ['php-cgi8.2', 'php-cgi'].find(has);

describe.skipIf(!PHP)('probe.php', () => {
  it('is valid PHP', () => {
    expect(execFileSync(PHP!, ['-l', SCRIPT]).toString()).toMatch(/No syntax errors/);
  });
});

// A quick check of the PHP probe against the model under php-cgi; the real-peer suites cover php-fpm.
describe.skipIf(!PHP_CGI)('probe.php under php-cgi', () => {
  let dir: string;
  let php: ChildProcess;
  let socket: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgispec-php-'));
    socket = join(dir, 'php.sock');
    php = spawn(PHP_CGI!, ['-n', '-d', 'post_max_size=0', '-b', socket], { stdio: 'ignore', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    for (let i = 0; i < 100; i++) {
      const ok = await RawConnection.connect({ kind: 'unix', path: socket }, { timeoutMs: 200 }).then((c) => (c.destroy(), true), () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('php-cgi did not start');
  });
  afterAll(async () => {
    php?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it.each<[string, number, Record<string, string>, string, string?]>([
    ['echo-stdin', FCGI_RESPONDER, {}, 'hello\0world'],
    ['echo-data (501)', FCGI_FILTER, { PROBE_ACTION: 'echo-data' }, 'in', 'DATA'],
    ['echo-param', FCGI_RESPONDER, { PROBE_ACTION: 'echo-param', PROBE_NAME: 'HTTP_X', HTTP_X: 'v=1' }, ''],
    ['echo-param absent', FCGI_RESPONDER, { PROBE_ACTION: 'echo-param', PROBE_NAME: 'NOPE' }, ''],
    ['echo-params', FCGI_RESPONDER, { PROBE_ACTION: 'echo-params', PROBE_PREFIX: 'PX_', PX_z: '1', PX_a: '', PX_B: 'b' }, ''],
    ['bulk', FCGI_RESPONDER, { PROBE_ACTION: 'bulk', PROBE_SIZE: '200003' }, ''],
    ['sleep', FCGI_RESPONDER, { PROBE_ACTION: 'sleep', PROBE_MS: '5' }, ''],
    ['stderr', FCGI_RESPONDER, { PROBE_ACTION: 'stderr', PROBE_TEXT: 'to the log' }, ''],
    ['status', FCGI_RESPONDER, { PROBE_ACTION: 'status', PROBE_STATUS: '503' }, ''],
    ['bad size', FCGI_RESPONDER, { PROBE_ACTION: 'bulk', PROBE_SIZE: 'x' }, ''],
    ['unknown action', FCGI_RESPONDER, { PROBE_ACTION: 'nope' }, ''],
    ['authorizer allow', FCGI_AUTHORIZER, { PROBE_AUTH: 'allow' }, ''],
    ['authorizer deny', FCGI_AUTHORIZER, {}, ''],
  ])('%s matches the model', async (_name, role, probeParams, stdin, data) => {
    const params = { SCRIPT_FILENAME: SCRIPT, REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(Buffer.byteLength(stdin)), ...probeParams };
    const conn = await RawConnection.connect({ kind: 'unix', path: socket });
    try {
      await conn.sendBytes(requestBytes({ id: 1, role, params, stdin, ...(data === undefined ? {} : { data }) }));
      const r = await collect(conn, 1, 5000);
      expect(r.ending).toBe('end-request');
      const roleName = (roleNames as Record<number, RoleName>)[role]!;
      const expected = expectedProbeResponse(roleName, params, Buffer.from(stdin), Buffer.from(data ?? ''), phpCapabilities);
      expect(compareProbeResponse(expected, { stdout: r.stdout, stderr: r.stderr })).toEqual([]);
    } finally {
      conn.destroy();
    }
  });
});
