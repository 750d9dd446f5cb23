/**
 * Runs the web-server scenarios one after another against a web server in front of the instrumented backend:
 * binds each scenario to the backend, runs it under the watchdog, waits for late records, releases what it
 * left active, and turns its checks, the validator's findings on the records the server sent, and the
 * backend's log into one result, classified by `classify` as the application runner's are.
 * @see harness/runner.ts for the classification and the watchdog
 */
import type { Level } from '../../spec/requirement.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import type { Finding, ScenarioResult, Transcript, TranscriptLine } from '../../reports/model.ts';
import type { Catalog } from '../../reports/summarize.ts';
import { ScenarioSkip, type Timeouts } from '../../suites/define.ts';
import { WEB_SERVER_GROUP, type WebServerScenario } from '../../suites/web-server/define.ts';
import { describeHttp } from '../../suites/web-server/kit.ts';
import { makeTimeouts, scenarioSeed, verdictForLevel } from '../context.ts';
import { HarnessError } from '../errors.ts';
import { scenarioResult, withWatchdog, type Outcome, type RunEnd, type RunListener } from '../runner.ts';
import type { Backend, BackendFinding } from './backend.ts';
import { WebServerScenarioContext, type ContextNote } from './context.ts';
import { sendHttp, urlUnder } from './http.ts';

/** Watchdog deadline of a web-server scenario that names none, before `--timeout-scale`. */
export const DEFAULT_WEB_SERVER_SCENARIO_TIMEOUT_MS = 15_000;
/** Validator findings listed per requirement and scenario; the rest are counted in a note. */
export const MAX_FINDINGS_PER_REQUIREMENT = 3;
/** Lines a scenario's transcript keeps (the first three quarters and the last quarter of them). */
export const TRANSCRIPT_LINES = 300;

/** Progress callbacks. */
export type ClientRunListener = RunListener<WebServerScenario>;

export interface ClientRunOptions {
  readonly scenarios: readonly WebServerScenario[];
  readonly backend: Backend;
  /** The URL under which the web server passes requests to the backend. */
  readonly trigger: URL;
  /** Levels of the requirements; an id it lacks counts as `must`. */
  readonly catalog: Catalog;
  readonly strict: boolean;
  readonly seed: number;
  readonly timeoutScale?: number;
  /** `--timeout`: the watchdog deadline of every scenario. */
  readonly timeoutMs?: number;
  readonly listener?: ClientRunListener;
  /** Whether a web server the harness started has exited (for `--exec`/`--server`), and how. */
  readonly exited?: () => string | undefined;
}

/** The outcome of a sanity request: the web server passed a tagged request to the backend and relayed the answer. */
export type SanityOutcome =
  | { readonly ok: true; readonly elapsedMs: number }
  | { readonly ok: false; readonly stage: 'http' | 'backend' | 'tag' | 'answer'; readonly reason: string };

let sanityCounter = 0;

/**
 * Sends one tagged GET through the web server and checks that the backend got it, tagged, and that its
 * answer came back. Used before the run (is the set-up right?) and after a failed scenario (still serving?).
 */
export async function sanityRequest(backend: Backend, trigger: URL, timeoutMs: number): Promise<SanityOutcome> {
  const id = 'sanity.check';
  const n = ++sanityCounter;
  const seen: { tagged: boolean; untagged: string | undefined } = { tagged: false, untagged: undefined };
  backend.bind({
    scenario: id,
    faults: [],
    answer: async (ex) => {
      seen.tagged = true;
      await ex.drainStdin(timeoutMs);
      await ex.writeCgi({ headers: [['Content-Type', 'text/plain']], body: `fcgispec sanity ${n}\n` });
    },
    onChange: () => {},
  });
  try {
    const url = urlUnder(trigger, `fcgispec/${id}/${n}`);
    const outcome = await sendHttp({}, { url, defaultTimeoutMs: timeoutMs }).done;
    const traces = backend.boundRequests();
    const untagged = traces.find((t) => t.tag === undefined && t.params !== undefined);
    if (untagged) seen.untagged = ['REQUEST_URI', 'SCRIPT_NAME', 'DOCUMENT_URI'].map((p) => `${p}=${JSON.stringify(untagged.param(p) ?? null)}`).join(', ');
    if (outcome.kind === 'error') return { ok: false, stage: 'http', reason: `${url.href}: ${outcome.message}` };
    if (outcome.kind !== 'response') return { ok: false, stage: 'http', reason: `${url.href}: ${describeHttp(outcome)}` };
    if (!seen.tagged) {
      if (seen.untagged) return { ok: false, stage: 'tag', reason: `the backend got a request without the path tag /fcgispec/${id}/${n} in REQUEST_URI, SCRIPT_NAME, DOCUMENT_URI, SCRIPT_FILENAME or PATH_INFO (${seen.untagged})` };
      return { ok: false, stage: 'backend', reason: `no FastCGI request reached the backend at ${backend.address} for ${url.href} (the web server answered ${describeHttp(outcome)})` };
    }
    const expected = `fcgispec sanity ${n}\n`;
    if (outcome.status !== 200 || Buffer.from(outcome.body).toString('utf8') !== expected) return { ok: false, stage: 'answer', reason: `the backend's answer did not come back: ${describeHttp(outcome)}` };
    return { ok: true, elapsedMs: outcome.elapsedMs };
  } finally {
    const traces = backend.unbind();
    backend.closeLeftovers(traces);
    backend.takeLog();
    backend.takeFindings();
  }
}

