// `fcgispec app`: usage errors, --list, a whole run with reports and expectations, and the exit codes; through
// `runApp` directly, and through the CLI in a child process once the command is registered.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequirementId } from '../../spec/requirements.ts';
import { defineScenario, type Scenario } from '../../suites/define.ts';
import { startMiniApp } from '../__fixtures__/mini-app.ts';
import { HarnessError } from '../errors.ts';
import { appCommand, runApp, type AppIo, type AppOptions } from './app.ts';
import { commands } from './index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MUST: RequirementId = 'FCGI-5.5-request-complete';

const ok = defineScenario({
  id: 'test.ok',
  title: 'answers a request',
  group: 'output',
  requirements: [MUST],
  async run(ctx) {
    const conn = await ctx.connect();
    await conn.sendRequest({ requestId: 1 });
    const r = await conn.readResponse(1);
    ctx.check.equal(r.end?.protocolStatus, 0, MUST, 'protocolStatus');
  },
});
const bad = defineScenario({
  id: 'test.bad',
  title: 'expects what the app does not do',
  group: 'output',
  requirements: [MUST],
  needs: { keepConn: true },
  async run(ctx) {
    ctx.check.violation(MUST, 'the impossible', 'the possible');
  },
});
const probed = defineScenario({ id: 'probe.only', title: 'needs the probe', group: 'stdin', requirements: [MUST], needs: { probe: true }, hostile: true, run: async () => {} });
const scenarios: readonly Scenario[] = [ok, bad, probed];

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fcgispec-app-'));
  dirs.push(d);
  return d;
}

function capture(): AppIo & { out: () => string } {
  let out = '';
  const stdout = { write: (t: string) => void (out += t) };
  return { stdout, scenarios, out: () => out };
}

async function usageOf(o: AppOptions): Promise<string> {
  const error = await runApp(o, capture()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HarnessError);
  expect((error as HarnessError).code).toBe('E_USAGE');
  expect((error as HarnessError).message).not.toContain('\n');
  return (error as HarnessError).message;
}

describe('fcgispec app: usage', () => {
  it('rejects bad command lines with one line, before anything runs', async () => {
    expect(await usageOf({})).toMatch(/name a TARGET/);
    expect(await usageOf({ target: '127.0.0.1:9000', embedded: true })).toMatch(/only one of/);
    expect(await usageOf({ target: 'no-port-here' })).toMatch(/expected tcp:HOST:PORT/);
    expect(await usageOf({ target: '127.0.0.1:9000', timeoutScale: 0 })).toMatch(/--timeout-scale/);
    expect(await usageOf({ target: '127.0.0.1:9000', concurrency: 1.5 })).toMatch(/--concurrency/);
    expect(await usageOf({ target: '127.0.0.1:9000', params: ['NOVALUE'] })).toMatch(/NAME=VALUE/);
    expect(await usageOf({ target: '127.0.0.1:9000', only: ['nothing.like.this'] })).toMatch(/no scenario matches/);
    expect(await usageOf({ target: '127.0.0.1:9000', spawnUnix: true })).toMatch(/--spawn-unix needs --spawn/);
    expect(await usageOf({ spawn: '"unterminated' })).toMatch(/unterminated/);
    const dir = tempDir();
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ roles: ['responder'], multiplx: true }));
    expect(await usageOf({ target: '127.0.0.1:9000', profile: join(dir, 'p.json') })).toMatch(/unknown key "multiplx"/);
    expect(await usageOf({ target: '127.0.0.1:9000', profile: join(dir, 'absent.json') })).toMatch(/ENOENT/);
    writeFileSync(join(dir, 'e.json'), '{"targets": 3}');
    expect(await usageOf({ target: '127.0.0.1:9000', expect: join(dir, 'e.json') })).toMatch(/--expect/);
  });

  it('lists the scenarios, as text or JSON, without a target', async () => {
    const io = capture();
    expect(await runApp({ list: true, json: '', skip: ['probe'] }, io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual([
      { id: 'test.ok', title: 'answers a request', group: 'output', requirements: [MUST], needs: {}, hostile: false },
      { id: 'test.bad', title: 'expects what the app does not do', group: 'output', requirements: [MUST], needs: { keepConn: true }, hostile: false },
    ]);
    const text = capture();
    expect(await runApp({ list: true, only: ['probe.*'] }, text)).toBe(0);
    expect(text.out()).toBe(`probe.only  needs the probe  [${MUST}] needs probe=true hostile\n`);
  });

  it('says a target that is not there is unreachable', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const error = await runApp({ target: `127.0.0.1:${port}`, timeoutScale: 0.2 }, capture()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as HarnessError).code).toBe('E_CONNECT');
    expect((error as HarnessError).message).toMatch(/unreachable: cannot connect/);
  });
});

