/**
 * `fcgispec fuzz TARGET`: property-based fuzzing of a FastCGI application. Request plans (connections of
 * interleaved requests, aborts, management records, records of inactive ids, padding, writes of any size) are
 * drawn with fast-check, run against the target, and judged by a model that accepts every outcome the spec
 * allows; a failure is shrunk to its smallest plan, written as a replay file, and reported with its transcript
 * in the report model `fcgispec app` uses, with the same exit codes.
 *
 * `fcgispec replay FILE TARGET` runs a replay file again and says whether the verdict is the same.
 * @see §3.3 §4 §5 §6
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { AddressError, formatAddress, parseAddress } from '../../reference/address.ts';
import { RawConnection } from '../../reference/client/raw-connection.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import { FCGI_GET_VALUES, FCGI_GET_VALUES_RESULT, FCGI_MPXS_CONNS, FCGI_NULL_REQUEST_ID } from '../../spec/constants.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import type { ComplianceReport, Finding, ScenarioResult } from '../../reports/model.ts';
import { buildReport } from '../../reports/summarize.ts';
import { buildTranscript } from '../../reports/transcript.ts';
import { recordLine, transcriptText } from '../../reports/text.ts';
import { escapeTerminal } from '../../reports/escape.ts';
import { fuzzPlan } from '../../suites/arbitraries/plan.ts';
import type { Profile } from '../../suites/define.ts';
import { runCampaign, parseShard, isDiagnosis, type CaseOutcome, type FoundFailure, type Shard } from '../../suites/fuzz/campaign.ts';
import { executePlan, type Execution } from '../../suites/fuzz/execute.ts';
import { failingRequirements, fuzzRequirements, judgeCase, type ModelOptions } from '../../suites/fuzz/model.ts';
import { buildWirePlan, wireRecordCount, wireRequestCount, type BuildOptions, type FuzzPlan } from '../../suites/fuzz/plan.ts';
import { formatReplay, readReplayFile, recordLines, ReplayError, trafficOf, REPLAY_FORMAT, REPLAY_VERSION, type ReplayFile, type ReplayOptions } from '../../suites/fuzz/replay.ts';
import { summaryLines, resultLines, useLiveLine, type ConsoleStream } from '../console.ts';
import { makeTimeouts } from '../context.ts';
import { embeddedTarget } from '../embedded.ts';
import { HarnessError } from '../errors.ts';
import { awaitServing, sanityCheck, unreachableError, type SanityOptions } from '../liveness.ts';
import { loadProfile, proposeProfile, queryGetValues, type GetValuesAnswer, type ProfileClaims } from '../profile.ts';
import { classify, exitCodeOf, LIVENESS_REQUIREMENT } from '../runner.ts';
import { NetworkTarget, SpawnTarget, splitCommand, type Target } from '../target.ts';
import { defaultCgiParams } from './app.ts';
import { checkNumber, parseParams, reportFlagOptions, reportOutputs, toolVersion, usage, writeReports } from './options.ts';

/** Target options shared by `fuzz` and `replay` (the forms `fcgispec app` takes). */
export interface TargetOptions {
  readonly target?: string;
  readonly spawn?: string;
  readonly spawnUnix?: boolean;
  readonly embedded?: boolean;
  /** `--fault NAME[=ARG][@N]` for the embedded reference. */
  readonly faults?: readonly string[];
  /** `--no-mpx`: the embedded reference does not multiplex. */
  readonly mpx?: boolean;
  readonly params?: readonly string[];
  readonly cgiDefaults?: boolean;
  readonly probe?: boolean;
  readonly profile?: string;
  readonly strict?: boolean;
  readonly timeoutScale?: number;
  readonly name?: string;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly json?: string;
  readonly junit?: string;
  readonly html?: string;
  readonly md?: string;
  readonly out?: string;
}

/** The options of `fcgispec fuzz`, parsed and checked. */
export interface FuzzOptions extends TargetOptions {
  readonly runs?: number;
  /** `--time`: `60s`, `2m`, `500ms`, or seconds. */
  readonly time?: string;
  readonly seed?: number;
  readonly path?: string;
  readonly maxParams?: number;
  readonly maxStdin?: number;
  /** Connections per plan, at most. */
  readonly connections?: number;
  readonly shard?: string;
  /** Time to shrink each failure (`--shrink-time`, default 60s). */
  readonly shrinkTime?: string;
  /** Distinct failures after which the run stops. */
  readonly maxFailures?: number;
  /** Where replay files go (default `<out>/replays`, else `fcgispec-replays`). */
  readonly replayDir?: string;
  /** `--no-replay-files`. */
  readonly replayFiles?: boolean;
}

/** The options of `fcgispec replay`. */
export interface ReplayCommandOptions extends TargetOptions {
  readonly file: string;
}