/** Runs the scenarios in order; one result per scenario. */
export async function runClientScenarios(options: ClientRunOptions): Promise<ScenarioResult[]> {
  const timeouts = makeTimeouts(options.timeoutScale ?? 1);
  const levelOf = (id: RequirementId): Level => options.catalog[id]?.level ?? 'must';
  const results: ScenarioResult[] = [];
  let down: string | undefined;
  const total = options.scenarios.length;
  const reported = new Set<string>();
  for (const [index, scenario] of options.scenarios.entries()) {
    options.listener?.onScenarioStart?.(scenario, index, total);
    let result: ScenarioResult;
    if (down !== undefined) {
      result = resultOf(scenario, { end: { kind: 'error', code: 'E_TARGET_DOWN', message: down }, findings: [], observations: {} }, 0);
    } else {
      result = await runOne(scenario, options, timeouts, levelOf, reported);
      if (result.verdict === 'fail' || result.verdict === 'error') {
        const problem = await stillServing(options, timeouts);
        if (problem !== undefined) {
          down = `the web server stopped serving after ${scenario.id}: ${problem}`;
          options.listener?.onNote?.(down);
          result = { ...result, actual: `${result.actual}${result.actual ? '; ' : ''}${down}` };
        }
      }
    }
    results.push(result);
    options.listener?.onScenarioEnd?.(result, index, total);
  }
  return results;
}

// After a failed scenario: does the web server still pass requests on? A few seconds to recover.
async function stillServing(options: ClientRunOptions, timeouts: Timeouts): Promise<string | undefined> {
  const deadline = performance.now() + timeouts.scale(3000);
  let last: SanityOutcome | undefined;
  while (performance.now() < deadline) {
    const exit = options.exited?.();
    if (exit !== undefined) return `the web server process ${exit}`;
    last = await sanityRequest(options.backend, options.trigger, timeouts.scale(3000));
    // A request that reached the backend and came back, however mangled, means the server still serves.
    if (last.ok || last.stage === 'answer' || last.stage === 'tag') return undefined;
    await new Promise((r) => setTimeout(r, timeouts.scale(250)));
  }
  return last && !last.ok ? last.reason : 'no sanity answer';
}

async function runOne(scenario: WebServerScenario, o: ClientRunOptions, timeouts: Timeouts, levelOf: (id: RequirementId) => Level, reported: Set<string>): Promise<ScenarioResult> {
  const backend = o.backend;
  const startMs = backend.now();
  const ctx = new WebServerScenarioContext({ scenario, backend, trigger: o.trigger, timeouts, strict: o.strict, levelOf, seed: scenarioSeed(o.seed, scenario.id) });
  backend.bind(ctx.binding());
  const deadline = timeouts.scale(o.timeoutMs ?? scenario.timeoutMs ?? DEFAULT_WEB_SERVER_SCENARIO_TIMEOUT_MS);
  const t0 = performance.now();
  const raced = await withWatchdog(() => scenario.run(ctx), deadline, () => ctx.abort(`watchdog: no verdict within ${deadline} ms; HTTP requests closed`));
  const durationMs = Math.round((performance.now() - t0) * 10) / 10;
  let end: RunEnd;
  if (raced.kind === 'done') end = { kind: 'finished' };
  else if (raced.kind === 'timeout') end = { kind: 'error', code: 'E_TIMEOUT', message: `no verdict within ${deadline} ms` };
  else if (raced.error instanceof ScenarioSkip) end = { kind: 'skipped', reason: raced.error.message };
  else end = { kind: 'error', code: raced.error instanceof HarnessError ? raced.error.code : 'E_SCENARIO_CRASH', message: errorText(raced.error) };
  ctx.finish();
  // Records the server sends right after the scenario's last HTTP response (an abort, a close) belong to it:
  // a quiet period while a request of the scenario is still active, a moment otherwise.
  const pending = backend.boundRequests().some((t) => t.ending === undefined);
  await new Promise((r) => setTimeout(r, pending ? timeouts.quietMs : Math.min(20, timeouts.quietMs)));
  const traces = backend.unbind();
  const closed = backend.closeLeftovers(traces);
  if (closed > 0) await new Promise((r) => setTimeout(r, 20));
  // A framing finding is reported where it first shows in the run; the same deviation (same requirement,
  // same record type, any lengths) in a later scenario is only counted in its transcript.
  const perRequirement = new Map<RequirementId, number>();
  let repeated = 0;
  const seen = new Set<string>();
  for (const f of backend.takeFindings()) {
    const key = findingKey(f);
    if (reported.has(key)) {
      repeated++;
      continue;
    }
    seen.add(key);
    const n = (perRequirement.get(f.finding.requirement) ?? 0) + 1;
    perRequirement.set(f.finding.requirement, n);
    if (n <= MAX_FINDINGS_PER_REQUIREMENT) ctx.check.add(toFinding(f, startMs, levelOf, o.strict));
  }
  for (const key of seen) reported.add(key);
  for (const [requirement, n] of perRequirement) {
    if (n > MAX_FINDINGS_PER_REQUIREMENT) ctx.note(`${n - MAX_FINDINGS_PER_REQUIREMENT} more findings about ${requirement} not listed`);
  }
  if (repeated > 0) ctx.note(`${repeated} record(s) with a deviation already reported earlier in the run (validator findings are reported once per run)`);
  const log = backend.takeLog();
  const transcript = scenarioTranscript(log.lines, ctx.notes, startMs);
  return resultOf(scenario, { end, findings: ctx.check.findings, observations: ctx.check.observations }, durationMs, transcript);
}

