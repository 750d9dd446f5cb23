/**
 * What a scenario runs against: `ScenarioContext`, its connections and its `Check`. One instance per scenario
 * run; the runner reads the findings, observations and connections back when the scenario ends.
 *
 * Reads on a connection go through one demultiplexer, so that records of other request ids, management
 * records and legal interleavings (FCGI_STDERR between FCGI_STDOUT, a close after FCGI_END_REQUEST) never
 * reach a read that did not ask for them. @see §3.3 "Request IDs", §5.3
 */
import { isDeepStrictEqual } from 'node:util';
import type { Address } from '../reference/address.ts';
import { parseCgiResponse } from '../reference/cgi.ts';
import { decodeEndRequestBody, encodeBeginRequestBody } from '../reference/codec/bodies.ts';
import { encodeNameValuePairs, paramsToPairs, toText, type ParamsInit } from '../reference/codec/name-value.ts';
import {
  concatBytes,
  encodeRecord,
  encodeStream,
  type DecodedRecord,
  type EncodeOptions,
  type RecordInit,
} from '../reference/codec/record.ts';
import { abortableSleep } from '../reference/sleep.ts';
import { RawConnection, type CloseKind, type PeerEvent } from '../reference/client/raw-connection.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../spec/constants.ts';
import type { Level } from '../spec/requirement.ts';
import type { RequirementId } from '../spec/requirements.ts';
import type { Finding, Verdict } from '../reports/model.ts';
import { verdictRank } from '../reports/model.ts';
import {
  ScenarioSkip,
  type CgiResponse,
  type Check,
  type Profile,
  type RequestPlan,
  type ResponseObservation,
  type ScenarioConnection,
  type ScenarioContext,
  type SpawnControl,
  type SpawnedApp,
  type Timeouts,
} from '../suites/define.ts';
import { HarnessError } from './errors.ts';
import type { LaunchedProcess, ProcessLauncher } from './target.ts';

/** Default time limits before `--timeout-scale`. */
export const defaultTimeouts = { replyMs: 2000, closeMs: 2000, quietMs: 200 } as const;

/** The time limits of a run, multiplied by `scale`. */
export function makeTimeouts(scale = 1): Timeouts {
  const s = (ms: number): number => Math.max(1, Math.round(ms * scale));
  return { replyMs: s(defaultTimeouts.replyMs), closeMs: s(defaultTimeouts.closeMs), quietMs: s(defaultTimeouts.quietMs), scale: s };
}

/** The verdict a broken requirement of `level` gives: must → fail, should → warn (fail when strict), may/info → info. */
export function verdictForLevel(level: Level, strict: boolean): Verdict {
  switch (level) {
    case 'must':
      return 'fail';
    case 'should':
      return strict ? 'fail' : 'warn';
    case 'may':
    case 'info':
      return 'info';
  }
}

/** Renders a value for `expected`/`actual`: bytes as text when printable, else hex, both capped. */
export function show(value: unknown, cap = 96): string {
  if (value instanceof Uint8Array) {
    const printable = value.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
    const head = value.subarray(0, cap);
    const body = printable ? JSON.stringify(toText(head)) : `0x${Buffer.from(head).toString('hex')}`;
    return value.length > cap ? `${body}… (${value.length} bytes)` : body;
  }
  if (typeof value === 'string') return value.length > cap * 2 ? `${JSON.stringify(value.slice(0, cap * 2))}… (${value.length} chars)` : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? show(v, 32) : v));
    return text.length > cap * 2 ? `${text.slice(0, cap * 2)}…` : text;
  } catch {
    return String(value);
  }
}

/** Most findings a scenario keeps; later ones are counted, and kept anyway when worse than every kept one. */
export const MAX_FINDINGS = 200;