/** Where the commands write; tests pass their own. */
export interface FuzzIo {
  readonly stdout: ConsoleStream;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const defaultIo: FuzzIo = { stdout: process.stdout };

/** Defaults of the size options. */
// Lines printed for repeats of known failures, at most.
const REPEAT_LINES = 20;

export const fuzzDefaults = { runs: 100, maxParams: 4096, maxStdin: 140_000, connections: 3, shrinkMs: 60_000, maxFailures: 8 } as const;

/** Parses `60s`, `2m`, `1h`, `500ms` or a plain number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw usage(`--${flag} ${JSON.stringify(text)}: expected a duration such as 60s, 2m or 500ms`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (!(ms > 0) || !Number.isFinite(ms)) throw usage(`--${flag} must be more than 0`);
  return Math.round(ms);
}

function positiveInt(value: number | undefined, flag: string, min = 1): number | undefined {
  return checkNumber(flag, value, { min, integer: true });
}

// ───────────────────────────── the target ─────────────────────────────

/** A target as the fuzz commands use it. */
export interface OpenedTarget {
  readonly target: Target;
  readonly name: string;
  /** The address reports show: the same for every shard of a run (not a temporary socket or port). */
  readonly address: string;
  /** The target is the reference responder with the reference probe (appStatus can be checked exactly). */
  readonly reference: boolean;
}

/** Builds the target from TARGET, `--spawn` or `--embedded`; usage problems throw `E_USAGE`. */
export function openTarget(o: TargetOptions): OpenedTarget {
  const modes = [o.target !== undefined, o.spawn !== undefined, o.embedded === true].filter(Boolean).length;
  if (modes === 0) throw usage('name a TARGET (tcp:HOST:PORT, HOST:PORT, unix:PATH), --spawn "CMD ARGS" or --embedded');
  if (modes > 1) throw usage('give only one of TARGET, --spawn and --embedded');
  if (o.spawnUnix && o.spawn === undefined) throw usage('--spawn-unix needs --spawn');
  if ((o.faults?.length ?? 0) > 0 && o.embedded !== true) throw usage('--fault needs --embedded (it configures the reference responder)');
  if (o.mpx === false && o.embedded !== true) throw usage('--no-mpx needs --embedded');
  if (o.target !== undefined) {
    let address;
    try {
      address = parseAddress(o.target);
    } catch (err) {
      if (err instanceof AddressError) throw usage(err.message);
      throw err;
    }
    if (address.kind === 'fd') throw usage(`cannot connect to ${o.target}: use --spawn to hand a socket to a command`);
    const text = formatAddress(address);
    return { target: new NetworkTarget(address), name: o.name ?? text, address: text, reference: false };
  }
  if (o.spawn !== undefined) {
    const words = splitCommand(o.spawn);
    if (words.length === 0) throw usage('--spawn needs a command');
    return { target: new SpawnTarget({ command: words[0]!, args: words.slice(1), unix: o.spawnUnix === true }), name: o.name ?? basename(words[0]!), address: `spawn: ${o.spawn}`, reference: false };
  }
  const faults = o.faults ?? [];
  const target = embeddedTarget({ faults, ...(o.mpx === false ? { multiplex: false } : {}) });
  const what = `embedded${faults.length ? ` --fault ${faults.join(' --fault ')}` : ''}${o.mpx === false ? ' --no-mpx' : ''}`;
  return { target, name: o.name ?? (faults.length ? `reference (${faults.join(', ')})` : 'reference'), address: what, reference: true };
}

/**
 * Whether a FCGI_GET_VALUES barrier can end the observation of kept connections: the target answers it on a
 * connection and leaves that connection open. @see §4.1
 */
export async function barrierUsable(target: Target, timeoutMs: number): Promise<boolean> {
  let conn: RawConnection;
  try {
    conn = await RawConnection.connect(target.address, { timeoutMs });
  } catch {
    return false;
  }
  try {
    await conn.sendRecord({ type: FCGI_GET_VALUES, requestId: FCGI_NULL_REQUEST_ID, content: encodeNameValuePairs([[FCGI_MPXS_CONNS, '']]) });
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const e = await conn.next(Math.max(1, deadline - performance.now()));
      if (e.kind !== 'record') return false;
      if (e.record.type === FCGI_GET_VALUES_RESULT && e.record.requestId === FCGI_NULL_REQUEST_ID) break;
    }
    const after = await conn.next(Math.min(200, timeoutMs));
    return after.kind === 'timeout';
  } finally {
    conn.destroy();
  }
}

/** Everything a fuzz or replay run needs once the target serves. */
export interface Session {
  readonly opened: OpenedTarget;
  readonly baseParams: Readonly<Record<string, string>>;
  readonly profile: Profile;
  readonly getValues: GetValuesAnswer | undefined;
  readonly model: ModelOptions;
  readonly build: BuildOptions;
  readonly barrier: boolean;
  readonly timeouts: ReturnType<typeof makeTimeouts>;
  /** How liveness is checked after each case: a sanity request, or (for a target that fails it from the start) a connection. */
  readonly liveness: 'request' | 'connect';
  /** Why the sanity request failed before the run, when it did. */
  readonly baseline?: string;
}

/** Starts the target, checks that it serves, and proposes its profile (as `fcgispec app` does). */
export async function startSession(o: TargetOptions, opened: OpenedTarget): Promise<Session> {
  const { target } = opened;
  const baseParams = { ...(o.cgiDefaults === false ? {} : defaultCgiParams), ...parseParams(o.params ?? []) };
  const claims: ProfileClaims = o.profile !== undefined ? loadProfile(o.profile) : o.embedded === true ? { roles: ['responder', 'authorizer', 'filter'] } : {};
  const probe = o.probe === true || o.embedded === true;
  const timeouts = makeTimeouts(o.timeoutScale ?? 1);
  try {
    await target.start();
  } catch (err) {
    if (err instanceof HarnessError && err.code === 'E_SPAWN') throw new HarnessError('E_CONNECT', `target not started: ${err.message}`, { cause: err });
    throw err;
  }
  const sanity = await awaitServing(
    { address: target.address, baseParams, probe, timeoutMs: timeouts.scale(5000) },
    target.restartable ? timeouts.scale(5000) : timeouts.scale(1000),
    timeouts.scale(200),
    () => target.exited() !== undefined,
  );
  // A target that accepts connections but answers the minimal request wrongly is still fuzzed: that wrong answer
  // is what the fuzzer is there to find and shrink. Its liveness is then checked by connecting only.
  if (!sanity.ok && (sanity.last.ok || sanity.last.stage === 'connect' || target.exited() !== undefined)) throw unreachableError(target, sanity.last);
  const liveness = sanity.ok ? 'request' : 'connect';
  const baseline = sanity.ok || sanity.last.ok ? undefined : sanity.last.reason;
  let answer: GetValuesAnswer | undefined;
  try {
    answer = await queryGetValues(target.address, timeouts.replyMs);
  } catch {
    answer = undefined;
  }
  const profile = proposeProfile(claims, answer, probe);
  const mpxs = answer?.answered ? answer.values[FCGI_MPXS_CONNS] : undefined;
  const barrier = answer?.answered === true && (await barrierUsable(target, timeouts.replyMs));
  return {
    opened,
    baseParams,
    profile,
    getValues: answer,
    model: { profile, ...(mpxs === undefined ? {} : { mpxsConns: mpxs }), appStatus: opened.reference ? 'exact' : 'lenient', strict: o.strict === true },
    build: { baseParams, keepConn: profile.keepConn },
    barrier,
    timeouts,
    liveness,
    ...(baseline === undefined ? {} : { baseline }),
  };
}

