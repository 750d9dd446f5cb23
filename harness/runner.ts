/**
 * Runs scenarios against a target and classifies each outcome once: every scenario under a watchdog it cannot
 * defeat, a sanity request after hostile and failed ones (so a crash is pinned on the scenario that caused it),
 * restarts of spawned targets, and a result with findings, observations and the transcript.
 *
 * The classification (`classify`), the watchdog (`withWatchdog`) and the exit code (`exitCodeOf`) do not depend
 * on the application side, so the web-server suite and the fuzzer reuse them.
 */
import type { Level } from '../spec/requirement.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { verdictRank, worse, type Finding, type ScenarioResult, type Transcript, type Verdict } from '../reports/model.ts';
import type { Catalog } from '../reports/summarize.ts';
import { buildTranscript, type ConnectionTranscript } from '../reports/transcript.ts';
import type { TranscriptEntry } from '../reference/client/raw-connection.ts';
import { formatAddress } from '../reference/address.ts';
import { ScenarioSkip, type Profile, type Scenario, type Timeouts } from '../suites/define.ts';
import { HarnessContext, makeTimeouts, scenarioSeed, type CgiParser, type ConnectionLog, type ScenarioNote } from './context.ts';
import { HarnessError, exitCodes, type HarnessErrorCode } from './errors.ts';
import { awaitServing, sanityCheck, type SanityOptions, type SanityResult } from './liveness.ts';
import { unmetNeeds } from './profile.ts';
import type { Target } from './target.ts';

/** Watchdog deadline of a scenario that names none, before `--timeout-scale`. */
export const DEFAULT_SCENARIO_TIMEOUT_MS = 10_000;

/** The requirement a target breaks when it stops serving after a scenario. @see §3.5 */
export const LIVENESS_REQUIREMENT: RequirementId = 'FCGI-3.5-accept-after-close';

// ───────────────────────── classification (shared with the web-server suite and the fuzzer) ─────────────────

/** How a scenario's run ended, before its findings are weighed. */
export type RunEnd =
  | { readonly kind: 'finished' }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'error'; readonly code: HarnessErrorCode | 'E_TARGET_DOWN'; readonly message: string };

/** Everything `classify` weighs. */
export interface Outcome {
  readonly end: RunEnd;
  readonly findings: readonly Finding[];
  readonly observations: Readonly<Record<string, string | number | boolean>>;
}

/**
 * The verdict of a scenario: the worst of its findings and of how it ended (`skip`, `error`), `pass` when
 * nothing else; with `expected`/`actual` from what decided it. Only-info findings give `info`; observations
 * alone are a `pass`.
 */
export function classify(outcome: Outcome): { readonly verdict: Verdict; readonly expected: string; readonly actual: string } {
  const base: Verdict = outcome.end.kind === 'finished' ? 'pass' : outcome.end.kind === 'skipped' ? 'skip' : 'error';
  const worst = outcome.findings.reduce<Finding | undefined>((w, f) => (w === undefined || verdictRank[f.verdict] > verdictRank[w.verdict] ? f : w), undefined);
  const verdict = worst ? worse(base, worst.verdict) : base;
  if (worst && verdict === worst.verdict && verdict !== base) return { verdict, expected: worst.expected, actual: worst.actual };
  switch (outcome.end.kind) {
    case 'skipped':
      return { verdict, expected: '', actual: outcome.end.reason };
    case 'error':
      return { verdict, expected: 'the scenario runs to a verdict', actual: `${outcome.end.code}: ${outcome.end.message}` };
    case 'finished':
      return worst ? { verdict, expected: worst.expected, actual: worst.actual } : { verdict, expected: '', actual: '' };
  }
}

/** Exit code of a finished run: 1 when any result is `fail` or `error` (`--strict` has already made warns fails). */
export function exitCodeOf(results: readonly Pick<ScenarioResult, 'verdict'>[]): number {
  return results.some((r) => r.verdict === 'fail' || r.verdict === 'error') ? exitCodes.findings : exitCodes.ok;
}