/** `Check` that records findings with verdicts from the catalog's levels. Inert once `active()` is false. */
export class FindingRecorder implements Check {
  readonly findings: Finding[] = [];
  readonly observations: Record<string, string | number | boolean> = {};
  omitted = 0;
  readonly #levelOf: (id: RequirementId) => Level;
  readonly #strict: boolean;
  readonly #active: () => boolean;

  constructor(levelOf: (id: RequirementId) => Level, strict: boolean, active: () => boolean = () => true) {
    this.#levelOf = levelOf;
    this.#strict = strict;
    this.#active = active;
  }

  violation(requirement: RequirementId, expected: string, actual: string): void {
    if (!this.#active()) return;
    this.add({ requirement, verdict: verdictForLevel(this.#levelOf(requirement), this.#strict), expected, actual });
  }

  that(ok: boolean, requirement: RequirementId, expected: string, actual: string): boolean {
    if (!ok) this.violation(requirement, expected, actual);
    return ok;
  }

  equal<T>(actual: T, expected: T, requirement: RequirementId, what: string): boolean {
    const ok = isDeepStrictEqual(actual, expected);
    if (!ok) this.violation(requirement, `${what}: ${show(expected)}`, `${what}: ${show(actual)}`);
    return ok;
  }

  observe(key: string, value: string | number | boolean): void {
    if (!this.#active()) return;
    this.observations[key] = value;
  }

  /** Adds a finding whose verdict the caller chose (the runner's liveness finding). */
  add(finding: Finding): void {
    const duplicate = this.findings.some(
      (f) => f.requirement === finding.requirement && f.expected === finding.expected && f.actual === finding.actual && f.verdict === finding.verdict,
    );
    if (duplicate) return;
    if (this.findings.length >= MAX_FINDINGS) {
      this.omitted++;
      if (this.findings.some((f) => verdictRank[f.verdict] >= verdictRank[finding.verdict])) return;
    }
    this.findings.push(finding);
  }
}

/** A connection of a scenario, as the runner sees it for the transcript. */
export interface ConnectionLog {
  readonly index: number;
  readonly raw: RawConnection;
  /** When it was opened, in ms since the scenario started. */
  readonly openedAtMs: number;
}

/** A note at scenario level (sleeps, the watchdog), in ms since the scenario started. */
export interface ScenarioNote {
  readonly atMs: number;
  readonly text: string;
}

/** Bytes of FCGI_STDOUT (and, separately, FCGI_STDERR) one `readResponse` keeps. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Bytes of received records the demultiplexer holds for reads that have not asked yet. */
export const MAX_QUEUED_BYTES = 256 * 1024 * 1024;

/** Parses the CGI response in a response's stdout, `undefined` when it is not one. */
export type CgiParser = (stdout: Uint8Array) => CgiResponse | undefined;

/** The default `CgiParser`: `parseCgiResponse` of `reference/cgi.ts`. @see §6.1 */
export const parseCgi: CgiParser = (stdout) => {
  const r = parseCgiResponse(stdout);
  return r.kind === 'response' ? r.response : undefined;
};

interface Queued {
  readonly record: DecodedRecord;
  readonly atMs: number;
}

type Closed = Extract<PeerEvent, { kind: 'closed' }>;

// Records an application sends for a request; with request id 0 they belong to `readResponse(0)`, anything
// else with id 0 is management.
const responseTypes: ReadonlySet<number> = new Set([FCGI_STDOUT, FCGI_STDERR, FCGI_END_REQUEST]);

/** Thrown by a connection or context call made after the scenario ended (it outlived its watchdog). */
export class ScenarioOver extends HarnessError {
  constructor() {
    super('E_TIMEOUT', 'the scenario is over: its connections are closed');
  }
}

/** Options of a scenario connection. */
export interface ConnectionOptions {
  readonly index: number;
  /** True once the scenario is over (finished or stopped by the watchdog): every call then throws. */
  readonly over?: () => boolean;
  readonly baseParams: Readonly<Record<string, string>>;
  readonly timeouts: Timeouts;
  readonly parseCgi?: CgiParser;
}

/**
 * A scenario's connection over `RawConnection`. One pump moves every received event into an arrival-ordered
 * queue; each read takes only what it asked for, so concurrent reads of different ids never steal records.
 */
export class HarnessConnection implements ScenarioConnection {
  readonly index: number;
  readonly raw: RawConnection;
  readonly #options: ConnectionOptions;
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #closed: Closed | undefined;
  #pumping = false;
  #wakers = new Set<() => void>();

  constructor(raw: RawConnection, options: ConnectionOptions) {
    this.raw = raw;
    this.index = options.index;
    this.#options = options;
  }

  send(bytes: Uint8Array): Promise<void> {
    this.#guard();
    return this.raw.sendBytes(bytes);
  }

  sendRecord(record: RecordInit, options?: EncodeOptions): Promise<void> {
    this.#guard();
    return this.raw.sendRecord(record, options);
  }

  async sendRequest(plan: RequestPlan): Promise<void> {
    this.#guard();
    const bytes = this.encodeRequest(plan);
    if (plan.writes && plan.writes.length > 0) await this.raw.sendSplit(bytes, plan.writes);
    else await this.raw.sendBytes(bytes);
  }

  encodeRequest(plan: RequestPlan): Uint8Array {
    return encodeRequestPlan(plan, this.#options.baseParams);
  }

  async readResponse(requestId: number, timeoutMs?: number): Promise<ResponseObservation> {
    this.#guard();
    const started = performance.now();
    const deadline = started + (timeoutMs ?? this.#options.timeouts.replyMs);
    const records: DecodedRecord[] = [];
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let dropped = 0;
    let stdoutTerminated = false;
    let stderrTerminated = false;
    const mine = (q: Queued): boolean => q.record.requestId === requestId && (requestId !== 0 || responseTypes.has(q.record.type));
    for (;;) {
      for (let q = this.#take(mine); q !== undefined; q = this.#take(mine)) {
        const r = q.record;
        if (r.type === FCGI_STDOUT || r.type === FCGI_STDERR) {
          const out = r.type === FCGI_STDOUT;
          if (r.content.length === 0) {
            if (out) stdoutTerminated = true;
            else stderrTerminated = true;
          } else if ((out ? stdoutBytes : stderrBytes) + r.content.length > MAX_RESPONSE_BYTES) {
            dropped += r.content.length;
            continue;
          } else if (out) {
            stdout.push(r.content);
            stdoutBytes += r.content.length;
          } else {
            stderr.push(r.content);
            stderrBytes += r.content.length;
          }
        }
        records.push(r);
        if (r.type === FCGI_END_REQUEST) {
          return this.#observation(requestId, 'end-request', started, records, stdout, stderr, stdoutTerminated, stderrTerminated, dropped, r);
        }
      }
      if (this.#closed) return this.#observation(requestId, 'closed', started, records, stdout, stderr, stdoutTerminated, stderrTerminated, dropped);
      if (!(await this.#wait(deadline))) {
        return this.#observation(requestId, 'timeout', started, records, stdout, stderr, stdoutTerminated, stderrTerminated, dropped);
      }
    }
  }

  async nextManagement(timeoutMs?: number): Promise<PeerEvent> {
    this.#guard();
    const deadline = performance.now() + (timeoutMs ?? this.#options.timeouts.replyMs);
    return this.#nextMatching((q) => q.record.requestId === 0 && !responseTypes.has(q.record.type), deadline, timeoutMs);
  }

  async nextEvent(timeoutMs?: number): Promise<PeerEvent> {
    this.#guard();
    const deadline = performance.now() + (timeoutMs ?? this.#options.timeouts.replyMs);
    return this.#nextMatching(() => true, deadline, timeoutMs);
  }

  async waitClose(timeoutMs?: number): Promise<{ readonly closed: true; readonly how: CloseKind; readonly atMs: number } | { readonly closed: false }> {
    this.#guard();
    const deadline = performance.now() + (timeoutMs ?? this.#options.timeouts.closeMs);
    for (;;) {
      if (this.#closed) return { closed: true, how: this.#closed.how, atMs: this.#closed.atMs };
      if (!(await this.#wait(deadline))) return { closed: false };
    }
  }

  unclaimed(): readonly DecodedRecord[] {
    return this.#queue.map((q) => q.record);
  }

  note(text: string): void {
    this.raw.note(text);
  }

  close(): void {
    this.raw.destroy();
  }

  // A scenario that outlived its watchdog must not spin on a closed connection: its calls throw instead.
  #guard(): void {
    if (this.#options.over?.()) throw new ScenarioOver();
  }

  async #nextMatching(match: (q: Queued) => boolean, deadline: number, timeoutMs: number | undefined): Promise<PeerEvent> {
    const started = performance.now();
    for (;;) {
      const q = this.#take(match);
      if (q) return { kind: 'record', record: q.record, atMs: q.atMs };
      if (this.#closed) return this.#closed;
      if (!(await this.#wait(deadline))) {
        return { kind: 'timeout', afterMs: Math.round(timeoutMs ?? performance.now() - started), atMs: this.raw.now() };
      }
    }
  }

  #take(match: (q: Queued) => boolean): Queued | undefined {
    const i = this.#queue.findIndex(match);
    if (i < 0) return undefined;
    const [q] = this.#queue.splice(i, 1);
    if (q) this.#queuedBytes -= q.record.content.length;
    return q;
  }

  // Resolves true when something arrived (or the connection closed), false at the deadline.
  #wait(deadline: number): Promise<boolean> {
    this.#pump();
    const remaining = deadline - performance.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakers.delete(wake);
        resolve(false);
      }, remaining);
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve(true);
      };
      this.#wakers.add(wake);
    });
  }

  // One reader of the raw connection for the whole life of this object; it stops at the close.
  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    void (async () => {
      while (!this.#closed) {
        const event = await this.raw.next(60_000);
        if (event.kind === 'timeout') continue;
        if (event.kind === 'closed') this.#closed = event;
        else {
          this.#queue.push({ record: event.record, atMs: event.atMs });
          this.#queuedBytes += event.record.content.length;
          if (this.#queuedBytes > MAX_QUEUED_BYTES) {
            this.raw.note(`more than ${MAX_QUEUED_BYTES} bytes received and not read: closing`);
            this.raw.destroy();
          }
        }
        for (const wake of [...this.#wakers]) wake();
      }
      this.#pumping = false;
    })();
  }

  #observation(
    requestId: number,
    ending: ResponseObservation['ending'],
    started: number,
    records: readonly DecodedRecord[],
    stdoutParts: readonly Uint8Array[],
    stderrParts: readonly Uint8Array[],
    stdoutTerminated: boolean,
    stderrTerminated: boolean,
    dropped: number,
    end?: DecodedRecord,
  ): ResponseObservation {
    if (dropped > 0) this.raw.note(`request ${requestId}: ${dropped} bytes of output beyond ${MAX_RESPONSE_BYTES} not kept`);
    const stdout = concatBytes(stdoutParts);
    const cgi = stdout.length > 0 ? (this.#options.parseCgi ?? parseCgi)(stdout) : undefined;
    return {
      requestId,
      ending,
      ...(end ? { end: decodeEndRequestBody(end.content) } : {}),
      ...(ending === 'closed' && this.#closed ? { closeHow: this.#closed.how } : {}),
      stdout,
      stderr: concatBytes(stderrParts),
      stdoutTerminated,
      stderrTerminated,
      records,
      ...(cgi ? { cgi } : {}),
      elapsedMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }
}

const EMPTY = new Uint8Array(0);

/** Encodes a request as planned: BEGIN_REQUEST, PARAMS, STDIN, then DATA when given. @see §5.1–5.3 */
export function encodeRequestPlan(plan: RequestPlan, baseParams: Readonly<Record<string, string>>): Uint8Array {
  const id = plan.requestId;
  const parts: Uint8Array[] = [
    encodeRecord({
      type: FCGI_BEGIN_REQUEST,
      requestId: id,
      content: encodeBeginRequestBody({ role: plan.role ?? FCGI_RESPONDER, flags: plan.flags ?? 0, ...(plan.beginReserved ? { reserved: plan.beginReserved } : {}) }),
    }),
  ];
  const params = plan.paramsBytes ?? encodeNameValuePairs(mergeParams(plan.baseParams === false ? {} : baseParams, plan.params));
  parts.push(encodeStream(FCGI_PARAMS, id, params, { ...plan.records, terminate: plan.omit?.paramsEnd !== true }));
  if (plan.omit?.stdin !== true) {
    parts.push(encodeStream(FCGI_STDIN, id, plan.stdin ?? EMPTY, { ...plan.records, terminate: plan.omit?.stdinEnd !== true }));
  }
  if (plan.data !== undefined) parts.push(encodeStream(FCGI_DATA, id, plan.data, plan.records));
  return concatBytes(parts);
}

// Base params first; a plan param of the same name replaces the base one, so a scenario can override it.
function mergeParams(base: Readonly<Record<string, string>>, params: ParamsInit | undefined): [Uint8Array, Uint8Array][] {
  const own = params === undefined ? [] : paramsToPairs(params);
  const ownNames = new Set(own.map((p) => toText(p.name)));
  const out: [Uint8Array, Uint8Array][] = [];
  for (const p of paramsToPairs(base)) if (!ownNames.has(toText(p.name))) out.push([p.name, p.value]);
  for (const p of own) out.push([p.name, p.value]);
  return out;
}

/** A small seeded PRNG (mulberry32): fast, and the same sequence for the same seed on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A scenario's own seed: the run's seed mixed with its id, so that order and concurrency don't change it. */
export function scenarioSeed(runSeed: number, scenarioId: string): number {
  let h = 0x811c9dc5 ^ (runSeed >>> 0);
  for (let i = 0; i < scenarioId.length; i++) h = Math.imul(h ^ scenarioId.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What a scenario context needs from the runner. */
export interface ContextOptions {
  readonly address: Address;
  readonly profile: Profile;
  readonly baseParams: Readonly<Record<string, string>>;
  readonly timeouts: Timeouts;
  readonly strict: boolean;
  readonly levelOf: (id: RequirementId) => Level;
  readonly seed: number;
  readonly parseCgi?: CgiParser;
  /** Deadline for opening a connection. */
  readonly connectTimeoutMs?: number;
  /** The target's process launcher, when the harness spawned it: becomes `ctx.spawn`. */
  readonly launcher?: ProcessLauncher;
}

/** The context of one scenario run. `abort()` is the watchdog's lever; `finish()` closes what is left. */
export class HarnessContext implements ScenarioContext {
  readonly profile: Profile;
  readonly baseParams: Readonly<Record<string, string>>;
  readonly timeouts: Timeouts;
  readonly check: FindingRecorder;
  readonly seed: number;
  readonly connections: ConnectionLog[] = [];
  readonly notes: ScenarioNote[] = [];
  readonly #options: ContextOptions;
  readonly #controller = new AbortController();
  readonly #random: () => number;
  readonly #t0 = performance.now();
  readonly #launched: LaunchedProcess[] = [];
  readonly spawn?: SpawnControl;
  #finished = false;

  constructor(options: ContextOptions) {
    this.#options = options;
    this.profile = options.profile;
    this.baseParams = options.baseParams;
    this.timeouts = options.timeouts;
    this.seed = options.seed;
    this.check = new FindingRecorder(options.levelOf, options.strict, () => !this.#finished);
    this.#random = seededRandom(options.seed);
    if (options.launcher) this.spawn = this.#spawnControl(options.launcher);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Milliseconds since the scenario started. */
  now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  connect(): Promise<ScenarioConnection> {
    return this.#connectTo(this.#options.address);
  }

  async #connectTo(address: Address): Promise<ScenarioConnection> {
    if (this.#finished) throw new ScenarioOver();
    const openedAtMs = this.now();
    let raw: RawConnection;
    try {
      raw = await RawConnection.connect(address, { timeoutMs: this.#options.connectTimeoutMs ?? this.timeouts.scale(5000) });
    } catch (err) {
      throw new HarnessError('E_CONNECT', `cannot connect to the target: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (this.#finished) {
      raw.destroy();
      throw new ScenarioOver();
    }
    const index = this.connections.length;
    this.connections.push({ index, raw, openedAtMs });
    return new HarnessConnection(raw, {
      index,
      baseParams: this.baseParams,
      timeouts: this.timeouts,
      over: () => this.#finished,
      ...(this.#options.parseCgi ? { parseCgi: this.#options.parseCgi } : {}),
    });
  }

  skip(reason: string): never {
    throw new ScenarioSkip(reason);
  }

  sleep(ms: number): Promise<void> {
    if (this.#finished) return Promise.reject(new ScenarioOver());
    this.note(`sleeping ${ms} ms`);
    return abortableSleep(ms, this.signal);
  }

  randomInt(min: number, max: number): number {
    const lo = Math.ceil(Math.min(min, max));
    const hi = Math.floor(Math.max(min, max));
    return lo + Math.floor(this.#random() * (hi - lo + 1));
  }

  note(text: string): void {
    this.notes.push({ atMs: this.now(), text });
  }

  /** The watchdog fired: abort waits, stop recording, and close every connection. */
  abort(reason: string): void {
    this.note(reason);
    this.#controller.abort(new HarnessError('E_TIMEOUT', reason));
    this.finish();
  }

  /** Ends the scenario: later findings are ignored and its connections are closed. */
  finish(): void {
    this.#finished = true;
    for (const c of this.connections) c.raw.destroy();
  }

  /** Stops the processes the scenario launched (after `finish`); never rejects. */
  async release(): Promise<void> {
    const launched = this.#launched.splice(0);
    await Promise.all(launched.map((p) => p.stop().catch(() => undefined)));
  }

  // `ctx.spawn`: launches are noted and stopped by `release`; connections go into the scenario's transcript.
  #spawnControl(launcher: ProcessLauncher): SpawnControl {
    return {
      transport: launcher.transport,
      launch: async (options) => {
        if (this.#finished) throw new ScenarioOver();
        const env = Object.entries(options.env ?? {}).map(([k, v]) => (v === null ? `-${k}` : `${k}=${v}`));
        this.note(`launching the application over ${options.transport}${env.length ? ` with ${env.join(' ')}` : ''}`);
        const p = await launcher.launch(options);
        this.#launched.push(p);
        if (this.#finished) {
          await this.release();
          throw new ScenarioOver();
        }
        const app: SpawnedApp = {
          transport: options.transport,
          connect: () => this.#connectTo(p.address),
          signal: (signal) => {
            this.note(`sending ${signal} to the launched application`);
            return p.signal(signal);
          },
          waitExit: (ms) => p.waitExit(ms),
          output: (maxBytes) => p.output(maxBytes),
        };
        return app;
      },
      runPiped: async (options) => {
        if (this.#finished) throw new ScenarioOver();
        this.note(`running the application with fd 0 a pipe (${options.stdin.length} bytes of input)`);
        const run = await launcher.runPiped(options);
        this.note(`it ${run.exit ? (run.exit.signal ? `was ended by ${run.exit.signal}` : `exited with status ${run.exit.code}`) : `still ran after ${options.timeoutMs} ms and was killed`}`);
        return run;
      },
    };
  }
}
