// `fcgispec client`: usage errors, --list, runs against the web-server double (in-process and through --exec)
// with reports, strictness and exit codes, and the command's argument parsing in a fresh yargs instance.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { afterEach, describe, expect, it } from 'vitest';
import { validateReport } from '../../reports/schema.ts';
import { webServerScenarios } from '../../suites/web-server/index.ts';
import { HarnessError } from '../errors.ts';
import { freePort } from '../peers/process.ts';
import { startDouble, type DoubleFault } from '../web-server/double.ts';
import { clientCommand, clientOptionsFrom, runClient, type ClientIo, type ClientOptions } from './client.ts';
import { commands } from './index.ts';

const fixture = fileURLToPath(new URL('../web-server/__fixtures__/double-main.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fcgispec-client-'));
  dirs.push(d);
  return d;
}

function capture(): ClientIo & { out: () => string } {
  let out = '';
  return { stdout: { write: (t: string) => void (out += t) }, out: () => out };
}

async function usageOf(o: ClientOptions): Promise<string> {
  const error = await runClient(o, capture()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HarnessError);
  expect((error as HarnessError).code).toBe('E_USAGE');
  expect((error as HarnessError).message).not.toContain('\n');
  return (error as HarnessError).message;
}

// A double in front of a backend address chosen before the command starts its backend there.
async function doubleAt(faults: readonly DoubleFault[] = []): Promise<{ listen: string; trigger: string }> {
  const listen = `unix:${tempDir()}/backend.sock`;
  const double = await startDouble({ backend: listen, faults, timeoutMs: 1000 });
  cleanups.push(() => double.close());
  return { listen, trigger: double.url };
}

describe('fcgispec client: usage', () => {
  it('rejects bad command lines with one line, before anything runs', async () => {
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0' })).toMatch(/--trigger/);
    expect(await usageOf({ trigger: 'http://127.0.0.1:1/' })).toMatch(/--listen/);
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0', trigger: 'not a url' })).toMatch(/expected an http:\/\/ URL/);
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0', trigger: 'https://h/' })).toMatch(/only http:\/\//);
    expect(await usageOf({ listen: 'nonsense', trigger: 'http://127.0.0.1:1/' })).toMatch(/^--listen: /);
    expect(await usageOf({ listen: 'fd:0', trigger: 'http://127.0.0.1:1/' })).toMatch(/TCP or a Unix socket/);
    expect(await usageOf({ server: 'iis' })).toMatch(/known servers are nginx, apache, lighttpd, caddy, h2o/);
    expect(await usageOf({ server: 'nginx', trigger: 'http://127.0.0.1:1/' })).toMatch(/leave out --exec and --trigger/);
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0', trigger: 'http://127.0.0.1:1/', timeoutScale: 0 })).toMatch(/--timeout-scale/);
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0', trigger: 'http://127.0.0.1:1/', only: ['no.such.scenario'] })).toMatch(/no scenario matches/);
    expect(await usageOf({ listen: 'tcp:127.0.0.1:0', trigger: 'http://127.0.0.1:1/', out: '' })).toMatch(/--out needs a folder/);
  });

  it('lists the scenarios as text or JSON without a web server', async () => {
    const text = capture();
    expect(await runClient({ list: true, only: ['rejection'] }, text)).toBe(0);
    expect(text.out().split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^rejection\.cant-mpx-conn  answers an HTTP error .* \[FCGI-5\.5-rejection-handled\]$/),
      expect.stringMatching(/^rejection\.overloaded /),
      expect.stringMatching(/^rejection\.unknown-role /),
    ]);
    const json = capture();
    expect(await runClient({ list: true, json: '', only: ['response.split.tiny-records'] }, json)).toBe(0);
    expect(JSON.parse(json.out())).toEqual([{ id: 'response.split.tiny-records', title: expect.any(String), requirements: ['FCGI-3.3-stream-value-web-server'], faults: ['tiny-records=1'] }]);
  });

  it('says a web server that is not there, or does not pass requests on, is unreachable', async () => {
    const port = await freePort();
    const error = await runClient({ listen: 'tcp:127.0.0.1:0', trigger: `http://127.0.0.1:${port}/`, timeoutScale: 0.2 }, capture()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_CONNECT', message: expect.stringMatching(/does not pass requests to tcp:127\.0\.0\.1:\d+: .*ECONNREFUSED/) });
    // An HTTP server that answers without passing anything on.
    const server = createServer((s) => s.once('data', () => s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const trigger = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const silent = await runClient({ listen: 'tcp:127.0.0.1:0', trigger, timeoutScale: 0.2 }, capture()).catch((e: unknown) => e);
    expect(silent).toMatchObject({ code: 'E_CONNECT', message: expect.stringMatching(/no FastCGI request reached the backend .*HTTP 404/) });
  });
});

describe('fcgispec client: a run', () => {
  it('runs against the double, prints the summary, writes valid reports and exits 0', async () => {
    const { listen, trigger } = await doubleAt();
    const out = join(tempDir(), 'report');
    const io = capture();
    const code = await runClient({ listen, trigger, only: ['request.get.simple', 'response.status.404', 'response.stall'], out, seed: 9, name: 'double', timeoutScale: 0.5 }, io);
    expect(code).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^fcgispec client: backend ${listen.replace(/[.]/g, '\\.')}, trigger ${trigger.replace(/[.]/g, '\\.')}, seed 9\\n`));
    expect(io.out()).toMatch(/3 scenarios in .*: 2 pass, 1 info\n/);
    for (const f of ['report.json', 'report.xml', 'report.html', 'report.md']) expect(existsSync(join(out, f))).toBe(true);
    const report: unknown = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(validateReport(report)).toEqual([]);
    expect(report).toMatchObject({ seed: 9, target: { name: 'double', mode: 'client', address: trigger, profile: { backend: listen, mpxsConns: true } } });
    const requirements = (report as { requirements: { id: string; verdict: string }[] }).requirements;
    expect(requirements.find((r) => r.id === 'FCGI-X-stall-timeout-web-server')).toMatchObject({ verdict: 'info' });
    expect(requirements.find((r) => r.id === 'FCGI-6.1-status-honoured')).toMatchObject({ verdict: 'pass' });
  }, 30_000);

  it('makes a should-level finding a failure with --strict, and a must-level one always', async () => {
    const { listen, trigger } = await doubleAt(['rejection-as-200', 'ignore-status']);
    const lenient = capture();
    expect(await runClient({ listen, trigger, only: ['rejection.overloaded'], quiet: true }, lenient)).toBe(0);
    expect(lenient.out()).toMatch(/1 scenario in .*: 1 warn\n/);
    expect(await runClient({ listen, trigger, only: ['rejection.overloaded'], strict: true, quiet: true }, capture())).toBe(1);
    expect(await runClient({ listen, trigger, only: ['response.status.404'], quiet: true }, capture())).toBe(1);
  }, 30_000);

  it('starts the web server with --exec, hands it the backend address, and stops it afterwards', async () => {
    const port = await freePort();
    const io = capture();
    const code = await runClient(
      { listen: 'tcp:127.0.0.1:0', trigger: `http://127.0.0.1:${port}/`, exec: `"${process.execPath}" --import tsx ${fixture} ${port}`, only: ['request.params.post'], quiet: true },
      io,
    );
    expect(io.out()).toMatch(/1 scenario in .*: 1 pass\n/);
    expect(code).toBe(0);
    // Stopped: the port is free again.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => probe.close(r));
  }, 30_000);
});

