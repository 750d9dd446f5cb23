/**
 * The interop run: starts each available target in turn (the reference responder first), runs the
 * application suite against it with the probe and a fixed seed, writes its JSON report, gates it against the
 * target's expectation file, and renders every report as one matrix (Markdown and HTML).
 * @see §6.2 Responder
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatGate } from '../../reports/expectations.ts';
import { mergeShards, writeGroupMatrixMarkdown, writeMatrixHtml, writeMatrixMarkdown } from '../../reports/matrix.ts';
import type { ComplianceReport, ScenarioResult } from '../../reports/model.ts';
import { parseReport } from '../../reports/schema.ts';
import { buildReport, type Catalog } from '../../reports/summarize.ts';
import { requirements } from '../../spec/requirements.ts';
import { LIVENESS_REQUIREMENT } from '../runner.ts';
import { formatDuration } from '../../reports/escape.ts';
import { writeJson } from '../../reports/json.ts';
import type { Scenario } from '../../suites/define.ts';
import { appScenarios } from '../../suites/index.ts';
import { regressionScenarios } from '../../suites/regressions/index.ts';
import { runApp, type AppOptions } from '../commands/app.ts';
import { runClient, type ClientOptions } from '../commands/client.ts';
import type { WebServerScenario } from '../../suites/web-server/define.ts';
import type { ConsoleStream } from '../console.ts';
import { HarnessError } from '../errors.ts';
import { peerAvailable, peersRequired } from '../peers/availability.ts';
import { gateReport, readTargetExpectations, updateExpectationsFile, type InteropGate } from './expectations.ts';
import { interopTargets, isInteropName, type AppInteropTarget, type ClientInteropTarget, type InteropName, type InteropTarget, type LaunchedApp } from './targets.ts';

/** The seed of every interop run, so a matrix can be reproduced. */
export const INTEROP_SEED = 20_250_101;

/** Where `npm run interop` writes by default: reports/interop/ of this checkout. */
export const defaultInteropOut = fileURLToPath(new URL('../../reports/interop/', import.meta.url)).replace(/\/$/, '');

/** Lines of gate findings printed per target; the report has them all. */
const MAX_GATE_LINES = 15;

/** How often a target that stopped serving mid-run is started again to run the scenarios it missed. */
export const MAX_RESUMES = 40;

/**
 * The application scenarios of an interop run: the suite's, then the fuzzer's regression replays
 * (`suites/regressions/*.replay.json`) the suite does not list itself, so every replay runs against every peer.
 */
export function interopAppScenarios(): readonly Scenario[] {
  const listed = new Set(appScenarios.map((s) => s.id));
  return [...appScenarios, ...regressionScenarios.filter((s) => !listed.has(s.id))];
}

/** Options of `runInterop`. */
export interface InteropOptions {
  /** Targets to run (names); all by default. The matrix still shows every report in `out`. */
  readonly only?: readonly string[];
  /** Folder of the JSON reports and the matrix; `reports/interop/` by default. */
  readonly out?: string;
  /** Rewrite each target's expectation file from this run. */
  readonly updateExpectations?: boolean;
  /** Folder of the expectation files (tests use their own). */
  readonly expectationsDir?: string;
  /** A missing peer is an error, not a skip (default: FCGISPEC_REQUIRE_PEERS). */
  readonly requirePeers?: boolean;
  /** Render the matrix files (default true). */
  readonly matrix?: boolean;
  /** A README whose matrix block (between `README_MATRIX_START` and `README_MATRIX_END`) is rewritten from the matrix. */
  readonly readme?: string;
  /** Print each scenario's progress, not only a summary per target. */
  readonly verbose?: boolean;
  /** The application scenarios to run (tests pick a few); `interopAppScenarios()` by default. */
  readonly scenarios?: readonly Scenario[];
  /** The web-server scenarios to run (tests pick a few); every one by default. */
  readonly clientScenarios?: readonly WebServerScenario[];
  /** Scenario id globs, as `fcgispec app --only`. */
  readonly onlyScenarios?: readonly string[];
  /** Scenario id globs left out, as `fcgispec app --skip` (CI leaves out what is slow on a peer). */
  readonly skipScenarios?: readonly string[];
  readonly seed?: number;
  readonly stdout?: ConsoleStream;
}

