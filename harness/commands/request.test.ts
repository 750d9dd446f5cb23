import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import yargs from 'yargs';
import { afterEach, describe, expect, it } from 'vitest';
import { FCGI_FILTER, FCGI_UNKNOWN_ROLE } from '../../spec/constants.ts';
import { encodeRecord } from '../../reference/codec/record.ts';
import { HarnessError } from '../errors.ts';
import { MiniResponder, type MiniHandler } from '../../reference/client/__fixtures__/mini-responder.ts';
import { requestCommand, runRequest, type RequestCommandOptions } from './request.ts';


const root = new URL('../..', import.meta.url).pathname;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const handler: MiniHandler = (req, reply) => {
  if (req.params.get('FAIL') === 'role') return reply.end(0, FCGI_UNKNOWN_ROLE);
  reply.stderr(`warning: ${req.params.get('WHO') ?? 'nobody'}\n`);
  const extra = req.role === FCGI_FILTER ? ` data=${req.data} len=${req.params.get('FCGI_DATA_LENGTH')}` : '';
  reply.stdout(`Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ${req.params.get('WHO')} stdin=${req.stdin} cl=${req.params.get('CONTENT_LENGTH')}${extra}`);
  reply.end();
};

async function app(h: MiniHandler = handler): Promise<string> {
  const a = new MiniResponder({ handler: h });
  const address = await a.listen();
  cleanups.push(() => a.close());
  return address;
}

/** Runs the command in-process with captured output. */
async function run(options: RequestCommandOptions, input = ''): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runRequest(options, { stdout, stderr, stdin: Readable.from([Buffer.from(input)]) });
  return { code, out, err };
}

describe('fcgispec request', () => {
  it('prints the body, passes the application’s stderr through, and exits 0', async () => {
    const target = await app();
    const r = await run({ target, params: ['WHO=world'] });
    expect(r).toEqual({ code: 0, out: 'hello world stdin= cl=undefined', err: 'warning: world\n' });
  });

  it('prints the CGI headers too with include (-i)', async () => {
    const target = await app();
    const r = await run({ target, params: ['WHO=x'], include: true });
    expect(r.out).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello x stdin= cl=undefined');
  });

  it('sends a file as stdin with CONTENT_LENGTH, or our stdin with -', async () => {
    const target = await app();
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-request-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'body'), 'from a file');
    expect((await run({ target, stdin: join(dir, 'body') })).out).toBe('hello undefined stdin=from a file cl=11');
    expect((await run({ target, stdin: '-', params: ['CONTENT_LENGTH=5'] }, 'piped')).out).toBe('hello undefined stdin=piped cl=5');
    writeFileSync(join(dir, 'data'), 'filter me');
    expect((await run({ target, role: 'filter', data: join(dir, 'data') })).out).toBe('hello undefined stdin= cl=undefined data=filter me len=9');
  });

  it('prints every record with its time in --raw mode', async () => {
    const target = await app();
    const r = await run({ target, params: ['WHO=raw'], raw: true });
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\+\d+\.\d{3}ms [→←✕] /);
    const kinds = lines.map((l) => l.replace(/^\+\S+ /, '').split(' ').slice(0, 2).join(' '));
    expect(kinds).toEqual([
      '→ FCGI_BEGIN_REQUEST',
      '→ FCGI_PARAMS',
      '→ FCGI_PARAMS',
      '→ FCGI_STDIN',
      '← FCGI_STDERR',
      '← FCGI_STDOUT',
      '← FCGI_STDOUT',
      '← FCGI_STDERR',
      '← FCGI_END_REQUEST',
      '✕ closed',
    ]);
    expect(lines[0]).toContain('FCGI_RESPONDER flags=0');
    expect(lines[5]).toContain('"Status: 200 OK\\r\\n');
    expect(r.err).toBe('warning: raw\n');
  });

  it('exits 1 with one line when the application rejects the request', async () => {
    const target = await app();
    const r = await run({ target, params: ['FAIL=role'] });
    expect(r.code).toBe(1);
    expect(r.err).toBe('fcgispec: E_REJECTED: the application rejected request 1: FCGI_UNKNOWN_ROLE (appStatus 0)\n');
  });

  it('exits 1 on a protocol error, printing the offending bytes', async () => {
    const server = createServer((s: Socket) => s.once('data', () => s.write(encodeRecord({ version: 2, type: 6, requestId: 1, content: Buffer.from('hi') }))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const r = await run({ target: `127.0.0.1:${(server.address() as { port: number }).port}` });
    expect(r.code).toBe(1);
    expect(r.err).toBe('fcgispec: E_PROTOCOL: a record with version 2 (FCGI_STDOUT, id 1); only version 1 exists [bytes: 02060001000200006869]\n');
  });

  it('throws E_CONNECT (exit 3) when nothing listens, and E_USAGE (exit 2) for bad usage', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const unreachable = await run({ target: `127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(HarnessError);
    expect((unreachable as HarnessError).code).toBe('E_CONNECT');
    for (const bad of [{ target: 'nowhere' }, { target: '127.0.0.1:1', params: ['NOEQUALS'] }, { target: '127.0.0.1:1', stdin: '/does/not/exist' }, { target: 'fd:0' }]) {
      const err = await run(bad).catch((e: unknown) => e);
      expect((err as HarnessError).code).toBe('E_USAGE');
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('parses its options through yargs', async () => {
    const target = await app();
    const seen: string[] = [];
    const cli = yargs([]).command({
      ...requestCommand,
      handler: async (argv) => {
        seen.push(JSON.stringify([argv.target, argv.param, argv.role, argv['keep-conn'], argv.include, argv.timeout]));
      },
    });
    await cli.parseAsync(['request', target, '-p', 'A=1', '--param', 'B=x=y', '--keep-conn', '-i', '--role', 'authorizer', '--timeout', '500']);
    expect(seen).toEqual([JSON.stringify([target, ['A=1', 'B=x=y'], 'authorizer', true, true, 500])]);
  });

  it('runs as a process through a minimal yargs wrapper', async () => {
    const target = await app();
    // `node --import tsx` rather than `npx tsx`: the same loader without npx's seconds of start-up.
    const script = `import yargs from 'yargs';
      import { requestCommand } from ${JSON.stringify(join(root, 'harness/commands/request.ts'))};
      await yargs(process.argv.slice(1)).command(requestCommand).strict().parseAsync();`;
    const args = ['--import', 'tsx', '--input-type=module', '-e', script, 'request', target, '--param', 'WHO=spawned'];
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: root, timeout: 60_000 });
    expect(stdout).toBe('hello spawned stdin= cl=undefined');
    expect(stderr).toBe('warning: spawned\n');
  }, 60_000);
});