describe('fcgispec client: arguments', () => {
  it('parses the options in a fresh yargs instance and refuses unknown ones', async () => {
    let parsed: ClientOptions | undefined;
    const cli = (): ReturnType<typeof yargs> =>
      yargs([])
        .strict()
        .fail((msg, err) => {
          throw err ?? new Error(msg);
        })
        .command({ ...clientCommand, handler: (argv) => void (parsed = clientOptionsFrom(argv)) });
    await cli().parseAsync(['client', '--listen', 'unix:/tmp/b.sock', '--trigger', 'http://h:8/', '--only', 'request.*', '--skip', 'x', '--strict', '--timeout-scale', '2', '--no-mpx', '--out', 'r']);
    expect(parsed).toEqual({ listen: 'unix:/tmp/b.sock', trigger: 'http://h:8/', only: ['request.*'], skip: ['x'], strict: true, timeoutScale: 2, mpx: false, out: 'r' });
    await cli().parseAsync(['client', '--server', 'nginx']);
    expect(parsed).toEqual({ server: 'nginx', mpx: true });
    // yargs may throw from `fail` before it returns a promise.
    const parse = async (args: string[]): Promise<unknown> => cli().parseAsync(args);
    await expect(parse(['client', '--server', 'iis'])).rejects.toThrow(/Invalid values/);
    await expect(parse(['client', '--lisen', 'x'])).rejects.toThrow(/Unknown argument/);
  });

  it('knows every scenario of the suite by default', async () => {
    const io = capture();
    await runClient({ list: true, json: '' }, io);
    expect((JSON.parse(io.out()) as { id: string }[]).map((s) => s.id)).toEqual(webServerScenarios.map((s) => s.id));
  });
});

// Through the real CLI (skipped while the command is not registered).
const registered = commands.some((c) => (c as object) === clientCommand);
describe.skipIf(!registered)('fcgispec client through the CLI', () => {
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile('npx', ['tsx', 'harness/cli.ts', 'client', ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      });
    });

  it('prints --list --json', async () => {
    const r = await cli(['--list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(webServerScenarios.length);
  }, 60_000);

  it('exits 2 with one line on bad usage, 3 when the web server is not there', async () => {
    const usage = await cli(['--listen', 'tcp:127.0.0.1:0']);
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).toMatch(/^fcgispec: name the --trigger URL .*\n$/);
    const port = await freePort();
    const down = await cli(['--listen', 'tcp:127.0.0.1:0', '--trigger', `http://127.0.0.1:${port}/`, '--timeout-scale', '0.2']);
    expect(down.code, down.stderr).toBe(3);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