/** What happened to one target. */
export type TargetOutcome =
  | { readonly name: InteropName; readonly status: 'ran'; readonly report: ComplianceReport; readonly gate: InteropGate; readonly resumes: readonly string[]; readonly durationMs: number; readonly reportFile: string }
  | { readonly name: InteropName; readonly status: 'missing'; readonly hint: string; readonly failsRun: boolean }
  | { readonly name: InteropName; readonly status: 'broken'; readonly message: string; readonly durationMs: number };

/** The whole run. */
export interface InteropResult {
  readonly outcomes: readonly TargetOutcome[];
  /** True when every target ran and passed its gate (and no required peer was missing). */
  readonly passed: boolean;
  readonly files: readonly string[];
  readonly durationMs: number;
}

/** The targets selected by `only` (names checked); all when `only` is empty. */
export function selectTargets(only: readonly string[] = []): InteropTarget[] {
  const unknown = only.filter((n) => !isInteropName(n));
  if (unknown.length > 0) {
    throw new HarnessError('E_USAGE', `unknown interop target ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${interopTargets.map((t) => t.name).join(', ')}`);
  }
  return only.length === 0 ? [...interopTargets] : interopTargets.filter((t) => only.includes(t.name));
}

/**
 * Results a target that went down could not run: the runner's `E_TARGET_DOWN` errors, and `E_CONNECT` errors
 * (the target died in a scenario that did not look for it, such as one that skipped).
 */
export function missedWhileDown(report: ComplianceReport): ScenarioResult[] {
  return report.results.filter((r) => r.verdict === 'error' && (r.actual.startsWith('E_TARGET_DOWN') || r.actual.startsWith('E_CONNECT')));
}

/**
 * A scenario during which the target died ends in `E_CONNECT` (it could not open its next connection), and
 * the runner's liveness check then finds the target down: the runner reports that as `error`, but it is the
 * scenario's finding, a crash. Such results become `fail` with the liveness finding first, so a crash is
 * never hidden among harness errors and the scenarios after it can be run again.
 */
export function crashesAsFailures(report: ComplianceReport): ComplianceReport {
  let changed = false;
  const results = report.results.map((r): ScenarioResult => {
    if (r.verdict !== 'error' || !r.actual.startsWith('E_CONNECT')) return r;
    // Only a scenario that had sent something can have stopped the target; one that could not connect at all
    // found it already down (a scenario before it, one that skipped, stopped it).
    if (!r.transcript?.lines.some((l) => l.dir === 'sent')) return r;
    const down = r.findings.find((f) => f.requirement === LIVENESS_REQUIREMENT && f.verdict === 'fail');
    if (!down) return r;
    changed = true;
    return { ...r, verdict: 'fail', expected: down.expected, actual: `${down.actual} (the scenario could not finish: ${r.actual})` };
  });
  if (!changed) return report;
  return buildReport({ ...report, results, catalog: requirements as unknown as Catalog, ...(report.bench ? { bench: report.bench } : {}) });
}

/**
 * Transcripts of the scenarios that passed (or were skipped, or only observed) are left out of the stored
 * report: they are most of its bytes and say nothing about a deviation. A run keeps them all in memory.
 */
export function withoutPassingTranscripts(report: ComplianceReport): ComplianceReport {
  return {
    ...report,
    results: report.results.map((r) => {
      if (r.transcript === undefined || r.verdict === 'fail' || r.verdict === 'warn' || r.verdict === 'error') return r;
      const { transcript: _dropped, ...rest } = r;
      return rest;
    }),
  };
}

/**
 * Joins a resumed run into the first: the first run's results, less the ones the target missed while down,
 * plus the resumed run's. The resumed run talked to a new instance (another port), reported as the first.
 */
export function joinResumed(first: ComplianceReport, resumed: ComplianceReport): ComplianceReport {
  const redone = new Set(resumed.results.map((r) => r.id));
  const kept = { ...first, results: first.results.filter((r) => !redone.has(r.id)) };
  return mergeShards([kept, { ...resumed, target: first.target }]);
}

/**
 * Runs `work` with `env` as this process's whole environment, then puts the old one back. A spawned target
 * (php-cgi) inherits the harness's environment, and the process scenarios add to it: this is how it starts
 * clean without losing what they bind.
 */
export async function withEnvironment<T>(env: Readonly<Record<string, string>> | undefined, work: () => Promise<T>): Promise<T> {
  if (env === undefined) return work();
  const saved = { ...process.env };
  const replace = (next: NodeJS.ProcessEnv): void => {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, next);
  };
  replace(env);
  try {
    return await work();
  } finally {
    replace(saved);
  }
}

