/**
 * Expectations for CI: a file listing, per target, its known failures and its flaky scenarios, so that a run
 * fails only on change. Known failures do not fail the run; a known failure that now passes does ("stale
 * expectation": remove it); flaky scenarios are reported and never fail the run; anything else that is `fail`
 * or `error` (and `warn` under strict) fails it.
 *
 * The file is JSON with `//` and `/* *\/` comments:
 * ```jsonc
 * { "targets": { "php-fpm": {
 *     "failures": { "record-layer.padding.max": { "verdict": "fail", "reason": "drops the connection" } },
 *     "flaky": { "limits.max-conns": { "reason": "timing under load" } } } } }
 * ```
 */
import type { ComplianceReport, Verdict } from './model.ts';
import { verdicts } from './model.ts';
import { formatSchemaErrors, validate, type JsonSchema } from './json-schema.ts';

export interface KnownFailure {
  readonly verdict: Verdict;
  readonly reason: string;
}
export interface TargetExpectations {
  readonly failures?: Readonly<Record<string, KnownFailure>>;
  readonly flaky?: Readonly<Record<string, { readonly reason: string }>>;
}
export interface Expectations {
  readonly targets: Readonly<Record<string, TargetExpectations>>;
}

const reasonOnly: JsonSchema = { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'], additionalProperties: false };

/** The schema an expectations file must match. */
export const expectationsSchema: JsonSchema = {
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    $comment: { type: 'string' },
    targets: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          failures: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: { verdict: { enum: [...verdicts] }, reason: { type: 'string' } },
              required: ['verdict', 'reason'],
              additionalProperties: false,
            },
          },
          flaky: { type: 'object', additionalProperties: reasonOnly },
        },
        additionalProperties: false,
      },
    },
  },
  required: ['targets'],
  additionalProperties: false,
};

/**
 * Removes `//` and `/* *\/` comments outside strings, keeping every newline (and the length of each line), so
 * that JSON.parse positions still point at the right place. Throws on an unterminated block comment.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // Copy the string whole, honouring backslash escapes, so `"http://x"` and `"/*"` survive.
      let j = i + 1;
      while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      let j = i;
      while (j < text.length && text[j] !== '\n') j++;
      out += ' '.repeat(j - i);
      i = j;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new SyntaxError(`unterminated /* comment at line ${text.slice(0, i).split('\n').length}`);
      out += text.slice(i, end + 2).replace(/[^\n]/g, ' ');
      i = end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** An expectations file read, or why not (one line). */
export type ParsedExpectations = { readonly ok: true; readonly expectations: Expectations } | { readonly ok: false; readonly message: string };

/** Parses and validates an expectations file. Never throws. */
export function parseExpectations(text: string): ParsedExpectations {
  let value: unknown;
  try {
    value = JSON.parse(stripJsonComments(text));
  } catch (err) {
    return { ok: false, message: `not JSON: ${(err as Error).message.split('\n')[0]}` };
  }
  const errors = validate(expectationsSchema, value);
  if (errors.length > 0) return { ok: false, message: `not an expectations file: ${formatSchemaErrors(errors)}` };
  return { ok: true, expectations: value as Expectations };
}

/**
 * - `expected`: a known failure, as expected;
 * - `flaky`: a known-flaky scenario (never fails the run);
 * - `stale`: a known failure that no longer fails as stated (fails the run: update the file);
 * - `unexpected`: a fail or error (or warn under strict) nobody expected (fails the run);
 * - `not-run`: a known failure that was skipped this time, so it could not be checked;
 * - `missing`: an expectation for a scenario not in the report (a renamed scenario, or another shard's).
 */
export type GateStatus = 'expected' | 'flaky' | 'stale' | 'unexpected' | 'not-run' | 'missing';