/** The replay options a session judges with. */
function replayOptionsOf(session: Session): ReplayOptions {
  return {
    probe: session.profile.probe,
    baseParams: session.baseParams,
    profile: session.profile,
    ...(session.model.mpxsConns === undefined ? {} : { mpxsConns: session.model.mpxsConns }),
    appStatus: session.model.appStatus,
    strict: session.model.strict,
    barrier: session.barrier,
    timeouts: { replyMs: session.timeouts.replyMs, closeMs: session.timeouts.closeMs, quietMs: session.timeouts.quietMs },
  };
}

// ───────────────────────────── one case ─────────────────────────────

/** Runs one plan, judges it, then checks that the target still serves (restarting a spawned one if not). */
export class CaseRunner {
  readonly #session: Session;
  readonly #model: ModelOptions;
  readonly #build: BuildOptions;
  readonly #timeouts: { replyMs: number; closeMs: number; quietMs: number };
  readonly #barrier: boolean;
  readonly #onNote: (text: string) => void;
  #down: string | undefined;

  constructor(session: Session, options: { model?: ModelOptions; build?: BuildOptions; barrier?: boolean; timeouts?: { replyMs: number; closeMs: number; quietMs: number }; onNote?: (text: string) => void } = {}) {
    this.#session = session;
    this.#model = options.model ?? session.model;
    this.#build = options.build ?? session.build;
    this.#barrier = options.barrier ?? session.barrier;
    this.#timeouts = options.timeouts ?? session.timeouts;
    this.#onNote = options.onNote ?? (() => {});
  }

  /** Why the target is down for good, if it is. */
  get down(): string | undefined {
    return this.#down;
  }