/** The outcome of racing work against a deadline. */
export type Raced<T> = { readonly kind: 'done'; readonly value: T } | { readonly kind: 'threw'; readonly error: unknown } | { readonly kind: 'timeout' };

/**
 * Races `work` against a timer. On expiry `onTimeout` runs (abort, destroy connections) and the work is left
 * to settle on its own; its later result or rejection is ignored.
 */
export async function withWatchdog<T>(work: () => Promise<T>, deadlineMs: number, onTimeout: () => void): Promise<Raced<T>> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), deadlineMs);
  });
  let running: Promise<Raced<T>>;
  try {
    running = work().then(
      (value): Raced<T> => ({ kind: 'done', value }),
      (error: unknown): Raced<T> => ({ kind: 'threw', error }),
    );
  } catch (error) {
    running = Promise.resolve({ kind: 'threw', error });
  }
  const raced = await Promise.race([running, watchdog]);
  clearTimeout(timer);
  if (raced.kind === 'timeout') onTimeout();
  return raced;
}

/** Glob on scenario ids: `*` matches any run of characters; a pattern also selects the ids below it (`management` → `management.*`). */
export function matchesPattern(id: string, pattern: string): boolean {
  const re = (p: string): RegExp => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re(pattern).test(id) || re(`${pattern}.*`).test(id);
}

/** The scenarios `--only` (any of, when given) and `--skip` (none of) select, in suite order. */
export function selectScenarios<S extends { readonly id: string }>(all: readonly S[], only: readonly string[], skip: readonly string[]): S[] {
  return all.filter((s) => (only.length === 0 || only.some((p) => matchesPattern(s.id, p))) && !skip.some((p) => matchesPattern(s.id, p)));
}

/** A readers–writer lock: scenarios share the target; hostile ones, liveness checks and restarts have it alone. */
export class SharedLock {
  #readers = 0;
  #writer = false;
  #queue: { readonly write: boolean; readonly grant: () => void }[] = [];

  read(): Promise<() => void> {
    return this.#acquire(false);
  }
  write(): Promise<() => void> {
    return this.#acquire(true);
  }

  #acquire(write: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.#queue.push({ write, grant: () => resolve(this.#releaser(write)) });
      this.#drain();
    });
  }

  #releaser(write: boolean): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (write) this.#writer = false;
      else this.#readers--;
      this.#drain();
    };
  }

  // First come, first served: a waiting writer holds back later readers, so it is not starved.
  #drain(): void {
    while (this.#queue.length > 0 && !this.#writer) {
      const next = this.#queue[0]!;
      if (next.write && this.#readers > 0) return;
      this.#queue.shift();
      if (next.write) this.#writer = true;
      else this.#readers++;
      next.grant();
      if (next.write) return;
    }
  }
}

// ───────────────────────── the application runner ─────────────────────────

/** Progress callbacks; the console and tests listen. */
export interface RunListener<S extends { readonly id: string } = Scenario> {
  onScenarioStart?(scenario: S, index: number, total: number): void;
  onScenarioEnd?(result: ScenarioResult, index: number, total: number): void;
  /** Something the harness did between scenarios (a restart, a retry). */
  onNote?(text: string): void;
}

export interface RunOptions {
  readonly scenarios: readonly Scenario[];
  readonly target: Target;
  readonly profile: Profile;
  readonly baseParams: Readonly<Record<string, string>>;
  /** Levels of the requirements; an id it lacks counts as `must`. */
  readonly catalog: Catalog;
  readonly strict: boolean;
  readonly seed: number;
  /** `--timeout-scale` (default 1). */
  readonly timeoutScale?: number;
  /** `--timeout`: the watchdog deadline for every scenario, replacing their own and the default. */
  readonly timeoutMs?: number;
  /** Scenarios in parallel (default 1). Hostile scenarios always run alone. */
  readonly concurrency?: number;
  readonly parseCgi?: CgiParser;
  readonly listener?: RunListener;
  /** How long a network target may take to serve again before it is declared down (default 3000 ms, scaled). */
  readonly recoveryWindowMs?: number;
}

