/**
 * Regressions of suite mistakes found by the interop run: each runs the scenario that was wrong against the
 * reference responder, once as it is (the scenario still passes or fails as before) and once shaped like the
 * real peer that exposed the mistake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponder, parseFault, type Handler } from '../../reference/responder/index.ts';
import { probeHandler } from '../../reference/probe/app.ts';
import type { Verdict } from '../../reports/model.ts';
import type { Catalog } from '../../reports/summarize.ts';
import { requirements } from '../../spec/requirements.ts';
import type { Profile } from '../../suites/define.ts';
import { appScenarios } from '../../suites/index.ts';
import { regressionScenarios } from '../../suites/regressions/index.ts';
import { runScenarios } from '../runner.ts';
import { NetworkTarget } from '../target.ts';

const SEED = 7;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Runs one scenario against a reference responder with `handler` (and faults, and multiplexing); returns its verdict. */
async function verdictOf(id: string, handler: Handler, options: { readonly faults?: readonly string[]; readonly multiplex?: boolean } = {}): Promise<Verdict> {
  const dir = mkdtempSync(join(tmpdir(), 'fcgispec-regression-'));
  const multiplex = options.multiplex ?? false;
  const responder = createResponder({ handler, webServerAddrs: null, multiplex, faults: (options.faults ?? []).map((f) => parseFault(f)) });
  stops.push(async () => {
    await responder.close({ graceMs: 50 });
    rmSync(dir, { recursive: true, force: true });
  });
  const { address } = await responder.listen(`unix:${join(dir, 'app.sock')}`);
  // The fuzz regressions (suites/regressions/*.replay.json) are scenarios of the application suite too.
  const scenario = [...appScenarios, ...regressionScenarios].find((s) => s.id === id);
  if (!scenario) throw new Error(`no scenario ${id}`);
  const profile: Profile = { roles: ['responder'], multiplex, keepConn: true, probe: true };
  const [result] = await runScenarios({
    scenarios: [scenario],
    target: new NetworkTarget(address),
    profile,
    baseParams: {},
    catalog: requirements as unknown as Catalog,
    strict: false,
    seed: SEED,
  });
  return result!.verdict;
}

/** The probe as it runs on Go's net/http/fcgi and on uWSGI: no way to write FCGI_STDERR, so `stderr` answers 501. */
const probeWithoutStderr: Handler = async (request, response) => {
  if (request.params.get('PROBE_ACTION') === 'stderr') {
    await response.write('Status: 501 Not Implemented\r\nContent-Type: application/octet-stream\r\n\r\nnot implemented\n');
    response.end(0);
    return;
  }
  await probeHandler(request, response);
};

/** A broken application: answers `stderr` with the text on FCGI_STDOUT only. */
const stderrOnStdout: Handler = async (request, response) => {
  if (request.params.get('PROBE_ACTION') === 'stderr') {
    await response.write(`Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n${request.params.get('PROBE_TEXT') ?? ''}`);
    response.end(0);
    return;
  }
  await probeHandler(request, response);
};

describe('output.stderr, output.error-example and output.app-error-reported with a probe that cannot write FCGI_STDERR (found on go-fcgi and uwsgi)', () => {
  it.each(['output.stderr', 'output.error-example', 'output.app-error-reported'])('%s passes against the reference probe', async (id) => {
    expect(await verdictOf(id, probeHandler)).toBe('pass');
  }, 20_000);

  it.each(['output.stderr', 'output.error-example', 'output.app-error-reported'])('%s skips when the probe answers 501 not implemented (the contract\'s "cannot")', async (id) => {
    expect(await verdictOf(id, probeWithoutStderr)).toBe('skip');
  }, 20_000);

  it('output.stderr still fails when the text comes on FCGI_STDOUT instead', async () => {
    expect(await verdictOf('output.stderr', stderrOnStdout)).toBe('fail');
  }, 20_000);
});

describe('abort.one-of-many against an application that ignores aborts (found on go-fcgi: it passed or failed with the load)', () => {
  it('passes against the reference', async () => {
    expect(await verdictOf('abort.one-of-many', probeHandler, { multiplex: true })).toBe('pass');
  }, 20_000);

  it('fails every time when the application lets the aborted request run to its end', async () => {
    // Before the fix the deadline was the time left in the handler's sleep, so the natural end of an ignored
    // abort fell on it and the verdict depended on the machine's load.
    for (let i = 0; i < 3; i++) expect(await verdictOf('abort.one-of-many', probeHandler, { multiplex: true, faults: ['ignore-abort'] })).toBe('fail');
  }, 30_000);
});

describe('a fuzz regression replay that asks the probe for FCGI_STDERR, on a probe that cannot write it (found on go-fcgi and uwsgi)', () => {
  // Recorded against php-fpm; its plan has the probe write to FCGI_STDERR. Go's and uWSGI's probes answer
  // 501 not implemented, which the replay's model judged as a failure of the peer.
  const id = 'robustness.regression.php-fpm-stderr-not-terminated';

  it('exists', () => {
    expect(regressionScenarios.map((s) => s.id)).toContain(id);
  });

  it('passes against the reference probe', async () => {
    expect(await verdictOf(id, probeHandler)).toBe('pass');
  }, 30_000);

  it('skips when the probe answers 501 not implemented', async () => {
    expect(await verdictOf(id, probeWithoutStderr)).toBe('skip');
  }, 30_000);

  it('still fails when the text comes on FCGI_STDOUT instead', async () => {
    expect(await verdictOf(id, stderrOnStdout)).toBe('fail');
  }, 30_000);
});