  async run(plan: FuzzPlan): Promise<CaseOutcome> {
    if (this.#down) throw new Error(this.#down);
    const started = performance.now();
    const target = this.#session.opened.target;
    const wire = buildWirePlan(plan, this.#build);
    // Every wait of a case is bounded; this watchdog only guards against a wait we did not foresee.
    const batches = Math.max(1, ...wire.connections.map((c) => c.batches.length));
    const watchdog = new AbortController();
    const timer = setTimeout(() => watchdog.abort(), (batches * 2 + 4) * this.#timeouts.replyMs + this.#timeouts.closeMs);
    const execution = await executePlan(wire, {
      connect: () => RawConnection.connect(target.address, { timeoutMs: this.#timeouts.replyMs, limits: { transcriptBytes: 16 * 1024 * 1024 } }),
      replyMs: this.#timeouts.replyMs,
      closeMs: this.#timeouts.closeMs,
      quietMs: this.#timeouts.quietMs,
      barrier: this.#barrier,
      signal: watchdog.signal,
    }).finally(() => clearTimeout(timer));
    const judged = judgeCase(wire, execution.connections.map((c) => c.observation), this.#model);
    const findings: Finding[] = [...judged.findings];
    const live = await this.#liveness();
    if (live) findings.push(live);
    return { findings, observations: judged.observations, failing: failingRequirements(findings), wire, execution, durationMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  // §3.5: after any case the target must go on serving; a spawned one is restarted, a network one given time.
  async #liveness(): Promise<Finding | undefined> {
    const target = this.#session.opened.target;
    const sanity: SanityOptions = { address: target.address, baseParams: this.#session.baseParams, probe: this.#session.profile.probe, timeoutMs: this.#timeouts.replyMs };
    let failure: string | undefined;
    if (target.exited() !== undefined) failure = `the target process ${target.exited()}`;
    else if (this.#session.liveness === 'connect') {
      try {
        (await RawConnection.connect(target.address, { timeoutMs: this.#timeouts.replyMs })).destroy();
        return undefined;
      } catch (err) {
        failure = `a fresh connection failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    } else {
      const r = await sanityCheck(sanity);
      if (r.ok) return undefined;
      failure = `a fresh sanity request failed: ${r.reason}`;
    }
    for (let i = 0; target.restartable && target.exited() === undefined && i < 10; i++) await new Promise((r) => setTimeout(r, 20));
    if (target.exited() !== undefined) failure = `the target process ${target.exited()}`;
    let recovery: string;
    if (target.restartable) {
      try {
        await target.restart();
        const back = await sanityCheck({ ...sanity, timeoutMs: this.#session.timeouts.scale(5000) });
        recovery = back.ok ? 'the harness restarted it' : `not serving after a restart either (${back.reason})`;
        if (!back.ok) this.#down = `target down: ${recovery}`;
      } catch (err) {
        recovery = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
        this.#down = `target down: ${recovery}`;
      }
    } else {
      const back = await awaitServing(sanity, this.#session.timeouts.scale(3000), this.#session.timeouts.scale(250));
      recovery = back.ok ? `serving again ${back.afterMs} ms later` : `still not serving ${back.afterMs} ms later`;
      if (!back.ok) this.#down = `target down: ${failure}; ${recovery}`;
    }
    this.#onNote(`liveness: ${failure}; ${recovery}`);
    return { requirement: LIVENESS_REQUIREMENT, verdict: 'fail', expected: 'the target goes on serving new connections after this case', actual: `${failure}; ${recovery}` };
  }
}

// ───────────────────────────── results ─────────────────────────────

/** The requirements a fuzz run exercises (its rollup lists them as passed unless a failure says otherwise). */
export function fuzzCoverage(probe: boolean): RequirementId[] {
  const ids: RequirementId[] = [
    'FCGI-3.3-records-only',
    'FCGI-3.3-version-1',
    'FCGI-3.3-any-segmentation-app',
    'FCGI-3.3-padding-discarded',
    'FCGI-3.3-stream-terminator',
    'FCGI-3.3-no-records-after-end',
    'FCGI-3.3-inactive-id-ignored',
    'FCGI-3.3-request-id-reuse',
    'FCGI-4.1-get-values-any-time',
    'FCGI-4.2-unknown-type-reply',
    'FCGI-5.1-unknown-role',
    'FCGI-5.1-keep-conn-clear-closes',
    'FCGI-5.1-keep-conn-set-stays-open',
    'FCGI-5.4-abort-ends-request',
    'FCGI-5.5-end-request-once',
    'FCGI-5.5-cant-mpx-conn',
    'FCGI-6.1-stdout-sent',
    'FCGI-6.2-params-before-output',
    LIVENESS_REQUIREMENT,
  ];
  if (probe) ids.push(fuzzRequirements.probeAnswer, 'FCGI-3.4-length-forms-accepted', 'FCGI-B-split-params-app');
  return ids;
}

/** The report transcript of a case. */
export function caseTranscript(execution: Execution): ScenarioResult['transcript'] {
  return buildTranscript(execution.connections.map((c) => ({ entries: c.transcript, openedAtMs: c.observation.openedAtMs, omittedBytes: c.omittedBytes })));
}

function resultOfFailure(f: FoundFailure, file: string | undefined): ScenarioResult {
  const findings = [...f.outcome.findings, ...f.causes];
  const { verdict, expected, actual } = classify({ end: { kind: 'finished' }, findings, observations: {} });
  const failing = failingRequirements(findings);
  const records = wireRecordCount(f.outcome.wire);
  const transcript = caseTranscript(f.outcome.execution);
  return {
    id: `fuzz.failure.s${f.seed}`,
    title: `${f.reproduced ? `shrunk to ${records} records` : `${records} records, not reproduced when replayed`}: ${failing.join(', ') || 'findings'}`,
    group: 'fuzz',
    requirements: failing.length > 0 ? failing : [...new Set(findings.map((x) => x.requirement))],
    verdict,
    expected,
    actual,
    findings,
    observations: {
      records,
      requests: wireRequestCount(f.outcome.wire),
      reproduced: f.reproduced,
      repeats: f.repeats,
      shrinkCases: f.shrinkCases,
      originalRecords: wireRecordCount(f.original.wire),
      ...f.outcome.observations,
    },
    durationMs: f.outcome.durationMs,
    ...(transcript ? { transcript } : {}),
    replay: { seed: f.seed, path: f.path, ...(file === undefined ? {} : { file }) },
  };
}

/** A replay file for a failure. */
export function replayFileOf(f: FoundFailure, session: Session, title: string): ReplayFile {
  const { traffic, omitted } = trafficOf(f.outcome.execution.connections.map((c) => ({ transcript: c.transcript, openedAtMs: c.observation.openedAtMs })));
  const findings = [...f.outcome.findings, ...f.causes];
  return {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    title,
    tool: `fcgispec ${toolVersion()}`,
    createdAt: new Date().toISOString(),
    target: { name: session.opened.name, address: session.opened.address },
    seed: f.seed,
    path: f.path,
    options: replayOptionsOf(session),
    plan: f.plan,
    records: recordLines(f.plan, session.build),
    traffic,
    omittedTrafficBytes: omitted,
    verdict: classify({ end: { kind: 'finished' }, findings, observations: {} }).verdict,
    findings,
  };
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'target';
}

function writeText(path: string, text: string): void {
  try {
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, text);
  } catch (err) {
    throw new HarnessError('E_REPORT_WRITE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * A failure for the console: the verdict, the diagnosis, how to replay it, the shrunk plan's records (what was
 * sent) and what came back; `verbose` adds the whole timed transcript.
 */
export function failureLines(r: ScenarioResult, f: FoundFailure, session: Session, file: string | undefined, verbose: boolean): string[] {
  const indent = (l: string): string => `       ${escapeTerminal(l)}`;
  const transcript = r.transcript ? transcriptText(r.transcript) : [];
  const answers: string[] = [];
  for (const line of r.transcript?.lines ?? []) {
    const at = `${line.atMs.toFixed(1).padStart(8)} ms #${line.conn}`;
    if (line.dir === 'sent') continue;
    if (line.records) for (const rec of line.records) answers.push(`${at} ← ${recordLine(rec)}`);
    else if (line.dir !== 'received') answers.push(`${at} ${line.dir === 'closed' ? '×' : '·'} ${line.text ?? ''}`);
  }
  return [
    ...resultLines(r),
    ...r.findings.filter((x) => x.verdict !== 'pass').slice(1, 8).map((x) => indent(`${x.verdict} ${x.requirement}: ${x.actual}`)),
    ...f.causes.map((c) => indent(`diagnosis: ${c.requirement}: ${c.actual}`)),
    indent(`replay: fcgispec fuzz … --seed ${f.seed} --path ${f.path}${file ? `, or fcgispec replay ${file} TARGET` : ''}`),
    indent('shrunk plan:'),
    ...recordLines(f.plan, session.build).slice(0, 40).map((l) => indent(`  ${l}`)),
    indent('what came back:'),
    ...(verbose ? transcript : answers.slice(0, 60)).map((l) => indent(`  ${l}`)),
  ];
}

// ───────────────────────────── progress ─────────────────────────────

class FuzzProgress {
  readonly #io: FuzzIo;
  readonly #quiet: boolean;
  readonly #live: boolean;
  #lineShown = false;
  #lastDraw = 0;
  #lastPlain = 0;

  constructor(io: FuzzIo, quiet: boolean) {
    this.#io = io;
    this.#quiet = quiet;
    this.#live = useLiveLine(io.stdout, io.env ?? process.env) && !quiet;
    this.#lastPlain = performance.now();
  }

  status(cases: number, elapsedMs: number, failures: number, force = false): void {
    if (this.#quiet) return;
    const now = performance.now();
    const rate = elapsedMs > 0 ? (cases * 1000) / elapsedMs : 0;
    const text = `fuzz: ${cases} cases, ${rate.toFixed(1)} cases/s, ${failures} failure${failures === 1 ? '' : 's'} (${(elapsedMs / 1000).toFixed(0)} s)`;
    if (this.#live) {
      if (!force && now - this.#lastDraw < 200) return;
      this.#lastDraw = now;
      this.#io.stdout.write(`\r\x1b[K${text}`);
      this.#lineShown = true;
    } else if (force || now - this.#lastPlain >= 10_000) {
      this.#lastPlain = now;
      this.#io.stdout.write(`${text}\n`);
    }
  }

  print(lines: readonly string[], always = false): void {
    if (this.#quiet && !always) return;
    this.clear();
    this.#io.stdout.write(`${lines.join('\n')}\n`);
  }

  clear(): void {
    if (!this.#lineShown) return;
    this.#io.stdout.write('\r\x1b[K');
    this.#lineShown = false;
  }
}

// ───────────────────────────── fuzz ─────────────────────────────

/** What a fuzz run produced. */
export interface FuzzRun {
  readonly report: ComplianceReport;
  readonly found: readonly FoundFailure[];
  readonly replayFiles: readonly string[];
  readonly exitCode: number;
  readonly cases: number;
  readonly casesPerSecond: number;
}

/** Runs `fcgispec fuzz` and returns the exit code. */
export async function runFuzz(o: FuzzOptions, io: FuzzIo = defaultIo): Promise<number> {
  return (await fuzz(o, io)).exitCode;
}

/** Runs a fuzz campaign against the target; usage problems throw `E_USAGE`, an absent target `E_CONNECT`. */
export async function fuzz(o: FuzzOptions, io: FuzzIo = defaultIo): Promise<FuzzRun> {
  const runs = positiveInt(o.runs, 'runs');
  if (runs !== undefined && o.time !== undefined) throw usage('give --runs or --time, not both');
  const timeMs = o.time === undefined ? undefined : parseDuration(o.time, 'time');
  positiveInt(o.seed, 'seed', 0);
  if (o.path !== undefined && o.seed === undefined) throw usage('--path needs --seed (the seed of the run that printed it)');
  if (o.path !== undefined && !/^\d+(:\d+)*$/.test(o.path)) throw usage(`--path ${JSON.stringify(o.path)}: expected numbers separated by colons, as printed`);
  const shard: Shard | undefined = o.shard === undefined ? undefined : parseShard(o.shard);
  if (o.shard !== undefined && shard === undefined) throw usage(`--shard ${JSON.stringify(o.shard)}: expected K/N with 1 ≤ K ≤ N`);
  if (shard !== undefined && o.seed === undefined) throw usage('--shard needs --seed, the same for every shard (e.g. the CI run number)');
  const maxParams = positiveInt(o.maxParams, 'max-params', 0) ?? fuzzDefaults.maxParams;
  const maxStdin = positiveInt(o.maxStdin, 'max-stdin', 0) ?? fuzzDefaults.maxStdin;
  const connections = positiveInt(o.connections, 'connections') ?? fuzzDefaults.connections;
  const maxFailures = positiveInt(o.maxFailures, 'max-failures') ?? fuzzDefaults.maxFailures;
  const shrinkMs = o.shrinkTime === undefined ? fuzzDefaults.shrinkMs : parseDuration(o.shrinkTime, 'shrink-time');
  checkNumber('timeout-scale', o.timeoutScale, { min: 0, above: true });
  const outputs = reportOutputs(o);
  const replayDir = o.replayDir ?? (o.out !== undefined ? join(o.out, 'replays') : 'fcgispec-replays');
  const opened = openTarget(o);
  const seed = o.seed ?? randomInt(0, 2 ** 31 - 1);
  const progress = new FuzzProgress(io, o.quiet === true);
  const { target } = opened;

  const stopOnSignal = new AbortController();
  const onSigint = (): void => stopOnSignal.abort();
  process.once('SIGINT', onSigint);
  try {
    const session = await startSession(o, opened);
    const p = session.profile;
    progress.print([
      `fcgispec fuzz: ${target.description}, seed ${seed}${shard ? `, shard ${shard.index}/${shard.count}` : ''}${o.path ? `, path ${o.path}` : ''}, ${timeMs !== undefined ? `for ${timeMs / 1000} s` : `${runs ?? fuzzDefaults.runs} cases`}${o.strict ? ', strict' : ''}`,
      `profile: roles ${p.roles.join(', ')}, multiplex ${p.multiplex}, keepConn ${p.keepConn}, probe ${p.probe}${session.model.mpxsConns !== undefined ? `, FCGI_MPXS_CONNS ${session.model.mpxsConns}` : ''}; end of kept connections by ${session.barrier ? 'FCGI_GET_VALUES barrier' : `${session.timeouts.quietMs} ms of quiet`}`,
      ...(session.baseline ? [`  · the minimal request already fails (${escapeTerminal(session.baseline)}); fuzzing anyway, liveness checked by connecting`] : []),
    ]);
    const runner = new CaseRunner(session, { onNote: (t) => progress.print([`  · ${escapeTerminal(t)}`]) });
    const arbitrary = fuzzPlan({ roles: p.roles, keepConn: p.keepConn, maxParams, maxStdin, maxConnections: Math.min(connections, Math.max(1, (p.maxConns ?? 1024) - 1)) });
    const startedAt = new Date();
    const t0 = performance.now();
    let repeatsShown = 0;
    const result = await runCampaign({
      arbitrary,
      runCase: (plan) => runner.run(plan),
      seed,
      ...(o.path === undefined ? {} : { path: o.path }),
      ...(runs === undefined ? {} : { runs }),
      ...(timeMs === undefined ? {} : { timeMs }),
      ...(shard === undefined ? {} : { shard }),
      shrinkMs,
      maxFindings: maxFailures,
      strict: o.strict === true,
      signal: stopOnSignal.signal,
      listener: {
        onCase: (_outcome, s) => progress.status(s.cases, s.elapsedMs, s.failures),
        onFailure: (roundSeed, path, outcome, repeat) => {
          // Repeats of known failures can come by the hundred from a target that breaks a rule often: a few lines.
          if (repeat && ++repeatsShown > REPEAT_LINES) {
            if (repeatsShown === REPEAT_LINES + 1) progress.print(['  · (further repeats of known failures not shown; the summary counts them)']);
            return;
          }
          progress.print([`  · failure: ${outcome.failing.join(', ')} (seed ${roundSeed}, path ${path})${repeat ? ': breaks nothing new, not shrunk again' : `; shrinking (up to ${shrinkMs / 1000} s)…`}`]);
        },
      },
    });
    const durationMs = Math.round(performance.now() - t0);
    const casesPerSecond = result.stats.elapsedMs > 0 ? Math.round((result.stats.cases * 10_000) / result.stats.elapsedMs) / 10 : 0;
    progress.status(result.stats.cases, result.stats.elapsedMs, result.stats.failures, true);
    progress.clear();

    // Replay files and results, one per distinct failure.
    const replayFiles: string[] = [];
    const results: ScenarioResult[] = [];
    for (const f of result.found) {
      const title = `${failingRequirements([...f.outcome.findings, ...f.causes]).join(', ')} against ${opened.name}`;
      let file: string | undefined;
      if (o.replayFiles !== false) {
        file = join(replayDir, `${slug(opened.name)}-s${f.seed}.replay.json`);
        writeText(file, formatReplay(replayFileOf(f, session, title)));
        replayFiles.push(file);
      }
      const r = resultOfFailure(f, file);
      results.push(r);
      progress.print(failureLines(r, f, session, file, o.verbose === true), true);
    }
    const shardTag = shard && shard.count > 1 ? `.shard-${shard.index}-of-${shard.count}` : '';
    const runResult: ScenarioResult = {
      id: `fuzz.run${shardTag}`,
      title: `fuzzed ${result.stats.cases} request plans${shard && shard.count > 1 ? ` (shard ${shard.index}/${shard.count})` : ''} at ${casesPerSecond} cases/s`,
      group: 'fuzz',
      requirements: fuzzCoverage(p.probe),
      verdict: result.error !== undefined ? 'error' : 'pass',
      expected: result.error !== undefined ? 'the fuzz run runs to its end' : '',
      actual: result.error !== undefined ? `E_TARGET_DOWN: ${result.error}` : '',
      findings: [],
      observations: {
        cases: result.stats.cases,
        casesPerSecond,
        failingCases: result.stats.failures,
        distinctFailures: result.found.length,
        shrinkCases: result.stats.shrinkCases,
        rounds: result.stats.rounds,
        seed,
        ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}),
        ...(o.path ? { path: o.path } : {}),
        maxParams,
        maxStdin,
        ...(result.stopped ? { stopped: result.stopped } : {}),
      },
      durationMs,
    };
    const report = buildReport({
      tool: { name: 'fcgispec', version: toolVersion(), suiteVersion: toolVersion() },
      target: {
        name: opened.name,
        address: opened.address,
        mode: 'app',
        profile: {
          ...p,
          source: o.profile ? `file ${o.profile}` : 'proposed',
          ...(session.getValues ? { getValues: session.getValues.answered ? session.getValues.values : { error: session.getValues.detail ?? 'no answer' } } : {}),
        },
        params: session.baseParams,
      },
      startedAt: startedAt.toISOString(),
      durationMs,
      seed,
      strict: o.strict === true,
      results: [runResult, ...results],
      catalog: requirements,
    });
    progress.print(summaryLines(report, false, o.quiet === true), true);
    const written = writeReports(report, outputs);
    if (written.length > 0) progress.print([`reports written: ${written.join(', ')}`], true);
    if (replayFiles.length > 0) progress.print([`replay files: ${replayFiles.join(', ')}`], true);
    return { report, found: result.found, replayFiles, exitCode: exitCodeOf(report.results), cases: result.stats.cases, casesPerSecond };
  } finally {
    process.off('SIGINT', onSigint);
    await target.stop();
  }
}

// ───────────────────────────── replay ─────────────────────────────

/** Runs `fcgispec replay FILE TARGET`; returns the exit code (1 when the replayed case fails). */
export async function runReplay(o: ReplayCommandOptions, io: FuzzIo = defaultIo): Promise<number> {
  return (await replay(o, io)).exitCode;
}

/** What a replay produced. */
export interface ReplayRun {
  readonly result: ScenarioResult;
  readonly recorded: ReplayFile;
  /** Whether the verdict and the failing requirements are those recorded. */
  readonly same: boolean;
  readonly exitCode: number;
  readonly report: ComplianceReport;
}

/** Replays a file against the target. */
export async function replay(o: ReplayCommandOptions, io: FuzzIo = defaultIo): Promise<ReplayRun> {
  let file: ReplayFile;
  try {
    file = readReplayFile(o.file);
  } catch (err) {
    if (err instanceof ReplayError) throw usage(err.message);
    throw err;
  }
  const outputs = reportOutputs(o);
  const opened = openTarget(o);
  const say = (lines: readonly string[], always = false): void => {
    if (!o.quiet || always) io.stdout.write(`${lines.join('\n')}\n`);
  };
  try {
    // The file's params and profile, so that the case is judged as it was; --param adds to them.
    const baseParams = { ...file.options.baseParams, ...parseParams(o.params ?? []) };
    const session = await startSession({ ...o, cgiDefaults: false, params: Object.entries(baseParams).map(([k, v]) => `${k}=${v}`) }, opened);
    const profile = file.options.profile;
    const model: ModelOptions = { profile, ...(file.options.mpxsConns === undefined ? {} : { mpxsConns: file.options.mpxsConns }), appStatus: file.options.appStatus, strict: o.strict ?? file.options.strict };
    const scale = o.timeoutScale ?? 1;
    const t = file.options.timeouts;
    const timeouts = { replyMs: Math.round(t.replyMs * scale), closeMs: Math.round(t.closeMs * scale), quietMs: Math.round(t.quietMs * scale) };
    const build: BuildOptions = { baseParams, keepConn: profile.keepConn };
    const runner = new CaseRunner(
      { ...session, baseParams, profile },
      { model, build, barrier: file.options.barrier && session.barrier, timeouts, onNote: (text) => say([`  · ${escapeTerminal(text)}`]) },
    );
    say([`fcgispec replay: ${basename(o.file)} (seed ${file.seed}, path ${file.path}, recorded ${file.verdict} against ${file.target.name}) on ${opened.target.description}`]);
    const startedAt = new Date();
    const outcome = await runner.run(file.plan);
    const { verdict, expected, actual } = classify({ end: { kind: 'finished' }, findings: outcome.findings, observations: {} });
    const failing = failingRequirements(outcome.findings);
    // What the diagnosis found came from running the plan without a part of it: a replay judges the case alone.
    const judged = file.findings.filter((f) => !isDiagnosis(f));
    const recordedFailing = failingRequirements(judged);
    const recordedVerdict = classify({ end: { kind: 'finished' }, findings: judged, observations: {} }).verdict;
    const same = verdict === recordedVerdict && recordedFailing.every((r) => failing.includes(r));
    const transcript = caseTranscript(outcome.execution);
    const result: ScenarioResult = {
      id: `fuzz.replay.s${file.seed}`,
      title: `replay of ${file.title}`,
      group: 'fuzz',
      requirements: failing.length > 0 ? failing : recordedFailing.length > 0 ? recordedFailing : fuzzCoverage(profile.probe),
      verdict,
      expected,
      actual,
      findings: outcome.findings,
      observations: { records: wireRecordCount(outcome.wire), recordedVerdict: file.verdict, sameVerdict: same },
      durationMs: outcome.durationMs,
      ...(transcript ? { transcript } : {}),
      replay: { seed: file.seed, path: file.path, file: o.file },
    };
    say(
      [
        ...resultLines(result),
        ...(transcript ? transcriptText(transcript).map((l) => `       ${escapeTerminal(l)}`) : []),
        same ? `same verdict as recorded (${recordedVerdict}${recordedFailing.length ? `: ${recordedFailing.join(', ')}` : ''})` : `verdict differs: recorded ${recordedVerdict}${recordedFailing.length ? ` (${recordedFailing.join(', ')})` : ''}, now ${verdict}${failing.length ? ` (${failing.join(', ')})` : ''}`,
      ],
      true,
    );
    const report = buildReport({
      tool: { name: 'fcgispec', version: toolVersion(), suiteVersion: toolVersion() },
      target: { name: opened.name, address: opened.address, mode: 'app', profile: { ...profile, source: `replay file ${basename(o.file)}` }, params: baseParams },
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(outcome.durationMs),
      seed: file.seed,
      strict: model.strict,
      results: [result],
      catalog: requirements,
    });
    const written = writeReports(report, outputs);
    if (written.length > 0) say([`reports written: ${written.join(', ')}`], true);
    return { result, recorded: file, same, exitCode: exitCodeOf([result]), report };
  } finally {
    await opened.target.stop();
  }
}

// ───────────────────────────── yargs ─────────────────────────────

interface TargetArgv {
  target?: string;
  spawn?: string;
  'spawn-unix'?: boolean;
  embedded?: boolean;
  fault?: string[];
  mpx?: boolean;
  param?: string[];
  cgiDefaults?: boolean;
  probe?: boolean;
  profile?: string;
  strict?: boolean;
  'timeout-scale'?: number;
  name?: string;
  quiet?: boolean;
  verbose?: boolean;
  json?: string;
  junit?: string;
  html?: string;
  md?: string;
  out?: string;
}

interface FuzzArgv extends TargetArgv {
  runs?: number;
  time?: string;
  seed?: number;
  path?: string;
  'max-params'?: number;
  'max-stdin'?: number;
  connections?: number;
  shard?: string;
  'shrink-time'?: string;
  'max-failures'?: number;
  'replay-dir'?: string;
  'replay-files'?: boolean;
}

interface ReplayArgv extends TargetArgv {
  file: string;
}

const pick = <T extends object, K extends keyof T>(key: K, value: T[K] | undefined): Partial<T> => (value === undefined ? {} : ({ [key]: value } as Partial<T>));

function targetOptionsFrom(a: TargetArgv): TargetOptions {
  return {
    ...pick<TargetOptions, 'target'>('target', a.target),
    ...pick<TargetOptions, 'spawn'>('spawn', a.spawn),
    ...pick<TargetOptions, 'spawnUnix'>('spawnUnix', a['spawn-unix']),
    ...pick<TargetOptions, 'embedded'>('embedded', a.embedded),
    ...pick<TargetOptions, 'faults'>('faults', a.fault?.map(String)),
    ...pick<TargetOptions, 'mpx'>('mpx', a.mpx),
    ...pick<TargetOptions, 'params'>('params', a.param?.map(String)),
    ...pick<TargetOptions, 'cgiDefaults'>('cgiDefaults', a.cgiDefaults),
    ...pick<TargetOptions, 'probe'>('probe', a.probe),
    ...pick<TargetOptions, 'profile'>('profile', a.profile),
    ...pick<TargetOptions, 'strict'>('strict', a.strict),
    ...pick<TargetOptions, 'timeoutScale'>('timeoutScale', a['timeout-scale']),
    ...pick<TargetOptions, 'name'>('name', a.name),
    ...pick<TargetOptions, 'quiet'>('quiet', a.quiet),
    ...pick<TargetOptions, 'verbose'>('verbose', a.verbose),
    ...pick<TargetOptions, 'json'>('json', a.json),
    ...pick<TargetOptions, 'junit'>('junit', a.junit),
    ...pick<TargetOptions, 'html'>('html', a.html),
    ...pick<TargetOptions, 'md'>('md', a.md),
    ...pick<TargetOptions, 'out'>('out', a.out),
  };
}

/** Maps parsed argv to `FuzzOptions` (leaving out what was not given). */
export function fuzzOptionsFrom(a: FuzzArgv): FuzzOptions {
  return {
    ...targetOptionsFrom(a),
    ...pick<FuzzOptions, 'runs'>('runs', a.runs),
    ...pick<FuzzOptions, 'time'>('time', a.time === undefined ? undefined : String(a.time)),
    ...pick<FuzzOptions, 'seed'>('seed', a.seed),
    ...pick<FuzzOptions, 'path'>('path', a.path === undefined ? undefined : String(a.path)),
    ...pick<FuzzOptions, 'maxParams'>('maxParams', a['max-params']),
    ...pick<FuzzOptions, 'maxStdin'>('maxStdin', a['max-stdin']),
    ...pick<FuzzOptions, 'connections'>('connections', a.connections),
    ...pick<FuzzOptions, 'shard'>('shard', a.shard === undefined ? undefined : String(a.shard)),
    ...pick<FuzzOptions, 'shrinkTime'>('shrinkTime', a['shrink-time'] === undefined ? undefined : String(a['shrink-time'])),
    ...pick<FuzzOptions, 'maxFailures'>('maxFailures', a['max-failures']),
    ...pick<FuzzOptions, 'replayDir'>('replayDir', a['replay-dir']),
    ...pick<FuzzOptions, 'replayFiles'>('replayFiles', a['replay-files']),
  };
}

function targetBuilder<T>(y: Argv<T>): Argv<T> {
  const withTarget = y
    .option('spawn', { type: 'string', describe: 'start "CMD ARGS" with a listening socket as fd 0 (restarted when it dies)' })
    .option('spawn-unix', { type: 'boolean', describe: 'with --spawn: listen on a Unix socket instead of 127.0.0.1' })
    .option('embedded', { type: 'boolean', describe: 'fuzz the reference responder in-process (implies --probe)' })
    .option('fault', { type: 'string', array: true, describe: 'with --embedded: inject a fault, NAME[=ARG][@N] (see fcgispec serve --help)' })
    .option('mpx', { type: 'boolean', describe: 'with --embedded: --no-mpx makes the reference refuse concurrent requests (FCGI_CANT_MPX_CONN)' })
    .option('param', { type: 'string', array: true, describe: 'NAME=VALUE added to every request (e.g. SCRIPT_FILENAME)' })
    .option('probe', { type: 'boolean', describe: 'the target implements the probe contract: answers are checked' })
    .option('cgi-defaults', { type: 'boolean', default: true, describe: 'add the usual CGI/1.1 variables to every request; --no-cgi-defaults leaves them out' })
    .option('profile', { type: 'string', describe: 'JSON file: roles, multiplex, keepConn, maxConns, maxReqs' })
    .option('strict', { type: 'boolean', describe: 'should-level findings fail' })
    .option('timeout-scale', { type: 'number', describe: 'multiply every time limit' })
    .option('name', { type: 'string', describe: 'target name in reports' })
    .option('quiet', { type: 'boolean', describe: 'print only the summary and the failures' })
    .option('verbose', { type: 'boolean', describe: 'print whole transcripts' }) as Argv<T>;
  return reportFlagOptions(withTarget, ' (and replay files to DIR/replays)');
}

function fuzzBuilder(y: Argv<object>): Argv<FuzzArgv> {
  return targetBuilder(y.positional('target', { type: 'string', describe: 'tcp:HOST:PORT, HOST:PORT or unix:PATH' }))
    .option('runs', { type: 'number', describe: `request plans to try (default ${fuzzDefaults.runs})` })
    .option('time', { type: 'string', describe: 'fuzz for this long instead: 60s, 10m, …' })
    .option('seed', { type: 'number', describe: 'seed of the run (default: random, printed)' })
    .option('path', { type: 'string', describe: 'with --seed: replay the one case at this fast-check path (as printed)' })
    .option('max-params', { type: 'number', describe: `bytes of a request's own param values, at most (default ${fuzzDefaults.maxParams})` })
    .option('max-stdin', { type: 'number', describe: `bytes of FCGI_STDIN (and FCGI_DATA) per request, at most (default ${fuzzDefaults.maxStdin})` })
    .option('connections', { type: 'number', describe: `connections per plan, at most (default ${fuzzDefaults.connections})` })
    .option('shard', { type: 'string', describe: 'K/N: this job draws the K-th of N disjoint parts of the seed space (needs --seed)' })
    .option('shrink-time', { type: 'string', describe: 'time to shrink each failure (default 60s)' })
    .option('max-failures', { type: 'number', describe: `stop after this many distinct failures (default ${fuzzDefaults.maxFailures})` })
    .option('replay-dir', { type: 'string', describe: 'folder for replay files (default fcgispec-replays, or DIR/replays with --out)' })
    .option('replay-files', { type: 'boolean', describe: '--no-replay-files: write none' }) as unknown as Argv<FuzzArgv>;
}

function replayBuilder(y: Argv<object>): Argv<ReplayArgv> {
  return targetBuilder(
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'a replay file written by fcgispec fuzz' })
      .positional('target', { type: 'string', describe: 'tcp:HOST:PORT, HOST:PORT or unix:PATH' }),
  ) as unknown as Argv<ReplayArgv>;
}

/** The yargs module of `fcgispec fuzz`. */
export const fuzzCommand: CommandModule<object, FuzzArgv> = {
  command: 'fuzz [target]',
  describe: 'fuzz a FastCGI application with request plans; shrink failures and write replay files',
  builder: fuzzBuilder,
  handler: async (argv) => {
    process.exitCode = await runFuzz(fuzzOptionsFrom(argv));
  },
};

/** The yargs module of `fcgispec replay`. */
export const replayCommand: CommandModule<object, ReplayArgv> = {
  command: 'replay <file> [target]',
  describe: 'run a fuzz replay file against a target and compare the verdict with the recorded one',
  builder: replayBuilder,
  handler: async (argv) => {
    process.exitCode = await runReplay({ ...targetOptionsFrom(argv), file: String(argv.file) });
  },
};