/** Runs the scenarios in order (or `concurrency` at a time); returns one result per scenario, in suite order. */
export async function runScenarios(options: RunOptions): Promise<ScenarioResult[]> {
  const run = new AppRun(options);
  return run.all();
}

class AppRun {
  readonly #o: RunOptions;
  readonly #timeouts: Timeouts;
  readonly #lock = new SharedLock();
  readonly #levelOf: (id: RequirementId) => Level;
  #down: string | undefined;

  constructor(options: RunOptions) {
    this.#o = options;
    this.#timeouts = makeTimeouts(options.timeoutScale ?? 1);
    this.#levelOf = (id) => options.catalog[id]?.level ?? 'must';
  }

  async all(): Promise<ScenarioResult[]> {
    const list = this.#o.scenarios;
    const results: ScenarioResult[] = new Array<ScenarioResult>(list.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length) {
        const i = next++;
        results[i] = await this.#one(list[i]!, i, list.length);
      }
    };
    const n = Math.max(1, Math.min(this.#o.concurrency ?? 1, list.length));
    await Promise.all(Array.from({ length: n }, worker));
    return results;
  }

  async #one(scenario: Scenario, index: number, total: number): Promise<ScenarioResult> {
    const listener = this.#o.listener;
    const reason =
      scenario.needs?.spawn === true && this.#o.target.launcher === undefined
        ? 'needs --spawn: the harness must start the application itself, with a listening socket as fd 0'
        : unmetNeeds(scenario.needs, this.#o.profile);
    if (reason !== undefined) {
      const result = this.#result(scenario, { end: { kind: 'skipped', reason }, findings: [], observations: {} }, 0);
      listener?.onScenarioStart?.(scenario, index, total);
      listener?.onScenarioEnd?.(result, index, total);
      return result;
    }
    const exclusive = scenario.hostile === true || (this.#o.concurrency ?? 1) <= 1;
    let release = await (exclusive ? this.#lock.write() : this.#lock.read());
    try {
      if (this.#o.target.exited() !== undefined && this.#down === undefined) {
        release();
        release = await this.#lock.write();
        await this.#restartIfExited();
      }
      listener?.onScenarioStart?.(scenario, index, total);
      if (this.#down !== undefined) {
        const result = this.#result(scenario, { end: { kind: 'error', code: 'E_TARGET_DOWN', message: this.#down }, findings: [], observations: {} }, 0);
        listener?.onScenarioEnd?.(result, index, total);
        return result;
      }
      let executed = await this.#execute(scenario);
      // A spawned process that ended deliberately just before the scenario (§7, e.g. php-cgi after
      // PHP_FCGI_MAX_REQUESTS) refuses its connections: restart it and run the scenario once more.
      if (executed.endCode === 'E_CONNECT' && this.#o.target.restartable && this.#o.target.exitedDeliberately()) {
        const exit = this.#o.target.exited();
        if (!exclusive) {
          release();
          release = await this.#lock.write();
        }
        try {
          if (this.#o.target.exitedDeliberately()) await this.#o.target.restart();
          this.#o.listener?.onNote?.(`target process ${exit ?? 'exited'} before ${scenario.id}; restarted, running it again`);
          executed = await this.#execute(scenario);
        } catch (err) {
          this.#down = `target down since ${scenario.id}: restart failed: ${errorText(err)}`;
        }
      }
      const needsLiveness =
        scenario.hostile === true ||
        executed.verdict === 'fail' ||
        executed.verdict === 'error' ||
        // A scenario may skip because the target stopped answering its first request.
        executed.verdict === 'skip' ||
        this.#o.target.exited() !== undefined;
      if (needsLiveness) {
        if (!exclusive) {
          release();
          release = await this.#lock.write();
        }
        await this.#liveness(scenario, executed);
      }
      const result = executed.finish();
      listener?.onScenarioEnd?.(result, index, total);
      return result;
    } finally {
      release();
    }
  }

  // Runs one scenario under its watchdog; the result is finished after the liveness check may add to it.
  async #execute(scenario: Scenario): Promise<Executed> {
    const seed = scenarioSeed(this.#o.seed, scenario.id);
    const ctx = new HarnessContext({
      address: this.#o.target.address,
      profile: this.#o.profile,
      baseParams: this.#o.baseParams,
      timeouts: this.#timeouts,
      strict: this.#o.strict,
      levelOf: this.#levelOf,
      seed,
      ...(this.#o.parseCgi ? { parseCgi: this.#o.parseCgi } : {}),
      ...(this.#o.target.launcher ? { launcher: this.#o.target.launcher } : {}),
    });
    const deadline = this.#timeouts.scale(this.#o.timeoutMs ?? scenario.timeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS);
    const logMark = this.#o.target.logMark();
    const started = performance.now();
    const raced = await withWatchdog(() => scenario.run(ctx), deadline, () => ctx.abort(`watchdog: no verdict within ${deadline} ms; connections closed`));
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    let end: RunEnd;
    if (raced.kind === 'done') end = { kind: 'finished' };
    else if (raced.kind === 'timeout') end = { kind: 'error', code: 'E_TIMEOUT', message: `no verdict within ${deadline} ms${lastActivity(ctx.connections)}` };
    else if (raced.error instanceof ScenarioSkip) end = { kind: 'skipped', reason: raced.error.message };
    else end = { kind: 'error', code: raced.error instanceof HarnessError ? raced.error.code : 'E_SCENARIO_CRASH', message: errorText(raced.error) };
    ctx.finish();
    await ctx.release();
    // Let the sockets deliver their close events, so the transcript shows them.
    await new Promise((r) => setImmediate(r));
    const exit = this.#o.target.exited();
    if (exit !== undefined) ctx.note(`target process ${exit}`);
    // What a spawned target wrote meanwhile (a PHP warning, a stack trace) goes into the transcript, and into
    // the message of an error.
    const output = this.#o.target.logSince(logMark, 2048).trim();
    if (output) {
      ctx.note(`target output: ${output}`);
      if (end.kind === 'error') end = { ...end, message: `${end.message}; target output: ${oneLine(output, 400)}` };
    }
    return new Executed(ctx, end, durationMs, (o, ms, t) => this.#result(scenario, o, ms, t));
  }

  // After a hostile or failed scenario: is the target still serving? If not, the scenario gets the blame, a
  // spawned target is restarted, and a network target gets a few seconds before it is declared down.
  async #liveness(scenario: Scenario, executed: Executed): Promise<void> {
    if (this.#down !== undefined) return;
    const target = this.#o.target;
    const sanity = this.#sanityOptions();
    // §7: exit status 0 is a deliberate exit (php-cgi after PHP_FCGI_MAX_REQUESTS): restart it, as a process
    // manager would, and blame the scenario only if the new process does not serve either.
    if (target.restartable && target.exitedDeliberately()) {
      const exit = target.exited();
      try {
        await target.restart();
        executed.note(`target process ${exit ?? 'exited'} (a deliberate exit); restarted`);
        this.#o.listener?.onNote?.(`target process ${exit ?? 'exited'} after ${scenario.id}; restarted`);
      } catch (err) {
        this.#down = `target down since ${scenario.id}: restart failed: ${errorText(err)}`;
        return;
      }
    }
    let failure: string;
    if (target.exited() === undefined) {
      const r = await sanityCheck(sanity);
      if (r.ok) return;
      failure = `a fresh sanity request failed: ${describeSanity(r)}`;
    } else failure = '';
    // A process that just died may not have been reaped yet: give its exit a moment to be noticed.
    for (let i = 0; target.restartable && target.exited() === undefined && i < 25; i++) await new Promise((r) => setTimeout(r, 20));
    const exit = target.exited();
    if (exit !== undefined) failure = `the target process ${exit}`;
    const tail = target.logTail(1024).trim();
    let recovery: string;
    if (target.restartable) {
      try {
        await target.restart();
        this.#o.listener?.onNote?.(`target restarted after ${scenario.id}`);
        const back = await sanityCheck({ ...sanity, timeoutMs: this.#timeouts.scale(5000) });
        if (back.ok) recovery = 'the harness restarted it';
        else {
          recovery = `not serving after a restart either (${describeSanity(back)})`;
          this.#down = `target down since ${scenario.id}: ${recovery}`;
        }
      } catch (err) {
        recovery = `restart failed: ${errorText(err)}`;
        this.#down = `target down since ${scenario.id}: ${recovery}`;
      }
    } else {
      const windowMs = this.#timeouts.scale(this.#o.recoveryWindowMs ?? 3000);
      const back = await awaitServing(sanity, windowMs, this.#timeouts.scale(250));
      if (back.ok) recovery = `serving again ${back.afterMs} ms later`;
      else {
        recovery = `still not serving ${back.afterMs} ms later`;
        this.#down = `target down since ${scenario.id} (${describeSanity(back.last)})`;
        this.#o.listener?.onNote?.(this.#down);
      }
    }
    executed.blameStoppedTarget();
    executed.addFinding({
      requirement: LIVENESS_REQUIREMENT,
      verdict: 'fail',
      expected: 'the target goes on serving new connections after this scenario',
      actual: `target stopped serving after this scenario: ${failure}; ${recovery}${tail ? `; its output ends: ${oneLine(tail, 400)}` : ''}`,
    });
    executed.note(`liveness: ${failure}; ${recovery}`);
  }

  async #restartIfExited(): Promise<void> {
    const target = this.#o.target;
    const exit = target.exited();
    if (exit === undefined || this.#down !== undefined) return;
    try {
      await target.restart();
      this.#o.listener?.onNote?.(`target process ${exit}; restarted before the next scenario`);
    } catch (err) {
      this.#down = `target down: the process ${exit} and could not be restarted (${errorText(err)})`;
    }
  }

  #sanityOptions(): SanityOptions {
    return {
      address: this.#o.target.address,
      baseParams: this.#o.baseParams,
      probe: this.#o.profile.probe,
      timeoutMs: this.#timeouts.replyMs,
    };
  }

  #result(scenario: Scenario, outcome: Outcome, durationMs: number, transcript?: Transcript): ScenarioResult {
    return scenarioResult(scenario, outcome, durationMs, transcript);
  }

}

/** The result of a scenario (of either suite) from how it ended, classified by `classify`. */
export function scenarioResult(
  scenario: { readonly id: string; readonly title: string; readonly group: ScenarioResult['group']; readonly requirements: ScenarioResult['requirements'] },
  outcome: Outcome,
  durationMs: number,
  transcript?: Transcript,
): ScenarioResult {
  const { verdict, expected, actual } = classify(outcome);
  return {
    id: scenario.id,
    title: scenario.title,
    group: scenario.group,
    requirements: scenario.requirements,
    verdict,
    expected,
    actual,
    findings: outcome.findings,
    observations: outcome.observations,
    durationMs,
    ...(transcript ? { transcript } : {}),
  };
}

/** A scenario that has run, waiting for the liveness check before it becomes a result. */
class Executed {
  readonly #ctx: HarnessContext;
  readonly #end: RunEnd;
  readonly #durationMs: number;
  readonly #make: (o: Outcome, ms: number, t: Transcript) => ScenarioResult;
  readonly #extra: Finding[] = [];
  readonly #notes: ScenarioNote[] = [];
  #targetStopped = false;

  constructor(ctx: HarnessContext, end: RunEnd, durationMs: number, make: (o: Outcome, ms: number, t: Transcript) => ScenarioResult) {
    this.#ctx = ctx;
    this.#end = end;
    this.#durationMs = durationMs;
    this.#make = make;
  }

  /** The error code when the run ended in an error. */
  get endCode(): string | undefined {
    return this.#end.kind === 'error' ? this.#end.code : undefined;
  }

  /** The verdict so far, before liveness. */
  get verdict(): Verdict {
    return classify(this.#outcome()).verdict;
  }

  addFinding(finding: Finding): void {
    this.#extra.push(finding);
  }

  /**
   * The liveness check found the target dead: an error the scenario ended in (E_CONNECT, E_TIMEOUT on the
   * dead connection) is a symptom of that, so the liveness failure decides the verdict and the error becomes a note.
   */
  blameStoppedTarget(): void {
    this.#targetStopped = true;
  }

  note(text: string): void {
    this.#notes.push({ atMs: this.#ctx.now(), text });
  }

  finish(): ScenarioResult {
    if (this.#targetStopped && this.#end.kind !== 'finished') {
      const how = this.#end.kind === 'error' ? `${this.#end.code}: ${this.#end.message}` : `skipped: ${this.#end.reason}`;
      this.note(`the scenario itself ended ${how}; the stopped target explains it`);
    }
    return this.#make(this.#outcome(), this.#durationMs, scenarioTranscript(this.#ctx.connections, [...this.#ctx.notes, ...this.#notes]));
  }

  #outcome(): Outcome {
    const findings = [...this.#ctx.check.findings, ...this.#extra];
    if (this.#targetStopped && this.#end.kind !== 'finished') {
      return { end: { kind: 'finished' }, findings, observations: this.#ctx.check.observations };
    }
    return { end: this.#end, findings, observations: this.#ctx.check.observations };
  }
}

/** The report transcript of a scenario: every connection, timed from the scenario's start, plus its notes. */
export function scenarioTranscript(connections: readonly ConnectionLog[], notes: readonly ScenarioNote[]): Transcript {
  const conns: ConnectionTranscript[] = connections.map((c) => ({ entries: c.raw.transcript, openedAtMs: c.openedAtMs, omittedBytes: c.raw.omittedBytes }));
  // Scenario-level notes ride on the first connection, timed relative to its opening.
  const offset = connections[0]?.openedAtMs ?? 0;
  const noteEntries: TranscriptEntry[] = notes.map((n) => ({ dir: 'note', atMs: n.atMs - offset, text: n.text }));
  if (noteEntries.length > 0) {
    if (conns.length === 0) conns.push({ entries: noteEntries, openedAtMs: 0 });
    else conns[0] = { ...conns[0]!, entries: [...conns[0]!.entries, ...noteEntries].sort((a, b) => a.atMs - b.atMs) };
  }
  return buildTranscript(conns);
}

function lastActivity(connections: readonly ConnectionLog[]): string {
  if (connections.length === 0) return ' (no connection opened)';
  const last = connections.map((c) => c.raw.transcript.at(-1)).filter((e) => e !== undefined);
  const latest = last.reduce<TranscriptEntry | undefined>((a, e) => (a === undefined || e.atMs > a.atMs ? e : a), undefined);
  return latest ? ` (last activity: ${latest.dir} at ${Math.round(latest.atMs)} ms on its connection)` : '';
}

function describeSanity(r: SanityResult): string {
  return r.ok ? `served in ${Math.round(r.elapsedMs)} ms` : r.reason;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return oneLine(text, 500);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' | ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The address of a target as reports show it. */
export function targetAddress(target: Target): string {
  try {
    return formatAddress(target.address);
  } catch {
    return target.description;
  }
}
