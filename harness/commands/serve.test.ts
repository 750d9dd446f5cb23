import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FCGI_AUTHORIZER, FCGI_UNKNOWN_ROLE } from '../../spec/constants.ts';
import { parseAddress } from '../../reference/address.ts';
import { RawConnection } from '../../reference/client/raw-connection.ts';
import { collect, requestBytes } from '../../reference/responder/test-kit.ts';
import { HarnessError } from '../errors.ts';
import { startServe, type ServeHandle } from './serve.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./serve.ts', import.meta.url));

let handle: ServeHandle | undefined;
let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(async () => {
  await handle?.close(0);
  handle = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

async function request(address: string, spec: Parameters<typeof requestBytes>[0]): Promise<Awaited<ReturnType<typeof collect>>> {
  const conn = await RawConnection.connect(parseAddress(address));
  try {
    await conn.sendBytes(requestBytes(spec));
    return await collect(conn, spec.id, 5000);
  } finally {
    conn.destroy();
  }
}

describe('startServe', () => {
  it('serves the probe app on a Unix socket made 0666, logging one line per request', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fcgispec-serve-'));
    const lines: string[] = [];
    handle = await startServe({ listen: `unix:${join(dir, 'probe.sock')}`, roles: ['responder'], log: (l) => lines.push(l) });
    expect(handle.address).toBe(`unix:${join(dir, 'probe.sock')}`);
    expect((await stat(join(dir, 'probe.sock'))).mode & 0o777).toBe(0o666);
    const r = await request(handle.address, { id: 3, params: { PROBE_ACTION: 'status', PROBE_STATUS: '418' } });
    expect(r.stdout.toString()).toContain('Status: 418 Probe');
    expect((await request(handle.address, { id: 4, role: FCGI_AUTHORIZER })).protocolStatus).toBe(FCGI_UNKNOWN_ROLE);
    expect(lines[0]).toMatch(/^serve: conn=1 id=3 role=responder action=status status=418 app=0 bytes=\d+ ms=[0-9.]+$/);
    expect(lines[1]).toMatch(/id=4 role=authorizer action=- status=FCGI_UNKNOWN_ROLE/);
  });

  it('applies faults given as text', async () => {
    handle = await startServe({ listen: 'tcp:127.0.0.1:0', faults: ['wrong-app-status', 'no-stdout-end@2'], log: false });
    const first = await request(handle.address, { id: 1, params: { PROBE_EXIT: '4' } });
    expect(first.appStatus).toBe(5);
    expect(first.stdoutTerminated).toBe(true);
    expect((await request(handle.address, { id: 1 })).stdoutTerminated).toBe(false);
  });

  it.each([
    [{ listen: 'nowhere' }, /address "nowhere"/],
    [{ listen: '127.0.0.1:0', faults: ['bogus'] }, /unknown fault "bogus"/],
    [{ listen: '127.0.0.1:0', faults: ['delay=x'] }, /NAME\[=ARG\]/],
    [{ listen: '127.0.0.1:0', maxConns: 0 }, /--max-conns/],
    [{ listen: '127.0.0.1:0', roles: ['gateway' as 'responder'] }, /unknown role/],
  ])('refuses bad options with a one-line usage error (%o)', async (options, message) => {
    const err = await startServe({ ...options, log: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('E_USAGE');
    expect((err as HarnessError).message).toMatch(message);
    expect((err as HarnessError).message).not.toContain('\n');
  });

  it('reports an address in use as a usage error', async () => {
    handle = await startServe({ listen: 'tcp:127.0.0.1:0', log: false });
    const err = await startServe({ listen: handle.address, log: false }).catch((e: unknown) => e);
    expect((err as HarnessError).code).toBe('E_USAGE');
    expect((err as HarnessError).message).toMatch(/EADDRINUSE/);
  });
});

function listening(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) resolve(proc.exitCode);
    else proc.once('exit', (code) => resolve(code));
  });
}

describe('serve as a spawned application', () => {
  it('serves the listening socket inherited as fd 0 and closes on SIGTERM', async () => {
    const server = await listening();
    const port = (server.address() as { port: number }).port;
    // The child gets a duplicate of the listening socket as its fd 0 (FCGI_LISTENSOCK_FILENO, §2.2).
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--listen', 'fd:0'], { cwd: ROOT, stdio: [fd, 'ignore', 'pipe'] });
    server.close(); // our copy; the child's keeps listening
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const r = await request(`tcp:127.0.0.1:${port}`, { id: 1, stdin: 'via fd 0', params: { PROBE_EXIT: '2' } });
    expect(r.stdout.toString()).toMatch(/\r\n\r\nvia fd 0$/);
    expect(r.appStatus).toBe(2);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(stderr).toMatch(/listening on fd:0/);
    expect(stderr).toMatch(/id=1 role=responder action=echo-stdin status=200 app=2/);
    expect(stderr).toMatch(/closing/);
  });

  it('exits with code 2 and one line for an unknown fault', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--listen', '127.0.0.1:0', '--fault', 'bogus'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child)).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/unknown fault "bogus"/);
  });
});
