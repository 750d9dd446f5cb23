/**
 * What the commands share on the command line: usage errors, number checks, the report outputs (`--json`,
 * `--junit`, `--html`, `--md`, `--out`), `--expect`, `--param` and the tool's version, so that every command
 * words the same mistake the same way.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { applyExpectations, formatGate, parseExpectations, type Expectations } from '../../reports/expectations.ts';
import type { ComplianceReport } from '../../reports/model.ts';
import { reportExtensions, writers, type ReportFormat } from '../../reports/index.ts';
import { exitCodes, HarnessError } from '../errors.ts';

/** A mistake on the command line: one line, exit code 2. */
export function usage(message: string): HarnessError {
  return new HarnessError('E_USAGE', message);
}

/** Bounds of a numeric option: `min` is inclusive unless `above` says the number must exceed it. */
export interface NumberRule {
  readonly min: number;
  readonly integer?: boolean;
  readonly above?: boolean;
}

/** Throws a usage error unless `value` (absent is fine) is a number within `rule`; returns it. */
export function checkNumber(flag: string, value: number | undefined, rule: NumberRule): number | undefined {
  if (value === undefined) return undefined;
  const kind = rule.integer === true ? 'an integer' : 'a number';
  const bound = `${rule.above === true ? '>' : '≥'} ${rule.min}`;
  // yargs turns a word given to a number option into NaN: say what was wanted, not "NaN".
  if (Number.isNaN(value)) throw usage(`--${flag} needs ${kind} ${bound}`);
  const ok = Number.isFinite(value) && value >= rule.min && !(rule.above === true && value === rule.min) && !(rule.integer === true && !Number.isInteger(value));
  if (!ok) throw usage(`--${flag} must be ${kind} ${bound}, got ${String(value)}`);
  return value;
}

