/**
 * `fcgispec report`: work on JSON compliance reports after a run.
 * - `report merge A.json B.json …`: shards of one target become one report; several targets become a matrix.
 * - `report compare OLD.json NEW.json`: what got better or worse; exit 1 when anything regressed.
 * - `report render R.json`: the other formats of a JSON report.
 * - `report gate R.json --expect FILE`: applies an expectations file; exit 1 when the gate fails.
 * Without an output option, Markdown goes to stdout. A file that is not a valid report is a one-line error, exit 2.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { ComplianceReport } from '../../reports/model.ts';
import { writers, type ReportFormat } from '../../reports/index.ts';
import { parseReport } from '../../reports/schema.ts';
import { compareReports, formatComparison } from '../../reports/compare.ts';
import { groupByTarget, mergeShards, MergeError, writeMatrixHtml, writeMatrixMarkdown } from '../../reports/matrix.ts';
import { applyExpectations, formatGate, parseExpectations } from '../../reports/expectations.ts';
import { escapeTerminal } from '../../reports/escape.ts';
import { HarnessError, exitCodes, usageError } from '../errors.ts';

/** Largest report file read; a bigger one is refused rather than read into memory. */
export const MAX_REPORT_FILE_BYTES = 256 * 1024 * 1024;

/** Where the command writes; tests pass their own. */
export interface ReportIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: ReportIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Output files, by format. */
export interface ReportOutputs {
  readonly json?: string;
  readonly junit?: string;
  readonly html?: string;
  readonly md?: string;
}

const outputFormat: Readonly<Record<keyof ReportOutputs, ReportFormat>> = { json: 'json', junit: 'junit', html: 'html', md: 'markdown' };

