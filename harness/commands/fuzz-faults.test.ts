// The fuzzer finds the reference responder's injected faults: each run is bounded (cases, shrink time), starts
// from a fixed seed, and must report a failure citing a requirement the fault breaks, shrunk to a plan of a few
// records. Faults that only exercise allowed behaviour must come out clean.
import { describe, expect, it } from 'vitest';
import { faultCatalog, type FaultName } from '../../reference/responder/faults.ts';
import { wireRecordCount } from '../../suites/fuzz/plan.ts';
import { fuzz, type FuzzOptions } from './fuzz.ts';

const SEED = 1;
console.log(`harness/commands/fuzz-faults: seed ${SEED}`);
const silent = { stdout: { write: (_t: string) => true }, env: {} };
// Small bodies and short waits: these faults show on the first requests, and a missing answer costs one wait.
const base: FuzzOptions = { embedded: true, seed: SEED, maxStdin: 4096, maxParams: 512, timeoutScale: 0.25, shrinkTime: '15s', maxFailures: 1, quiet: true, replayFiles: false };

const found: readonly FaultName[] = [
  'no-stdout-end',
  'wrong-version',
  'duplicate-end-request',
  'echo-wrong',
  'wrong-unknown-role',
  'ignore-keep-conn',
  'lie-mpxs',
  'wrong-app-status',
  'reset-on-abort',
];

describe('fuzzing the reference responder with a fault', () => {
  it.each(found)('finds %s and shrinks it to a few records', async (fault) => {
    const run = await fuzz({ ...base, faults: [fault], runs: 150 }, silent);
    const f = run.found[0];
    expect(f, `no failure found in ${run.cases} cases`).toBeDefined();
    const breaks: readonly string[] = faultCatalog[fault].breaks;
    expect(f!.outcome.failing.filter((r) => breaks.includes(r))).not.toEqual([]);
    expect(f!.reproduced).toBe(true);
    expect(wireRecordCount(f!.outcome.wire)).toBeLessThanOrEqual(8);
    expect(run.exitCode).toBe(f!.outcome.findings.some((x) => x.verdict === 'fail') ? 1 : 0);
  }, 60_000);

  it.each(['tiny-writes', 'padding-255', 'tiny-records', 'no-status-header'] as const)('finds nothing wrong with the legal fault %s', async (fault) => {
    const run = await fuzz({ ...base, timeoutScale: 1, faults: [fault], runs: 25 }, silent);
    expect(run.found.map((f) => f.outcome.findings.map((x) => `${x.requirement}: ${x.actual}`))).toEqual([]);
    expect(run.exitCode).toBe(0);
  }, 60_000);
});