// Same requirement, same expectation, same text once the numbers are left out.
function findingKey(f: BackendFinding): string {
  const { requirement, expected, actual } = f.finding;
  return `${requirement}|${expected}|${actual.replace(/[0-9]+/g, '#')}`;
}

function toFinding(f: BackendFinding, startMs: number, levelOf: (id: RequirementId) => Level, strict: boolean): Finding {
  const where = `backend connection #${f.conn}${f.finding.requestId ? `, request ${f.finding.requestId}` : ''}, byte ${f.finding.offset}, at ${round(f.atMs - startMs)} ms`;
  return { requirement: f.finding.requirement, verdict: verdictForLevel(levelOf(f.finding.requirement), strict), expected: f.finding.expected, actual: `${f.finding.actual} (${where})` };
}

function resultOf(scenario: WebServerScenario, outcome: Outcome, durationMs: number, transcript?: Transcript): ScenarioResult {
  return scenarioResult({ ...scenario, group: WEB_SERVER_GROUP }, outcome, durationMs, transcript);
}

/**
 * The report transcript of a scenario: the backend's record lines and the scenario's notes, timed from the
 * scenario's start, connections numbered from 0 in the order they appear (each first appearance says which
 * backend connection it is), capped to `TRANSCRIPT_LINES` lines.
 */
export function scenarioTranscript(lines: readonly TranscriptLine[], notes: readonly ContextNote[], startMs: number): Transcript {
  const numbers = new Map<number, number>();
  const all: TranscriptLine[] = [];
  let omittedBytes = 0;
  const merged = [...lines, ...notes.map((n): TranscriptLine => ({ atMs: n.atMs, dir: 'note', conn: -1, text: n.text }))].sort((a, b) => a.atMs - b.atMs);
  for (const line of merged) {
    let conn = 0;
    if (line.conn >= 0) {
      let n = numbers.get(line.conn);
      if (n === undefined) {
        n = numbers.size;
        numbers.set(line.conn, n);
        if (!(line.dir === 'note' && line.text?.startsWith('backend connection #'))) {
          all.push({ atMs: round(line.atMs - startMs), dir: 'note', conn: n, text: `conn ${n} is backend connection #${line.conn}, opened before this scenario` });
        }
      }
      conn = n;
    }
    if (line.hex !== undefined && line.byteLength !== undefined) omittedBytes += line.byteLength - line.hex.length / 2;
    all.push({ ...line, atMs: round(line.atMs - startMs), conn });
  }
  let kept = all;
  if (all.length > TRANSCRIPT_LINES) {
    const head = Math.ceil((TRANSCRIPT_LINES - 1) * 0.75);
    const tail = TRANSCRIPT_LINES - 1 - head;
    const left = all.slice(head, all.length - tail);
    for (const l of left) omittedBytes += l.byteLength ?? 0;
    kept = [...all.slice(0, head), { atMs: left[0]!.atMs, dir: 'note', conn: left[0]!.conn, text: `${left.length} lines left out (cap ${TRANSCRIPT_LINES} lines)` }, ...all.slice(all.length - tail)];
  }
  return { lines: kept, cap: { bytesPerConnection: Number.MAX_SAFE_INTEGER, bytesPerLine: 64, lines: TRANSCRIPT_LINES }, omittedBytes };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  const flat = text.replace(/\s*\n\s*/g, ' | ');
  return flat.length > 500 ? `${flat.slice(0, 499)}…` : flat;
}