class Sink implements ConsoleStream {
  text = '';
  write(chunk: string): boolean {
    // Only the tail matters (an error's context); keep it bounded.
    this.text = (this.text + chunk).slice(-16_384);
    return true;
  }
}

async function runOnce(
  target: AppInteropTarget,
  launched: LaunchedApp,
  options: InteropOptions,
  onlyIds: readonly string[] | undefined,
  dir: string,
  stdout: ConsoleStream,
): Promise<ComplianceReport> {
  const file = join(dir, `${target.name}-${Date.now()}.json`);
  const only = onlyIds ?? options.onlyScenarios;
  const app: AppOptions = {
    ...launched.reach,
    params: Object.entries(launched.params).map(([k, v]) => `${k}=${v}`),
    probe: true,
    ...(target.profile === undefined ? {} : { profile: target.profile }),
    ...(target.watchdogMs === undefined ? {} : { timeout: target.watchdogMs }),
    seed: options.seed ?? INTEROP_SEED,
    name: target.name,
    json: file,
    ...(only && only.length > 0 ? { only } : {}),
    ...(options.skipScenarios && options.skipScenarios.length > 0 ? { skip: options.skipScenarios } : {}),
    ...(options.verbose ? {} : { quiet: true }),
  };
  const sink = new Sink();
  await withEnvironment(launched.env, () => runApp(app, { stdout: options.verbose ? stdout : sink, scenarios: options.scenarios ?? interopAppScenarios() }));
  const parsed = parseReport(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`the report of ${target.name} is not valid: ${parsed.message}`);
  return parsed.report;
}

/** Runs the client suite against a web server it starts in its shipped configuration. */
async function runClientTarget(target: ClientInteropTarget, options: InteropOptions, dir: string, stdout: ConsoleStream): Promise<ComplianceReport> {
  const file = join(dir, `${target.name}-${Date.now()}.json`);
  const client: ClientOptions = {
    server: target.name,
    seed: options.seed ?? INTEROP_SEED,
    name: target.name,
    json: file,
    ...(options.onlyScenarios && options.onlyScenarios.length > 0 ? { only: options.onlyScenarios } : {}),
    ...(options.skipScenarios && options.skipScenarios.length > 0 ? { skip: options.skipScenarios } : {}),
    ...(options.verbose ? {} : { quiet: true }),
  };
  await runClient(client, { stdout: options.verbose ? stdout : new Sink(), ...(options.clientScenarios ? { scenarios: options.clientScenarios } : {}) });
  const parsed = parseReport(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`the report of ${target.name} is not valid: ${parsed.message}`);
  return parsed.report;
}

