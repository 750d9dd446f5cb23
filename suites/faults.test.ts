// The suite against the reference responder with each of its faults switched on, one at a time: every fault
// the spec forbids is caught (a fail or warn citing a requirement the fault breaks) by the scenarios the table
// names, and every legal fault leaves a designated set of scenarios without any fail, warn or error, so the
// suite does not blame allowed behaviour. A fault added to the catalog without a row here fails the test.
import { describe, expect, it } from 'vitest';
import { defaultCgiParams } from '../harness/commands/app.ts';
import { embeddedTarget } from '../harness/embedded.ts';
import { proposeProfile, queryGetValues, type GetValuesAnswer } from '../harness/profile.ts';
import { runScenarios } from '../harness/runner.ts';
import type { ScenarioResult } from '../reports/model.ts';
import { faultCatalog, faultNames, type Fault, type FaultName } from '../reference/responder/faults.ts';
import { requirements } from '../spec/requirements.ts';
import type { Scenario } from './define.ts';
import { appScenarios } from './index.ts';

/** How the suite meets one fault: the scenarios that catch it, or, for a legal fault, the argument it runs with. */
type FaultCase =
  | { readonly catches: readonly [string, ...string[]] }
  | { readonly legal: true; readonly arg?: number };

// Cheapest catchers first: a fault that breaks every response also breaks the runner's sanity request, so the
// first catcher is the one that counts (the runner declares the target down after it).
const table = {
  'delay': { legal: true, arg: 200 }, // the default 1000 ms only makes the run slower
  'slow-output': { legal: true },
  'tiny-writes': { legal: true },
  'tiny-records': { legal: true },
  'padding-255': { legal: true },
  'stderr-flood': { legal: true },
  'no-status-header': { legal: true },
  'no-stdout-end': { catches: ['output.stdout-terminated', 'record-layer.capture'] },
  'no-stderr-end': { catches: ['output.stderr', 'record-layer.capture'] },
  'wrong-request-id': { catches: ['output.end-request'] },
  'wrong-version': { catches: ['output.record-headers', 'record-layer.capture'] },
  'bad-padding': { catches: ['output.record-headers', 'record-layer.capture'] },
  'short-padding': { catches: ['record-layer.capture'] },
  'nonzero-reserved': { catches: ['output.record-headers', 'record-layer.capture'] },
  'duplicate-end-request': { catches: ['output.end-request', 'record-layer.capture'] },
  'output-after-end': { catches: ['output.stdout-terminated', 'record-layer.capture'] },
  'end-before-stdout': { catches: ['record-layer.capture'] },
  'no-end-request': { catches: ['output.end-request'] },
  'wrong-app-status': { catches: ['output.app-status', 'output.app-error-reported'] },
  'close-mid-record': { catches: ['record-layer.capture'] },
  'ignore-abort': { catches: ['abort.during-stdin'] },
  'reset-on-abort': { catches: ['abort.during-stdin'] },
  'ignore-keep-conn': { catches: ['keep-conn.after-every-outcome'] },
  'never-close': { catches: ['keep-conn.clear-closes'] },
  'wrong-unknown-role': { catches: ['begin-request.unknown-role'] },
  'no-cant-mpx': { catches: ['multiplexing.second-request-during-input'] },
  'lie-mpxs': { catches: ['multiplexing.second-request-during-input'] },
  'no-unknown-type': { catches: ['management.unknown-type.empty'] },
  'no-get-values': { catches: ['management.get-values.all'] },
  'echo-wrong': { catches: ['stdin.one-byte'] },
} as const satisfies Record<FaultName, FaultCase>;

/** What a legal fault must leave clean: framing, streams, management, keep-conn, multiplexing and abort. */
const noFalseBlame = [
  'record-layer.capture',
  'output.stdout-terminated',
  'output.end-request',
  'output.record-headers',
  'output.stderr',
  'output.cgi-response',
  'output.app-status',
  'output.before-stdin-end',
  'stdin.one-byte',
  'management.get-values.all',
  'keep-conn.clear-closes',
  'multiplexing.concurrent-2',
  'abort.during-stdin',
] as const;

const byId = new Map<string, Scenario>(appScenarios.map((s) => [s.id, s]));
const SEED = 1;
const bad = (r: ScenarioResult): boolean => r.verdict === 'fail' || r.verdict === 'warn' || r.verdict === 'error';
const summary = (results: readonly ScenarioResult[]): string[] => results.map((r) => `${r.id}: ${r.verdict}${r.actual ? ` (${r.actual.slice(0, 160)})` : ''}`);

/** Runs the scenarios against an embedded reference responder with `faults`, profiled as `fcgispec app --embedded` does. */
async function runWith(faults: readonly Fault[], ids: readonly string[]): Promise<ScenarioResult[]> {
  const scenarios = ids.map((id) => {
    const s = byId.get(id);
    if (!s) throw new Error(`no scenario ${id}`);
    return s;
  });
  const target = embeddedTarget({ faults });
  await target.start();
  try {
    let answer: GetValuesAnswer | undefined;
    try {
      answer = await queryGetValues(target.address, 1000);
    } catch {
      answer = undefined;
    }
    const profile = proposeProfile({ roles: ['responder', 'authorizer', 'filter'] }, answer, true);
    return await runScenarios({ scenarios, target, profile, baseParams: defaultCgiParams, catalog: requirements, strict: false, seed: SEED });
  } finally {
    await target.stop();
  }
}

describe('the fault table', () => {
  it('has one row per fault in the catalog, legal exactly where the catalog says so', () => {
    expect(Object.keys(table).sort()).toEqual([...faultNames].sort());
    for (const name of faultNames) expect('legal' in table[name], name).toBe(faultCatalog[name].legal);
  });

  it('names only scenarios of the suite', () => {
    const named = [...noFalseBlame, ...Object.values(table).flatMap((c: FaultCase) => ('catches' in c ? c.catches : []))];
    expect(named.filter((id) => !byId.has(id))).toEqual([]);
  });
});

describe('the suite against the reference responder with faults', () => {
  // A scenario that always failed would "catch" every fault: without faults, all of them pass.
  it('passes every scenario of the table without a fault', async () => {
    const ids = [...new Set([...noFalseBlame, ...Object.values(table).flatMap((c: FaultCase) => ('catches' in c ? c.catches : []))])];
    const results = await runWith([], ids);
    expect(summary(results.filter((r) => r.verdict !== 'pass' && r.verdict !== 'skip'))).toEqual([]);
  }, 60_000);

  for (const name of faultNames) {
    const c: FaultCase = table[name];
    if ('catches' in c) {
      it.concurrent(`catches ${name}`, async () => {
        const results = await runWith([{ name }], c.catches);
        const breaks: readonly string[] = faultCatalog[name].breaks;
        // A fail or warn citing a requirement the fault breaks; an error alone (a timeout) does not count.
        const caught = results.filter((r) => (r.verdict === 'fail' || r.verdict === 'warn') && r.findings.some((f) => breaks.includes(f.requirement)));
        expect(caught.length, `${name} (breaks ${breaks.join(', ')}): ${summary(results).join('; ')}`).toBeGreaterThan(0);
      }, 60_000);
    } else {
      it.concurrent(`blames nothing on the legal fault ${name}`, async () => {
        const results = await runWith([{ name, ...(c.arg === undefined ? {} : { arg: c.arg }) }], noFalseBlame);
        expect(summary(results.filter(bad))).toEqual([]);
      }, 60_000);
    }
  }
});