/** Reads a file as text, bounded; a missing or oversized file is a usage error. */
function readText(path: string, what: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw usageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_REPORT_FILE_BYTES) throw usageError(`${path}: ${size} bytes is more than the ${MAX_REPORT_FILE_BYTES} a ${what} may have`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads and validates a JSON report; anything wrong is one line, exit 2. */
export function readReportFile(path: string): ComplianceReport {
  const parsed = parseReport(readText(path, 'report'));
  if (!parsed.ok) throw usageError(`${path}: ${parsed.message}`);
  return parsed.report;
}

function writeOut(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (err) {
    throw new HarnessError('E_REPORT_WRITE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function hasOutput(o: ReportOutputs): boolean {
  return Object.values(o).some((v) => v !== undefined);
}

function writeReport(report: ComplianceReport, outputs: ReportOutputs, io: ReportIo): void {
  if (!hasOutput(outputs)) {
    io.stdout(writers.markdown(report));
    return;
  }
  for (const [key, path] of Object.entries(outputs) as [keyof ReportOutputs, string | undefined][]) {
    if (path !== undefined) writeOut(path, writers[outputFormat[key]](report));
  }
}

/** `report merge`: returns the exit code. */
export function runMerge(files: readonly string[], outputs: ReportOutputs, io: ReportIo = defaultIo): number {
  if (files.length === 0) throw usageError('report merge: name at least one JSON report');
  const reports = files.map(readReportFile);
  let merged: ComplianceReport[];
  try {
    merged = groupByTarget(reports).map(mergeShards);
  } catch (err) {
    if (err instanceof MergeError) throw usageError(`report merge: ${err.message}`);
    throw err;
  }
  if (merged.length === 1) {
    writeReport(merged[0]!, outputs, io);
    io.stderr(`merged ${files.length} report${files.length === 1 ? '' : 's'} of ${escapeTerminal(merged[0]!.target.name)}: ${merged[0]!.summary.total} scenarios\n`);
    return exitCodes.ok;
  }
  for (const key of ['json', 'junit'] as const) {
    if (outputs[key] !== undefined) throw usageError(`report merge: --${key} needs reports of one target; these are of ${merged.length} targets (use --html or --md for a matrix)`);
  }
  if (!hasOutput(outputs)) io.stdout(writeMatrixMarkdown(merged));
  if (outputs.html !== undefined) writeOut(outputs.html, writeMatrixHtml(merged));
  if (outputs.md !== undefined) writeOut(outputs.md, writeMatrixMarkdown(merged));
  io.stderr(`matrix of ${merged.length} targets from ${files.length} reports\n`);
  return exitCodes.ok;
}

/** `report compare`: prints what changed; exit 1 when any scenario regressed. */
export function runCompare(oldFile: string, newFile: string, io: ReportIo = defaultIo): number {
  const comparison = compareReports(readReportFile(oldFile), readReportFile(newFile));
  for (const line of formatComparison(comparison)) io.stdout(`${escapeTerminal(line)}\n`);
  return comparison.regressions > 0 ? exitCodes.findings : exitCodes.ok;
}

/** `report render`: writes the other formats of one report. */
export function runRender(file: string, outputs: ReportOutputs, io: ReportIo = defaultIo): number {
  writeReport(readReportFile(file), outputs, io);
  return exitCodes.ok;
}

/** `report gate`: applies an expectations file; exit 1 when the gate fails. */
export function runGate(file: string, expectFile: string, strict: boolean | undefined, io: ReportIo = defaultIo): number {
  const report = readReportFile(file);
  const parsed = parseExpectations(readText(expectFile, 'expectations file'));
  if (!parsed.ok) throw usageError(`${expectFile}: ${parsed.message}`);
  const gate = applyExpectations(report, parsed.expectations, strict === undefined ? {} : { strict });
  for (const line of formatGate(gate)) io.stdout(`${escapeTerminal(line)}\n`);
  return gate.passed ? exitCodes.ok : exitCodes.findings;
}

interface OutputArgs {
  readonly json?: string;
  readonly junit?: string;
  readonly html?: string;
  readonly md?: string;
}
interface MergeArgs extends OutputArgs {
  readonly files: string[];
}
interface CompareArgs {
  readonly old: string;
  readonly new: string;
}
interface RenderArgs extends OutputArgs {
  readonly file: string;
}
interface GateArgs {
  readonly file: string;
  readonly expect: string;
  readonly strict?: boolean;
}

function outputsFrom(a: OutputArgs): ReportOutputs {
  return {
    ...(a.json === undefined ? {} : { json: a.json }),
    ...(a.junit === undefined ? {} : { junit: a.junit }),
    ...(a.html === undefined ? {} : { html: a.html }),
    ...(a.md === undefined ? {} : { md: a.md }),
  };
}

function outputOptions<T>(y: Argv<T>, junit: boolean): Argv<T> {
  const out = y
    .option('json', { type: 'string', describe: 'write the JSON report to FILE' })
    .option('html', { type: 'string', describe: 'write the HTML report (or matrix) to FILE' })
    .option('md', { type: 'string', describe: 'write the Markdown report (or matrix) to FILE' });
  return junit ? out.option('junit', { type: 'string', describe: 'write a JUnit XML report to FILE' }) : out;
}

const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <files..>',
  describe: 'merge shards of one target, or build a matrix of several targets',
  builder: (y) => outputOptions(y.positional('files', { type: 'string', array: true, demandOption: true, describe: 'JSON reports' }), true) as unknown as Argv<MergeArgs>,
  handler: (argv: ArgumentsCamelCase<MergeArgs>) => {
    process.exitCode = runMerge(argv.files, outputsFrom(argv));
  },
};

const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <old> <new>',
  describe: 'list what got better or worse; exit 1 when anything regressed',
  builder: (y) =>
    y
      .positional('old', { type: 'string', demandOption: true, describe: 'the earlier JSON report' })
      .positional('new', { type: 'string', demandOption: true, describe: 'the later JSON report' }) as unknown as Argv<CompareArgs>,
  handler: (argv: ArgumentsCamelCase<CompareArgs>) => {
    process.exitCode = runCompare(argv.old, argv.new);
  },
};

const renderCommand: CommandModule<object, RenderArgs> = {
  command: 'render <file>',
  describe: 'write the HTML, Markdown, JUnit or JSON form of a JSON report',
  builder: (y) => outputOptions(y.positional('file', { type: 'string', demandOption: true, describe: 'a JSON report' }), true) as unknown as Argv<RenderArgs>,
  handler: (argv: ArgumentsCamelCase<RenderArgs>) => {
    process.exitCode = runRender(argv.file, outputsFrom(argv));
  },
};

const gateCommand: CommandModule<object, GateArgs> = {
  command: 'gate <file>',
  describe: 'apply an expectations file (known failures, flaky scenarios); exit 1 when the gate fails',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'a JSON report' })
      .option('expect', { type: 'string', demandOption: true, describe: 'expectations file (JSON with comments)' })
      .option('strict', { type: 'boolean', describe: 'warns fail too (default: as the run was)' }) as unknown as Argv<GateArgs>,
  handler: (argv: ArgumentsCamelCase<GateArgs>) => {
    process.exitCode = runGate(argv.file, argv.expect, argv.strict);
  },
};

/** The yargs module of `fcgispec report`. */
export const reportCommand: CommandModule<object, object> = {
  command: 'report',
  describe: 'merge, compare, render or gate JSON compliance reports',
  builder: (y: Argv<object>) =>
    y
      .command(mergeCommand as unknown as CommandModule<object, object>)
      .command(compareCommand as unknown as CommandModule<object, object>)
      .command(renderCommand as unknown as CommandModule<object, object>)
      .command(gateCommand as unknown as CommandModule<object, object>)
      .demandCommand(1, 'name a report command: merge, compare, render or gate'),
  handler: () => {},
};