export interface GateEntry {
  readonly id: string;
  readonly status: GateStatus;
  /** The verdict in the report (absent for `missing`). */
  readonly verdict?: Verdict;
  /** The verdict the expectations file states. */
  readonly expected?: Verdict;
  readonly reason?: string;
  readonly failsRun: boolean;
}

export interface GateResult {
  /** True when nothing fails the run. */
  readonly passed: boolean;
  readonly target: string;
  readonly strict: boolean;
  /** Every scenario that needs a word: all but the plain passes. */
  readonly entries: readonly GateEntry[];
  readonly counts: Readonly<Record<GateStatus, number>>;
}

/** Applies the expectations of the report's target to it. Pure. */
export function applyExpectations(report: ComplianceReport, expectations: Expectations, options: { readonly strict?: boolean } = {}): GateResult {
  const strict = options.strict ?? report.strict;
  const mine = Object.hasOwn(expectations.targets, report.target.name) ? expectations.targets[report.target.name]! : {};
  const failures = mine.failures ?? {};
  const flaky = mine.flaky ?? {};
  const failing = (v: Verdict): boolean => v === 'fail' || v === 'error' || (strict && v === 'warn');
  const entries: GateEntry[] = [];
  const seen = new Set<string>();
  for (const r of report.results) {
    seen.add(r.id);
    const known = Object.hasOwn(failures, r.id) ? failures[r.id] : undefined;
    if (Object.hasOwn(flaky, r.id)) {
      entries.push({ id: r.id, status: 'flaky', verdict: r.verdict, reason: flaky[r.id]!.reason, failsRun: false });
    } else if (known !== undefined) {
      const base = { id: r.id, verdict: r.verdict, expected: known.verdict, reason: known.reason };
      if (r.verdict === known.verdict) entries.push({ ...base, status: 'expected', failsRun: false });
      else if (r.verdict === 'skip') entries.push({ ...base, status: 'not-run', failsRun: false });
      else if (failing(r.verdict)) entries.push({ ...base, status: 'unexpected', failsRun: true });
      else entries.push({ ...base, status: 'stale', failsRun: true });
    } else if (failing(r.verdict)) {
      entries.push({ id: r.id, status: 'unexpected', verdict: r.verdict, failsRun: true });
    }
  }
  for (const [id, known] of Object.entries(failures)) {
    if (!seen.has(id)) entries.push({ id, status: 'missing', expected: known.verdict, reason: known.reason, failsRun: false });
  }
  for (const [id, f] of Object.entries(flaky)) {
    if (!seen.has(id)) entries.push({ id, status: 'missing', reason: f.reason, failsRun: false });
  }
  const counts: Record<GateStatus, number> = { expected: 0, flaky: 0, stale: 0, unexpected: 0, 'not-run': 0, missing: 0 };
  for (const x of entries) counts[x.status]++;
  return { passed: !entries.some((x) => x.failsRun), target: report.target.name, strict, entries, counts };
}

/** The gate result as text lines (the caller escapes for its medium). */
export function formatGate(g: GateResult): string[] {
  const out: string[] = [];
  const order: readonly GateStatus[] = ['unexpected', 'stale', 'expected', 'flaky', 'not-run', 'missing'];
  for (const status of order) {
    for (const x of g.entries.filter((y) => y.status === status)) {
      const verdicts = x.expected !== undefined && x.verdict !== undefined ? `${x.verdict} (expected ${x.expected})` : (x.verdict ?? `expected ${x.expected ?? 'flaky'}`);
      out.push(`${x.failsRun ? '✗' : '·'} ${status.padEnd(10)} ${x.id}  ${verdicts}${x.reason ? `  ${x.reason}` : ''}`);
    }
  }
  const parts = order.filter((s) => g.counts[s] > 0).map((s) => `${g.counts[s]} ${s}`);
  out.push(`${g.passed ? 'gate passed' : 'gate FAILED'} for ${g.target}${g.strict ? ' (strict)' : ''}: ${parts.join(', ') || 'nothing to report'}`);
  return out;
}
