/**
 * The interop run's expectation files (`harness/expectations/NAME.jsonc`, one per peer): reading them,
 * gating a report against them, and rewriting them from a run (`--update-expectations`) without losing the
 * reasons people wrote.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyExpectations, parseExpectations, type Expectations, type GateResult, type KnownFailure, type TargetExpectations } from '../../reports/expectations.ts';
import type { ComplianceReport, Verdict } from '../../reports/model.ts';

/** The folder of the per-peer expectation files. */
export const expectationsDir = fileURLToPath(new URL('../expectations/', import.meta.url)).replace(/\/$/, '');

/** The reason an entry gets when `--update-expectations` adds it. */
export const TODO_REASON = 'TODO: confirm';

/** Verdicts an expectation file lists: everything a CI run would otherwise stop on, warn included. */
export const listedVerdicts: readonly Verdict[] = ['warn', 'fail', 'error'];

/** The expectation file of a target. */
export function expectationsPath(name: string, dir = expectationsDir): string {
  return `${dir}/${name}.jsonc`;
}

/** Reads a target's expectation file: `undefined` when there is none; throws with the file name when it is malformed. */
export function readTargetExpectations(name: string, dir = expectationsDir): TargetExpectations | undefined {
  const path = expectationsPath(name, dir);
  if (!existsSync(path)) return undefined;
  const parsed = parseExpectations(readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(`${path}: ${parsed.message}`);
  const mine = parsed.expectations.targets[name];
  if (mine === undefined) throw new Error(`${path}: no entry for target "${name}"`);
  return mine;
}

/** What the gate found, plus error verdicts, which fail the interop run even when listed. */
export interface InteropGate {
  readonly gate: GateResult;
  /** Scenarios whose verdict is `error` (the harness could not finish them): never accepted. */
  readonly errors: readonly string[];
  readonly passed: boolean;
}

/**
 * Gates a report: a run passes when every verdict is the one its expectation file states (warn included:
 * the gate is strict, so a new warn is a change too), no listed failure went away, and nothing is `error`.
 */
export function gateReport(report: ComplianceReport, expectations: TargetExpectations | undefined): InteropGate {
  const all: Expectations = { targets: { [report.target.name]: expectations ?? {} } };
  const gate = applyExpectations(report, all, { strict: true });
  const errors = report.results.filter((r) => r.verdict === 'error').map((r) => r.id);
  return { gate, errors, passed: gate.passed && errors.length === 0 };
}

/**
 * The expectations a run implies: every listed verdict of the report, with the reason already written for
 * that scenario (else `TODO_REASON`); flaky entries are kept as they were and not listed as failures.
 */
export function expectationsFromReport(report: ComplianceReport, previous: TargetExpectations | undefined): TargetExpectations {
  const flaky = previous?.flaky ?? {};
  const oldFailures = previous?.failures ?? {};
  const failures: Record<string, KnownFailure> = {};
  for (const r of report.results) {
    if (!listedVerdicts.includes(r.verdict) || Object.hasOwn(flaky, r.id)) continue;
    const old = Object.hasOwn(oldFailures, r.id) ? oldFailures[r.id] : undefined;
    failures[r.id] = { verdict: r.verdict, reason: old?.reason ?? TODO_REASON };
  }
  return { failures, ...(Object.keys(flaky).length > 0 ? { flaky } : {}) };
}

/** An expectation file's text: a header comment, then one line per entry, so diffs show one scenario a line. */
export function formatExpectationsFile(name: string, expectations: TargetExpectations, header: readonly string[] = []): string {
  const entries = (record: Readonly<Record<string, unknown>>): string[] =>
    Object.entries(record).map(([id, value], i, all) => `      ${JSON.stringify(id)}: ${JSON.stringify(value)}${i < all.length - 1 ? ',' : ''}`);
  const failures = expectations.failures ?? {};
  const flaky = expectations.flaky ?? {};
  const lines = [
    `// Expected verdicts of ${name} in the interop run (harness/interop): every warn, fail and error the suite`,
    '// finds there, each with what the peer does. CI fails when a verdict differs from this file.',
    '// `npm run interop -- --only NAME --update-expectations` rewrites it from a run, keeping the reasons.',
    ...header.map((h) => `// ${h}`),
    '{',
    '  "targets": {',
    `    ${JSON.stringify(name)}: {`,
    '      "failures": {',
    ...entries(failures).map((l) => `  ${l}`),
    `      }${Object.keys(flaky).length > 0 ? ',' : ''}`,
    ...(Object.keys(flaky).length > 0 ? ['      "flaky": {', ...entries(flaky).map((l) => `  ${l}`), '      }'] : []),
    '    }',
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}

/** Rewrites a target's expectation file from a report, keeping the reasons (and flaky entries) of the old one. */
export function updateExpectationsFile(report: ComplianceReport, dir = expectationsDir): { readonly path: string; readonly todo: number } {
  const name = report.target.name;
  const previous = readTargetExpectations(name, dir);
  const next = expectationsFromReport(report, previous);
  const path = expectationsPath(name, dir);
  writeFileSync(path, formatExpectationsFile(name, next));
  const todo = Object.values(next.failures ?? {}).filter((f) => f.reason === TODO_REASON).length;
  return { path, todo };
}