/** Runs one target: start, suite, resumes after it stopped serving, stop. */
async function runTarget(target: InteropTarget, options: InteropOptions, dir: string, stdout: ConsoleStream): Promise<{ report: ComplianceReport; resumes: string[] }> {
  if (target.kind === 'client') return { report: await runClientTarget(target, options, dir, stdout), resumes: [] };
  let launched = await target.launch();
  const resumes: string[] = [];
  try {
    let report = crashesAsFailures(await runOnce(target, launched, options, undefined, dir, stdout));
    // A target we started ourselves that stopped serving mid-run (it crashed) is started again, as a process
    // manager would, to run the scenarios it missed; the scenario that stopped it keeps its liveness finding.
    let before = Number.POSITIVE_INFINITY;
    for (let missed = missedWhileDown(report); missed.length > 0 && missed.length < before && 'target' in launched.reach && resumes.length < MAX_RESUMES; missed = missedWhileDown(report)) {
      before = missed.length;
      const since = /target down since ([^\s:(]+)/.exec(missed[0]!.actual)?.[1];
      const culprit = since ? `after ${since}` : `before ${missed[0]!.id}`;
      resumes.push(culprit);
      stdout.write(`  · ${target.name} stopped serving (${culprit}); starting it again for the ${missed.length} scenario(s) it missed\n`);
      await launched.stop();
      launched = await target.launch();
      const resumed = crashesAsFailures(await runOnce(target, launched, options, missed.map((r) => r.id), dir, stdout));
      report = joinResumed(report, resumed);
    }
    return { report, resumes };
  } finally {
    await launched.stop();
  }
}

function summaryLine(name: string, report: ComplianceReport, gate: InteropGate, ms: number, resumes: readonly string[]): string {
  const s = report.summary;
  const counts = (['pass', 'info', 'skip', 'warn', 'fail', 'error'] as const).filter((v) => s[v] > 0).map((v) => `${s[v]} ${v}`).join(', ');
  const g = gate.gate.counts;
  const gateText = gate.passed
    ? `gate passed (${g.expected} expected${g.flaky ? `, ${g.flaky} flaky` : ''})`
    : `gate FAILED (${[g.unexpected ? `${g.unexpected} unexpected` : '', g.stale ? `${g.stale} stale` : '', gate.errors.length ? `${gate.errors.length} error` : ''].filter(Boolean).join(', ')})`;
  return `${name.padEnd(13)} ${String(s.total).padStart(3)} scenarios in ${formatDuration(ms).padStart(7)}: ${counts}; ${gateText}${resumes.length ? `; restarted ${resumes.length}× (${resumes.join(', ')})` : ''}`;
}

/** Reads the stored reports of every target in `out`, in matrix order. */
export function storedReports(out: string): ComplianceReport[] {
  const reports: ComplianceReport[] = [];
  for (const t of interopTargets) {
    const file = join(out, `${t.name}.json`);
    if (!existsSync(file)) continue;
    const parsed = parseReport(readFileSync(file, 'utf8'));
    if (parsed.ok) reports.push(parsed.report);
  }
  return reports;
}

/** The row of a web-server result in the group table: the first part of its id (request, response, …). */
export function webServerGroup(result: ScenarioResult): string {
  return result.id.split('.')[0] ?? result.group;
}

/**
 * The Markdown the README shows: a group table for the applications (the reference responder first) and one
 * for the web servers, then the scenarios that do not pass everywhere, for each.
 */
export function interopMatrixMarkdown(reports: readonly ComplianceReport[]): string {
  const apps = reports.filter((r) => r.target.mode === 'app');
  const servers = reports.filter((r) => r.target.mode === 'client');
  const scenarioTable = (list: readonly ComplianceReport[], title: string): string =>
    writeMatrixMarkdown(list).replace(/^## fcgispec matrix: .*$/m, `## ${title}`).trimEnd();
  const seed = reports[0]?.seed ?? INTEROP_SEED;
  return [
    '# Interop matrix',
    '',
    `Generated by \`npm run interop\` (harness/interop) with seed ${seed}: the application suite with each peer's probe app ` +
      '(the reference responder first), and the web-server suite against each web server in the configuration it ships. ' +
      'Each cell counts the scenarios of a group by verdict. The deviations, and whether they matter: README.md (Deviations found), ' +
      'with the evidence in harness/interop/deviations.md.',
    ...(apps.length > 0 ? ['', '## Applications', '', writeGroupMatrixMarkdown(apps).trimEnd()] : []),
    ...(servers.length > 0 ? ['', '## Web servers', '', writeGroupMatrixMarkdown(servers, { groupOf: webServerGroup }).trimEnd()] : []),
    ...(apps.length > 0 ? ['', scenarioTable(apps, 'Application scenarios')] : []),
    ...(servers.length > 0 ? ['', scenarioTable(servers, 'Web-server scenarios')] : []),
    '',
  ].join('\n');
}

/** The line before the README's copy of the matrix, which `npm run interop` rewrites. */
export const README_MATRIX_START = '<!-- interop-matrix: written by `npm run interop` from reports/interop/matrix.md; edits here are overwritten -->';
/** The line after the README's copy of the matrix. */
export const README_MATRIX_END = '<!-- /interop-matrix -->';

/** The README of this checkout, whose matrix `npm run interop` keeps in step with `reports/interop/matrix.md`. */
export const defaultReadme = fileURLToPath(new URL('../../README.md', import.meta.url));

/**
 * The README's copy of the matrix: the group tables of `matrix.md` (Applications, Web servers, each with
 * its legend), their headings one level down. The per-scenario tables stay in `matrix.md`.
 */
export function readmeMatrix(matrixMd: string): string {
  const sections = matrixMd.split(/^(?=## )/m).filter((s) => /^## (Applications|Web servers)\n/.test(s));
  return sections.map((s) => `#${s.trimEnd()}`).join('\n\n');
}

/** The block between the README's matrix markers (`undefined` when the markers are missing). */
export function readmeMatrixBlock(readme: string): string | undefined {
  const start = readme.indexOf(README_MATRIX_START);
  const end = readme.indexOf(README_MATRIX_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + README_MATRIX_START.length, end).trim();
}

/** The README with its matrix block replaced by the group tables of `matrixMd`; throws when the markers are missing. */
export function withReadmeMatrix(readme: string, matrixMd: string): string {
  const start = readme.indexOf(README_MATRIX_START);
  const end = readme.indexOf(README_MATRIX_END);
  if (start < 0 || end < start) throw new Error(`the README has no ${README_MATRIX_START} … ${README_MATRIX_END} block`);
  return `${readme.slice(0, start + README_MATRIX_START.length)}\n\n${readmeMatrix(matrixMd)}\n\n${readme.slice(end)}`;
}

/** Runs the interop; prints a line per target and the time taken. Never throws for what a target does. */
export async function runInterop(options: InteropOptions = {}): Promise<InteropResult> {
  const stdout = options.stdout ?? process.stdout;
  const out = resolve(options.out ?? defaultInteropOut);
  const targets = selectTargets(options.only);
  const required = options.requirePeers ?? peersRequired();
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'fcgispec-interop-'));
  const t0 = performance.now();
  const outcomes: TargetOutcome[] = [];
  const files: string[] = [];
  try {
    for (const target of targets) {
      if (target.peer !== undefined) {
        const available = peerAvailable(target.peer);
        if (!available.available) {
          outcomes.push({ name: target.name, status: 'missing', hint: available.hint, failsRun: required });
          stdout.write(`${target.name.padEnd(13)} ${required ? 'MISSING' : 'skipped'}: ${available.hint}\n`);
          continue;
        }
      }
      const started = performance.now();
      try {
        const { report, resumes } = await runTarget(target, options, scratch, stdout);
        const durationMs = Math.round(performance.now() - started);
        const reportFile = join(out, `${target.name}.json`);
        writeFileSync(reportFile, writeJson(withoutPassingTranscripts(report)));
        files.push(reportFile);
        const dir = options.expectationsDir;
        if (options.updateExpectations) {
          const { path, todo } = updateExpectationsFile(report, dir);
          stdout.write(`  · wrote ${path}${todo ? ` (${todo} new entr${todo === 1 ? 'y' : 'ies'} to confirm)` : ''}\n`);
        }
        const gate = gateReport(report, readTargetExpectations(target.name, dir));
        outcomes.push({ name: target.name, status: 'ran', report, gate, resumes, durationMs, reportFile });
        stdout.write(`${summaryLine(target.name, report, gate, durationMs, resumes)}\n`);
        if (!gate.passed) {
          const lines = [
            ...formatGate(gate.gate).filter((l) => l.startsWith('✗')),
            ...gate.errors.map((id) => `✗ error      ${id}  ${report.results.find((r) => r.id === id)?.actual.slice(0, 300) ?? ''}`),
          ];
          for (const line of lines.slice(0, MAX_GATE_LINES)) stdout.write(`    ${line}\n`);
          if (lines.length > MAX_GATE_LINES) stdout.write(`    … and ${lines.length - MAX_GATE_LINES} more (the report: ${reportFile})\n`);
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        outcomes.push({ name: target.name, status: 'broken', message, durationMs: Math.round(performance.now() - started) });
        stdout.write(`${target.name.padEnd(13)} BROKEN: ${message.split('\n').slice(0, 6).join(' | ')}\n`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (options.matrix !== false) {
    const reports = storedReports(out);
    if (reports.length > 0) {
      const md = join(out, 'matrix.md');
      const html = join(out, 'matrix.html');
      const matrixMd = interopMatrixMarkdown(reports);
      writeFileSync(md, matrixMd);
      writeFileSync(html, writeMatrixHtml(reports));
      files.push(md, html);
      if (options.readme !== undefined) {
        // Only the block between the markers changes, so the README's prose is left as people wrote it.
        const before = readFileSync(options.readme, 'utf8');
        const after = withReadmeMatrix(before, matrixMd);
        if (after !== before) {
          writeFileSync(options.readme, after);
          files.push(options.readme);
        }
      }
    }
  }
  const durationMs = Math.round(performance.now() - t0);
  const passed = outcomes.every((o) => (o.status === 'ran' ? o.gate.passed : o.status === 'missing' ? !o.failsRun : false));
  stdout.write(`interop: ${outcomes.filter((o) => o.status === 'ran').length} target(s) in ${formatDuration(durationMs)}; ${passed ? 'every gate passed' : 'FAILED'}${files.length ? `; wrote ${out}/` : ''}\n`);
  return { outcomes, passed, files, durationMs };
}