/** Parses `--param NAME=VALUE` values (a later one wins). */
export function parseParams(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usage(`--param ${JSON.stringify(v)}: expected NAME=VALUE`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** fcgispec's version, from package.json. */
export function toolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The report flags as parsed. */
export interface ReportFlags {
  readonly json?: string;
  readonly junit?: string;
  readonly html?: string;
  readonly md?: string;
  readonly out?: string;
}

/** Adds `--json`, `--junit`, `--html`, `--md` and `--out` (`outExtra` says what else `--out` holds). */
export function reportFlagOptions<T>(y: Argv<T>, outExtra = ''): Argv<T> {
  return y
    .option('json', { type: 'string', describe: 'write the JSON report to FILE' })
    .option('junit', { type: 'string', describe: 'write a JUnit XML report to FILE' })
    .option('html', { type: 'string', describe: 'write an HTML report to FILE' })
    .option('md', { type: 'string', describe: 'write a Markdown report to FILE' })
    .option('out', { type: 'string', describe: `write report.json, report.xml, report.html and report.md to DIR${outExtra}` }) as Argv<T>;
}

/** The report files asked for, by format. */
export function reportOutputs(o: ReportFlags): Partial<Record<ReportFormat, string>> {
  const out: Partial<Record<ReportFormat, string>> = {};
  if (o.out !== undefined) {
    if (o.out === '') throw usage('--out needs a folder');
    for (const format of Object.keys(writers) as ReportFormat[]) out[format] = join(o.out, `report${reportExtensions[format]}`);
  }
  for (const [flag, value] of [['json', o.json], ['junit', o.junit], ['html', o.html], ['md', o.md]] as const) {
    if (value === '') throw usage(`--${flag} needs a FILE`);
  }
  if (o.json) out.json = o.json;
  if (o.junit) out.junit = o.junit;
  if (o.html) out.html = o.html;
  if (o.md) out.markdown = o.md;
  return out;
}

/** Writes `text` to `path`, making its folder; a failure is `E_REPORT_WRITE`. */
export function writeTextFile(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (err) {
    throw new HarnessError('E_REPORT_WRITE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Writes each report file asked for; returns the paths written. */
export function writeReports(report: ComplianceReport, outputs: Partial<Record<ReportFormat, string>>): string[] {
  const written: string[] = [];
  for (const [format, path] of Object.entries(outputs) as [ReportFormat, string][]) {
    writeTextFile(path, writers[format](report));
    written.push(path);
  }
  return written;
}

/** Reads an `--expect` file; an unreadable or malformed one is a usage error. */
export function readExpectations(file: string): Expectations {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(`--expect ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const parsed = parseExpectations(text);
  if (!parsed.ok) throw usage(`--expect ${file}: ${parsed.message}`);
  return parsed.expectations;
}

/** `{ [key]: value }`, or nothing when `value` is absent: builds options objects without undefined members. */
export function pick<O, K extends keyof O>(key: K, value: O[K] | undefined): Partial<O> {
  return (value === undefined ? {} : { [key]: value }) as Partial<O>;
}

/** The flags `fcgispec app` and `fcgispec client` share: selection, timing, output and the CI gate. */
export interface SuiteFlags extends ReportFlags {
  readonly only?: readonly string[];
  readonly skip?: readonly string[];
  readonly strict?: boolean;
  readonly timeout?: number;
  readonly timeoutScale?: number;
  readonly list?: boolean;
  readonly verbose?: boolean;
  readonly quiet?: boolean;
  readonly seed?: number;
  readonly name?: string;
  readonly expect?: string;
}

/** `SuiteFlags` as yargs parses them. */
export interface SuiteArgv {
  only?: string[];
  skip?: string[];
  strict?: boolean;
  timeout?: number;
  'timeout-scale'?: number;
  list?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  seed?: number;
  name?: string;
  json?: string;
  junit?: string;
  html?: string;
  md?: string;
  out?: string;
  expect?: string;
}

/** Adds the `SuiteFlags` options. */
export function suiteFlagOptions<T>(y: Argv<T>): Argv<T> {
  return reportFlagOptions(
    y
      .option('only', { type: 'string', array: true, describe: 'run only scenario ids matching (glob, * wildcard)' })
      .option('skip', { type: 'string', array: true, describe: 'skip scenario ids matching (glob)' })
      .option('strict', { type: 'boolean', describe: 'should-level findings fail' })
      .option('timeout', { type: 'number', describe: 'watchdog deadline of every scenario, ms' })
      .option('timeout-scale', { type: 'number', describe: 'multiply every time limit' })
      .option('list', { type: 'boolean', describe: 'list the scenarios (with --json: as JSON) and exit' })
      .option('verbose', { type: 'boolean', describe: 'print transcripts of failures' })
      .option('quiet', { type: 'boolean', describe: 'print only the summary' })
      .option('seed', { type: 'number', describe: 'seed of random choices (default: random, printed)' })
      .option('name', { type: 'string', describe: 'target name in reports' })
      .option('expect', { type: 'string', describe: 'expectations file: known failures do not fail the run' }) as Argv<T>,
  );
}

/** Maps parsed argv to `SuiteFlags`, leaving out what was not given. */
export function suiteFlagsFrom(argv: SuiteArgv): SuiteFlags {
  return {
    ...pick<SuiteFlags, 'only'>('only', argv.only?.map(String)),
    ...pick<SuiteFlags, 'skip'>('skip', argv.skip?.map(String)),
    ...pick<SuiteFlags, 'strict'>('strict', argv.strict),
    ...pick<SuiteFlags, 'timeout'>('timeout', argv.timeout),
    ...pick<SuiteFlags, 'timeoutScale'>('timeoutScale', argv['timeout-scale']),
    ...pick<SuiteFlags, 'list'>('list', argv.list),
    ...pick<SuiteFlags, 'verbose'>('verbose', argv.verbose),
    ...pick<SuiteFlags, 'quiet'>('quiet', argv.quiet),
    ...pick<SuiteFlags, 'seed'>('seed', argv.seed),
    ...pick<SuiteFlags, 'name'>('name', argv.name),
    ...pick<SuiteFlags, 'json'>('json', argv.json),
    ...pick<SuiteFlags, 'junit'>('junit', argv.junit),
    ...pick<SuiteFlags, 'html'>('html', argv.html),
    ...pick<SuiteFlags, 'md'>('md', argv.md),
    ...pick<SuiteFlags, 'out'>('out', argv.out),
    ...pick<SuiteFlags, 'expect'>('expect', argv.expect),
  };
}

/** Checks the numbers among `SuiteFlags`. */
export function checkSuiteFlags(o: SuiteFlags): void {
  checkNumber('timeout', o.timeout, { min: 1 });
  checkNumber('timeout-scale', o.timeoutScale, { min: 0, above: true });
  checkNumber('seed', o.seed, { min: 0, integer: true });
}

/** The scenarios `--only`/`--skip` select; selecting none of a non-empty suite is a usage error. */
export function selectedScenarios<S extends { readonly id: string }>(all: readonly S[], o: SuiteFlags, select: (all: readonly S[], only: readonly string[], skip: readonly string[]) => S[]): S[] {
  const only = o.only ?? [];
  const skip = o.skip ?? [];
  const selected = select(all, only, skip);
  if (selected.length === 0 && all.length > 0) throw usage(`no scenario matches --only ${only.join(' ')} ${skip.length ? `--skip ${skip.join(' ')}` : ''}`.trim());
  return selected;
}

/**
 * The end of a suite run: writes the reports asked for, says where, and applies `--expect`. Returns the exit
 * code: the gate's with `--expect`, otherwise `exitCode`.
 */
export function publishReport(
  report: ComplianceReport,
  o: SuiteFlags,
  expectations: Expectations | undefined,
  stdout: { write(text: string): unknown },
  exitCode: number,
): number {
  const written = writeReports(report, reportOutputs(o));
  if (written.length > 0) {
    const folder = o.out !== undefined ? resolve(o.out) : undefined;
    stdout.write(folder ? `reports written to ${folder}/ (${written.map((f) => basename(f)).join(', ')})\n` : `reports written: ${written.join(', ')}\n`);
  }
  if (expectations === undefined) return exitCode;
  const gate = applyExpectations(report, expectations, { strict: o.strict === true });
  for (const line of formatGate(gate)) stdout.write(`${line}\n`);
  return gate.passed ? exitCodes.ok : exitCodes.findings;
}
