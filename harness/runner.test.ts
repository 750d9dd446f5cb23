// The runner against a minimal in-test FastCGI app: verdicts of every kind, strict mode, the watchdog, liveness
// pinning and the exit code mapping; then the same over a spawned app that is killed and restarted.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../reports/summarize.ts';
import type { ScenarioResult } from '../reports/model.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { defineScenario, type Profile, type Scenario } from '../suites/define.ts';
import { startMiniApp } from './__fixtures__/mini-app.ts';
import { exitCodes } from './errors.ts';
import { classify, exitCodeOf, LIVENESS_REQUIREMENT, matchesPattern, runScenarios, selectScenarios, SharedLock, type RunOptions } from './runner.ts';
import { NetworkTarget, SpawnTarget, type Target } from './target.ts';

const MUST: RequirementId = 'FCGI-5.5-request-complete';
const SHOULD: RequirementId = 'FCGI-3.3-align-8';
const MAY: RequirementId = 'FCGI-3.2-concurrent-connections';
// Levels fixed here, so the test does not move when the catalog's reading of a requirement does.
const catalog: Catalog = {
  [MUST]: { section: '5.5', level: 'must' },
  [SHOULD]: { section: '3.3', level: 'should' },
  [MAY]: { section: '3.2', level: 'may' },
  [LIVENESS_REQUIREMENT]: { section: '3.5', level: 'should' },
};
const profile: Profile = { roles: ['responder'], multiplex: false, keepConn: true, probe: false };
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function scenario(id: `test.${string}`, run: Scenario['run'], extra: Partial<Scenario> = {}): Scenario {
  return defineScenario({ id, title: id, group: 'robustness', requirements: [MUST], run, ...extra });
}

/** Sends one request for `script` and reads its response. */
async function request(ctx: Parameters<Scenario['run']>[0], script: string, timeoutMs?: number) {
  const conn = await ctx.connect();
  await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: script } });
  return { conn, response: await conn.readResponse(1, timeoutMs) };
}