describe('fcgispec app: a run', () => {
  it('runs, prints the summary, writes every report and maps the verdicts to the exit code', async () => {
    const app = await startMiniApp();
    cleanups.push(app.close);
    const out = join(tempDir(), 'report');
    const io = capture();
    const code = await runApp({ target: `tcp:127.0.0.1:${app.port}`, out, seed: 5, name: 'mini' }, io);
    expect(code).toBe(1);
    expect(io.out()).toMatch(/seed 5/);
    expect(io.out()).toMatch(/profile: roles responder, multiplex false, keepConn true, maxConns 10, maxReqs 10, probe false \(proposed, FCGI_GET_VALUES answered\)/);
    expect(io.out()).toMatch(/3 scenarios in .*: 1 pass, 1 skip, 1 fail\n/);
    expect(io.out()).toMatch(/FAIL +test\.bad/);
    expect(io.out()).toMatch(/target mini \(tcp:127\.0\.0\.1:\d+\), seed 5\n/);
    expect(io.out()).toContain(`reports written to ${out}/`);
    for (const f of ['report.json', 'report.xml', 'report.html', 'report.md']) expect(existsSync(join(out, f))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { seed: number; target: { name: string; mode: string }; results: { id: string; verdict: string }[] };
    expect(report.seed).toBe(5);
    expect(report.target).toMatchObject({ name: 'mini', mode: 'app' });
    expect(report.results.map((r) => [r.id, r.verdict])).toEqual([
      ['test.ok', 'pass'],
      ['test.bad', 'fail'],
      ['probe.only', 'skip'],
    ]);
  });

  it('honours the profile file and the expectations file', async () => {
    const app = await startMiniApp();
    cleanups.push(app.close);
    const dir = tempDir();
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ keepConn: false }));
    const io = capture();
    // With keepConn false the failing scenario does not apply: nothing fails.
    expect(await runApp({ target: `127.0.0.1:${app.port}`, profile: join(dir, 'profile.json'), quiet: true }, io)).toBe(0);
    expect(io.out()).toMatch(/3 scenarios in .*: 1 pass, 2 skip\n/);
    writeFileSync(join(dir, 'expect.json'), JSON.stringify({ targets: { mini: { failures: { 'test.bad': { verdict: 'fail', reason: 'known' } } } } }));
    const gated = capture();
    expect(await runApp({ target: `127.0.0.1:${app.port}`, name: 'mini', expect: join(dir, 'expect.json'), quiet: true }, gated)).toBe(0);
    expect(gated.out()).toMatch(/gate passed for mini/);
  });

  it('runs against the embedded reference responder, with the probe contract implied', async () => {
    const io = capture();
    const code = await runApp({ embedded: true, skip: ['test.bad'], quiet: true }, io);
    expect(io.out()).toMatch(/2 scenarios in .*: 2 pass\n/);
    expect(io.out()).toMatch(/target reference \(unix:.*reference\.sock\)/);
    expect(code).toBe(0);
  }, 20_000);

  it('spawns the target with the listening socket as fd 0', async () => {
    const fixture = fileURLToPath(new URL('../__fixtures__/mini-app.ts', import.meta.url));
    const io = capture();
    const code = await runApp({ spawn: `"${process.execPath}" --import tsx ${fixture}`, spawnUnix: true, only: ['test.ok'], quiet: true }, io);
    expect(io.out()).toMatch(/1 scenario in .*: 1 pass\n/);
    expect(io.out()).toMatch(/target node \(unix:.*app\.sock\)/);
    expect(code).toBe(0);
  }, 20_000);
});

// Through the real CLI (skipped while the command is not registered).
const registered = commands.some((c) => (c as object) === appCommand);
describe.skipIf(!registered)('fcgispec app through the CLI', () => {
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile('npx', ['tsx', 'harness/cli.ts', 'app', ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
      });
    });

  it('prints --list --json', async () => {
    const r = await cli(['--list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
  }, 60_000);

  it('exits 2 with one line and no stack on bad usage', async () => {
    const r = await cli(['--timeout-scale', '0', '127.0.0.1:9']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^fcgispec: --timeout-scale must be a number > 0, got 0\n$/);
  }, 60_000);

  it('exits 3 when the target is unreachable', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const r = await cli([`127.0.0.1:${port}`, '--timeout-scale', '0.2', '--quiet']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^fcgispec: target tcp:127\.0\.0\.1:\d+ unreachable: cannot connect: connect ECONNREFUSED .*\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  }, 60_000);
});
