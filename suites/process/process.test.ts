// The process scenarios: skipped unless the harness spawned the target (or runs the embedded reference); passing against the reference
// responder spawned with its listening socket as fd 0; failing an application that ignores
// FCGI_WEB_SERVER_ADDRS (the harness's mini app).
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCgiParams } from '../../harness/commands/app.ts';
import { embeddedTarget } from '../../harness/embedded.ts';
import { awaitServing } from '../../harness/liveness.ts';
import { runScenarios } from '../../harness/runner.ts';
import { NetworkTarget, SpawnTarget, type Target } from '../../harness/target.ts';
import type { ScenarioResult } from '../../reports/model.ts';
import { requirements } from '../../spec/requirements.ts';
import type { Profile } from '../define.ts';
import { scenarios } from './index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const profile: Profile = { roles: ['responder'], multiplex: true, keepConn: true, probe: true };
const targets: Target[] = [];
afterEach(async () => {
  for (const t of targets.splice(0)) await t.stop();
});

async function run(target: Target, ids?: readonly string[]): Promise<ScenarioResult[]> {
  targets.push(target);
  await target.start();
  // As `fcgispec app` does before the suite: the process is up and serves.
  const up = await awaitServing({ address: target.address, baseParams: defaultCgiParams, probe: true, timeoutMs: 10_000 }, 20_000, 100, () => target.exited() !== undefined);
  expect(up.ok, target.logTail()).toBe(true);
  const list = ids ? scenarios.filter((s) => ids.includes(s.id)) : scenarios;
  // Process scenarios are not hostile: in parallel, their process starts overlap.
  return runScenarios({ scenarios: list, target, profile, baseParams: defaultCgiParams, catalog: requirements, strict: false, seed: 1, concurrency: 3 });
}

const verdicts = (results: readonly ScenarioResult[]): Record<string, string> =>
  Object.fromEntries(results.map((r) => [r.id, r.verdict === 'pass' || r.verdict === 'skip' ? r.verdict : `${r.verdict}: ${r.actual}`]));

describe('process scenarios', () => {
  it('are skipped, saying why, when the harness did not spawn the target', async () => {
    // The reference at an address, as any network target: no process to launch instances of.
    const embedded = embeddedTarget();
    targets.push(embedded);
    await embedded.start();
    const results = await run(new NetworkTarget(embedded.address));
    expect(results.length).toBe(scenarios.length);
    for (const r of results) {
      expect(r.verdict, r.id).toBe('skip');
      expect(r.actual, r.id).toMatch(/^needs --spawn/);
    }
  });

  it('pass against the reference responder serving fd 0, and record what it does as CGI and on SIGTERM', async () => {
    const target = new SpawnTarget({ command: process.execPath, args: ['harness/bin/fcgispec.js', 'serve', '--listen', 'fd:0', '--quiet'], cwd: root, stopDeadlineMs: 1000 });
    const results = await run(target);
    expect(verdicts(results)).toEqual(Object.fromEntries(scenarios.map((s) => [s.id, 'pass'])));
    const byId = new Map(results.map((r) => [r.id, r]));
    // It ends itself on SIGTERM, with status 0; with fd 0 a pipe it cannot listen and exits non-zero.
    expect(byId.get('process.sigterm')!.observations['exit status']).toBe(0);
    expect(String(byId.get('process.cgi-detection')!.observations['fd 0 a pipe, CGI environment'])).toMatch(/^no CGI response; exit status [1-9]/);
  }, 120_000);

  it('fail an application that ignores FCGI_WEB_SERVER_ADDRS', async () => {
    const fixture = fileURLToPath(new URL('../../harness/__fixtures__/mini-app.ts', import.meta.url));
    const target = new SpawnTarget({ command: process.execPath, args: ['--import', 'tsx', fixture], cwd: root, stopDeadlineMs: 1000 });
    const ids = ['process.web-server-addrs.listed', 'process.web-server-addrs.unlisted', 'process.web-server-addrs.unix'];
    const results = await run(target, ids);
    expect(results.map((r) => r.verdict)).toEqual(['pass', 'fail', 'fail']);
    for (const r of results.slice(1)) expect(r.actual).toMatch(/the request was served/);
  }, 120_000);
});