const served = scenario('test.pass', async (ctx) => {
  const { response } = await request(ctx, '/');
  ctx.check.equal(response.end?.protocolStatus, 0, MUST, 'protocolStatus');
  ctx.check.equal(response.cgi?.status, 200, MUST, 'CGI status');
  ctx.check.observe('body', text(response.cgi?.body ?? new Uint8Array()));
});
const failing = scenario('test.fail', async (ctx) => {
  const { response } = await request(ctx, '/');
  ctx.check.equal(text(response.cgi?.body ?? new Uint8Array()), 'bye', MUST, 'body');
});
const warning = scenario('test.warn', async (ctx) => {
  ctx.check.violation(SHOULD, 'aligned records', 'a 7-byte record');
});
const informational = scenario('test.info', async (ctx) => {
  ctx.check.violation(MAY, 'concurrent connections', 'one at a time');
});
const skipping = scenario('test.skip', async (ctx) => ctx.skip('not for this target'));
const needsProbe = scenario('test.needs-probe', async () => {}, { needs: { probe: true } });
const throwing = scenario('test.throws', async () => {
  throw new Error('boom');
});
const hanging = scenario(
  'test.watchdog',
  async (ctx) => {
    const conn = await ctx.connect();
    await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: '/hang' } });
    await conn.readResponse(1, 60_000);
    // Reached only after the watchdog closed the connection; must not count.
    ctx.check.violation(MUST, 'nothing', 'a finding after the deadline');
  },
  { timeoutMs: 200 },
);
const noisy = scenario('test.noisy', async (ctx) => {
  const { conn, response } = await request(ctx, '/noisy');
  ctx.check.equal(response.ending, 'end-request', MUST, 'ending');
  ctx.check.equal(text(response.stderr), 'a warning', MUST, 'stderr');
  ctx.check.equal(response.stderrTerminated, true, MUST, 'stderr terminated');
  ctx.check.equal(text(response.cgi?.body ?? new Uint8Array()), 'hello', MUST, 'body');
  // The record for request 2 was kept for its own read, not mixed into request 1's.
  ctx.check.equal(conn.unclaimed().map((r) => r.requestId), [2], MUST, 'unclaimed ids');
  const other = await conn.readResponse(2, 50);
  ctx.check.equal(text(other.stdout), 'not yours', MUST, 'request 2 stdout');
});
const crashing = scenario(
  'test.crash',
  async (ctx) => {
    const conn = await ctx.connect();
    await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: '/crash' } });
    await conn.waitClose(1000);
  },
  { hostile: true },
);
// Crashes the app, then tries a second connection: the scenario ends in E_CONNECT, caused by the crash.
const crashThenConnect = scenario('test.crash-then-connect', async (ctx) => {
  const conn = await ctx.connect();
  await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: '/crash' } });
  await conn.waitClose(1000);
  await ctx.connect();
});
// Crashes the app and then gives up, as a scenario does when its precondition cannot be checked.
const crashThenSkip = scenario('test.crash-then-skip', async (ctx) => {
  const conn = await ctx.connect();
  await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: '/crash' } });
  await conn.waitClose(1000);
  ctx.skip('no answer to check');
});
const afterCrash = scenario('test.after-crash', async (ctx) => {
  await request(ctx, '/');
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function miniTarget(): Promise<{ target: Target; crashed: () => boolean }> {
  const app = await startMiniApp();
  cleanups.push(app.close);
  return { target: new NetworkTarget({ kind: 'tcp', host: '127.0.0.1', port: app.port }), crashed: app.crashed };
}

function options(target: Target, scenarios: readonly Scenario[], more: Partial<RunOptions> = {}): RunOptions {
  return { scenarios, target, profile, baseParams: {}, catalog, strict: false, seed: 42, recoveryWindowMs: 300, ...more };
}

const verdictsOf = (results: readonly ScenarioResult[]): Record<string, string> => Object.fromEntries(results.map((r) => [r.id, r.verdict]));

describe('runScenarios against an in-test app', () => {
  it('gives each kind of outcome its verdict, with the why', async () => {
    const { target } = await miniTarget();
    const list = [served, failing, warning, informational, skipping, needsProbe, throwing, hanging, noisy];
    const results = await runScenarios(options(target, list));
    expect(verdictsOf(results)).toEqual({
      'test.pass': 'pass',
      'test.fail': 'fail',
      'test.warn': 'warn',
      'test.info': 'info',
      'test.skip': 'skip',
      'test.needs-probe': 'skip',
      'test.throws': 'error',
      'test.watchdog': 'error',
      'test.noisy': 'pass',
    });
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get('test.pass')!.observations).toEqual({ body: 'hello' });
    expect(byId.get('test.fail')!.expected).toBe('body: "bye"');
    expect(byId.get('test.fail')!.actual).toBe('body: "hello"');
    // The target kept serving after the failure: no liveness finding was added.
    expect(byId.get('test.fail')!.findings).toHaveLength(1);
    expect(byId.get('test.skip')!.actual).toBe('not for this target');
    expect(byId.get('test.needs-probe')!.actual).toMatch(/probe/);
    expect(byId.get('test.throws')!.actual).toMatch(/^E_SCENARIO_CRASH: boom/);
    const watchdog = byId.get('test.watchdog')!;
    expect(watchdog.actual).toMatch(/^E_TIMEOUT: no verdict within 200 ms/);
    expect(watchdog.findings).toEqual([]);
    const sent = watchdog.transcript!.lines.filter((l) => l.dir === 'sent').flatMap((l) => l.records ?? []);
    expect(sent.map((r) => r.typeName)).toContain('FCGI_BEGIN_REQUEST');
    expect(watchdog.transcript!.lines.some((l) => l.dir === 'note' && /watchdog/.test(l.text ?? ''))).toBe(true);
    // Every result carries its transcript, with both directions.
    const pass = byId.get('test.pass')!.transcript!;
    expect(new Set(pass.lines.map((l) => l.dir))).toEqual(new Set(['sent', 'received', 'closed']));
    expect(exitCodeOf(results)).toBe(exitCodes.findings);
  });

  it('makes should-level findings fail under --strict, and not otherwise', async () => {
    const { target } = await miniTarget();
    const relaxed = await runScenarios(options(target, [served, warning, informational, skipping]));
    expect(verdictsOf(relaxed)).toEqual({ 'test.pass': 'pass', 'test.warn': 'warn', 'test.info': 'info', 'test.skip': 'skip' });
    expect(exitCodeOf(relaxed)).toBe(exitCodes.ok);
    const strict = await runScenarios(options(target, [served, warning, informational, skipping], { strict: true }));
    expect(verdictsOf(strict)).toEqual({ 'test.pass': 'pass', 'test.warn': 'fail', 'test.info': 'info', 'test.skip': 'skip' });
    expect(exitCodeOf(strict)).toBe(exitCodes.findings);
  });

  it('pins a crash on the hostile scenario that caused it and marks the rest as target down', async () => {
    const { target, crashed } = await miniTarget();
    const notes: string[] = [];
    const results = await runScenarios(options(target, [served, crashing, afterCrash], { listener: { onNote: (t) => notes.push(t) } }));
    expect(crashed()).toBe(true);
    expect(verdictsOf(results)).toEqual({ 'test.pass': 'pass', 'test.crash': 'fail', 'test.after-crash': 'error' });
    const crash = results[1]!;
    expect(crash.findings.map((f) => f.requirement)).toEqual([LIVENESS_REQUIREMENT]);
    expect(crash.actual).toMatch(/^target stopped serving after this scenario/);
    expect(results[2]!.actual).toMatch(/target down since test\.crash/);
    expect(notes.join('\n')).toMatch(/target down since test\.crash/);
  });

  it('lets a crash found by the liveness check decide over the error the scenario ended in', async () => {
    const { target, crashed } = await miniTarget();
    const results = await runScenarios(options(target, [crashThenConnect]));
    expect(crashed()).toBe(true);
    const [result] = results;
    expect(result?.verdict).toBe('fail');
    expect(result?.findings.map((f) => f.requirement)).toEqual([LIVENESS_REQUIREMENT]);
    const notes = result?.transcript?.lines.filter((l) => l.dir === 'note').map((l) => l.text ?? '') ?? [];
    expect(notes.join('\n')).toMatch(/ended E_CONNECT/);
  });

  it('checks liveness after a skipped scenario too', async () => {
    const { target, crashed } = await miniTarget();
    const results = await runScenarios(options(target, [crashThenSkip]));
    expect(crashed()).toBe(true);
    expect(results[0]?.verdict).toBe('fail');
    expect(results[0]?.actual).toMatch(/^target stopped serving after this scenario/);
  });

  it('runs scenarios concurrently and reports them in suite order', async () => {
    const { target } = await miniTarget();
    const many = Array.from({ length: 6 }, (_, i) => ({ ...served, id: `test.pass-${i}` as const }));
    const results = await runScenarios(options(target, [...many, failing], { concurrency: 3 }));
    expect(results.map((r) => r.id)).toEqual([...many.map((s) => s.id), 'test.fail']);
    expect(results.map((r) => r.verdict)).toEqual([...many.map(() => 'pass'), 'fail']);
  });

  it('runs a hostile scenario alone even under concurrency', async () => {
    const { target } = await miniTarget();
    let active = 0;
    const overlaps: string[] = [];
    const tracked = (id: `test.${string}`, hostile: boolean) =>
      scenario(
        id,
        async (ctx) => {
          active++;
          if (hostile && active > 1) overlaps.push(id);
          await ctx.sleep(20);
          if (hostile && active > 1) overlaps.push(id);
          active--;
        },
        { hostile },
      );
    const list = [tracked('test.a', false), tracked('test.b', false), tracked('test.h', true), tracked('test.c', false), tracked('test.d', false)];
    const results = await runScenarios(options(target, list, { concurrency: 4 }));
    expect(results.map((r) => r.verdict)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(overlaps).toEqual([]);
  });

  it('gives each scenario its own seeded random sequence', async () => {
    const { target } = await miniTarget();
    const draws = scenario('test.random', async (ctx) => {
      ctx.check.observe('draws', Array.from({ length: 5 }, () => ctx.randomInt(0, 1000)).join(','));
    });
    const run = async (seed: number) => (await runScenarios(options(target, [draws], { seed })))[0]!.observations['draws'];
    expect(await run(7)).toBe(await run(7));
    expect(await run(7)).not.toBe(await run(8));
  });
});

describe('runScenarios against a spawned app', () => {
  const fixture = fileURLToPath(new URL('./__fixtures__/mini-app.ts', import.meta.url));
  const root = fileURLToPath(new URL('..', import.meta.url));
  const spawned = (unix: boolean): SpawnTarget => {
    const target = new SpawnTarget({ command: process.execPath, args: ['--import', 'tsx', fixture], unix, cwd: root, stopDeadlineMs: 1000 });
    cleanups.push(() => target.stop());
    return target;
  };

  it('restarts the app when it dies between scenarios, and after a scenario that crashed it', async () => {
    const target = spawned(false);
    await target.start();
    const first = await runScenarios(options(target, [served]));
    expect(first[0]!.verdict).toBe('pass');
    // Killed from outside between runs: the next scenario notices and restarts it first.
    process.kill(target.pid!, 'SIGKILL');
    while (target.exited() === undefined) await new Promise((r) => setTimeout(r, 10));
    const notes: string[] = [];
    const killedMidRun = scenario('test.killed', async (ctx) => {
      const conn = await ctx.connect();
      process.kill(target.pid!, 'SIGKILL');
      await conn.sendRequest({ requestId: 1, params: { SCRIPT_NAME: '/' } });
      const r = await conn.readResponse(1, 2000);
      ctx.check.equal(r.ending, 'end-request', MUST, 'ending');
    });
    // Exit status 0 after a request is a deliberate exit (§7): restarted without blame.
    const exiting = scenario('test.exit-0', async (ctx) => {
      const { response } = await request(ctx, '/exit');
      ctx.check.equal(response.ending, 'end-request', MUST, 'ending');
      // The exit follows the response; wait until it has happened, so the runner sees it after this scenario.
      while (target.exited() === undefined) await ctx.sleep(10);
    });
    const list = [served, crashing, afterCrash, killedMidRun, exiting, served];
    const results = await runScenarios(options(target, list, { listener: { onNote: (t) => notes.push(t) } }));
    expect(results.map((r) => r.verdict)).toEqual(['pass', 'fail', 'pass', 'fail', 'pass', 'pass']);
    expect(results[4]!.findings).toEqual([]);
    expect(notes).toContain('target process exited with code 0 after test.exit-0; restarted');
    const crash = results[1]!;
    expect(crash.actual).toMatch(/the target process exited with code 3/);
    expect(crash.actual).toMatch(/crashing on request/);
    expect(crash.transcript!.lines.some((l) => l.dir === 'note' && l.text === 'target output: mini-app: crashing on request')).toBe(true);
    expect(crash.actual).toMatch(/restarted/);
    expect(results[3]!.findings.map((f) => f.requirement)).toContain(LIVENESS_REQUIREMENT);
    expect(results[3]!.findings.find((f) => f.requirement === LIVENESS_REQUIREMENT)!.actual).toMatch(/killed by SIGKILL/);
    expect(target.starts).toBe(5);
    expect(notes.some((n) => /restarted before the next scenario/.test(n))).toBe(true);
  }, 30_000);

  it('runs a scenario again when the process had ended deliberately before it could connect', async () => {
    const target = spawned(false);
    await target.start();
    let runs = 0;
    const unlucky = scenario('test.unlucky', async (ctx) => {
      if (++runs === 1) {
        await request(ctx, '/exit');
        while (target.exited() === undefined) await ctx.sleep(10);
      }
      const { response } = await request(ctx, '/');
      ctx.check.equal(response.ending, 'end-request', MUST, 'ending');
    });
    const notes: string[] = [];
    const results = await runScenarios(options(target, [unlucky], { listener: { onNote: (t) => notes.push(t) } }));
    expect(runs).toBe(2);
    expect(results[0]).toMatchObject({ verdict: 'pass', findings: [] });
    expect(notes).toEqual(['target process exited with code 0 before test.unlucky; restarted, running it again']);
  }, 20_000);

  it('serves over a Unix socket handed as fd 0', async () => {
    const target = spawned(true);
    await target.start();
    expect(target.address.kind).toBe('unix');
    const results = await runScenarios(options(target, [served]));
    expect(results[0]!.verdict).toBe('pass');
    await target.stop();
    expect(target.pid).toBeUndefined();
  }, 20_000);

  it('reports a command that cannot start', async () => {
    const target = new SpawnTarget({ command: '/nonexistent/fcgi-app', args: [] });
    cleanups.push(() => target.stop());
    await expect(target.start()).rejects.toThrow(/could not be started: ENOENT/);
  });
});

describe('classification and selection', () => {
  const f = (verdict: ScenarioResult['verdict']) => ({ requirement: MUST, verdict, expected: `e-${verdict}`, actual: `a-${verdict}` });
  it('takes the worst finding and its expected/actual', () => {
    expect(classify({ end: { kind: 'finished' }, findings: [], observations: { x: 1 } })).toEqual({ verdict: 'pass', expected: '', actual: '' });
    expect(classify({ end: { kind: 'finished' }, findings: [f('info')], observations: {} }).verdict).toBe('info');
    expect(classify({ end: { kind: 'finished' }, findings: [f('warn'), f('fail'), f('info')], observations: {} })).toEqual({ verdict: 'fail', expected: 'e-fail', actual: 'a-fail' });
    expect(classify({ end: { kind: 'skipped', reason: 'r' }, findings: [f('info')], observations: {} })).toMatchObject({ verdict: 'skip', actual: 'r' });
    expect(classify({ end: { kind: 'error', code: 'E_TIMEOUT', message: 'm' }, findings: [f('fail')], observations: {} })).toMatchObject({ verdict: 'error', actual: 'E_TIMEOUT: m' });
  });

  it('selects by glob, group prefix and skip', () => {
    expect(matchesPattern('management.get-values.all', 'management')).toBe(true);
    expect(matchesPattern('management.get-values.all', 'manage')).toBe(false);
    expect(matchesPattern('management.get-values.all', '*.get-values.*')).toBe(true);
    expect(matchesPattern('management.get-values.all', 'management.get-values.all')).toBe(true);
    const all = [{ id: 'a.x' }, { id: 'a.y' }, { id: 'b.x' }];
    expect(selectScenarios(all, ['a'], ['*.y']).map((s) => s.id)).toEqual(['a.x']);
    expect(selectScenarios(all, [], []).map((s) => s.id)).toEqual(['a.x', 'a.y', 'b.x']);
  });

  it('lets readers share the lock and a writer have it alone', async () => {
    const lock = new SharedLock();
    const log: string[] = [];
    const r1 = await lock.read();
    const r2 = await lock.read();
    const w = lock.write().then((release) => {
      log.push('write');
      return release;
    });
    const r3 = lock.read().then((release) => {
      log.push('read after write');
      return release;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual([]);
    r1();
    r2();
    (await w)();
    (await r3)();
    expect(log).toEqual(['write', 'read after write']);
  });
});
