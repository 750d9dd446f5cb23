/**
 * What a scenario is: a declarative object (id, title, requirement ids, what it needs) plus a run function.
 * The runner (`harness/runner.ts`) supplies the context; scenarios never touch sockets, clocks or reports
 * directly, so the same scenario runs against TCP, Unix and spawned targets.
 */
import type { RequirementId } from '../spec/requirements.ts';
import type { RoleName } from '../spec/constants.ts';
import type { DecodedRecord, EncodeOptions, RecordInit, StreamEncodeOptions } from '../reference/codec/record.ts';
import type { Lenient, EndRequestBody } from '../reference/codec/bodies.ts';
import type { ParamsInit } from '../reference/codec/name-value.ts';
import type { PeerEvent, RawConnection, CloseKind } from '../reference/client/raw-connection.ts';

/** The capabilities a target claims (from `--profile`, or proposed from FCGI_GET_VALUES). */
export interface Profile {
  readonly roles: readonly RoleName[];
  /** FCGI_MPXS_CONNS = "1". */
  readonly multiplex: boolean;
  /** Honours FCGI_KEEP_CONN (keeps the connection open). */
  readonly keepConn: boolean;
  readonly maxConns?: number;
  readonly maxReqs?: number;
  /** The target implements the probe contract (`--probe`). */
  readonly probe: boolean;
}

/** What a scenario needs from the target; the runner skips it with a reason when the profile lacks it. */
export interface Needs {
  readonly probe?: boolean;
  readonly roles?: readonly RoleName[];
  readonly multiplex?: boolean;
  readonly keepConn?: boolean;
  /** The harness starts the application itself (`--spawn`): the runner skips the scenario otherwise. @see §2.2 */
  readonly spawn?: boolean;
}

/** How a process ended: its exit status, or the signal that ended it. @see §7 */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** The transports a spawned application's listening socket (fd 0) can have. @see §2.2 */
export type SpawnTransport = 'tcp' | 'unix';

/** How a process scenario starts its own instance of the application. */
export interface LaunchOptions {
  /** fd 0 listens on 127.0.0.1 (`tcp`) or on a Unix socket in a temporary folder (`unix`). */
  readonly transport: SpawnTransport;
  /** Changes to the target's environment: a string sets the variable, `null` removes it. */
  readonly env?: Readonly<Record<string, string | null>>;
}

/** An instance of the application a process scenario started; stopped by the harness when the scenario ends. */
export interface SpawnedApp {
  readonly transport: SpawnTransport;
  /** Opens a connection to this instance's listening socket; its traffic goes into the scenario's transcript. */
  connect(): Promise<ScenarioConnection>;
  /** Sends a signal to the process (not its group); false when it has already ended. */
  signal(signal: NodeJS.Signals): boolean;
  /** How the process ended, or `undefined` if it still runs after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<ProcessExit | undefined>;
  /** The end of what the process wrote on stdout and stderr. */
  output(maxBytes?: number): string;
}

/** What running the application with fd 0 a pipe (as a CGI program is run) gave. @see §2.2 */
export interface PipedRun {
  /** How it ended; `undefined` when it still ran at the deadline and was killed. */
  readonly exit: ProcessExit | undefined;
  /** stdout, at most 64 KiB. */
  readonly stdout: Uint8Array;
  /** The end of stderr, as text. */
  readonly stderr: string;
  readonly elapsedMs: number;
}

/** Control over the application's process, given to scenarios only when the harness spawned it. @see §2.2 §3.2 §7 */
export interface SpawnControl {
  /** The transport of the target's own listening socket. */
  readonly transport: SpawnTransport;
  /** Starts another instance of the target's command with a fresh listening socket as fd 0. */
  launch(options: LaunchOptions): Promise<SpawnedApp>;
  /** Runs the target's command with fd 0 a pipe carrying `stdin` (then closed) and `env` added, as a web server runs a CGI program. */
  runPiped(options: { readonly env: Readonly<Record<string, string>>; readonly stdin: Uint8Array; readonly timeoutMs: number }): Promise<PipedRun>;
}

/** Requests on a connection as a scenario plans them. Defaults make a valid Responder request. */
export interface RequestPlan {
  readonly requestId: number;
  /** Role number (default FCGI_RESPONDER); any 16-bit value, known or not. */
  readonly role?: number;
  /** BEGIN_REQUEST flags (default 0: the application closes after the request). */
  readonly flags?: number;
  /** Reserved bytes of the BEGIN_REQUEST body. */
  readonly beginReserved?: Uint8Array;
  /** Params; the target's base params (`--param`) are added first unless `baseParams: false`. */
  readonly params?: ParamsInit;
  readonly baseParams?: boolean;
  /** Params stream bytes exactly as given, instead of encoding `params`. */
  readonly paramsBytes?: Uint8Array;
  readonly stdin?: Uint8Array;
  /** FCGI_DATA stream (Filter role); sent only when given. */
  readonly data?: Uint8Array;
  /** How the streams are cut into records. */
  readonly records?: StreamEncodeOptions;
  /** Write piece sizes (cycled), each its own write: `[1]` writes byte by byte. Default: one write. */
  readonly writes?: readonly number[];
  /** Leave out parts on purpose. */
  readonly omit?: { readonly paramsEnd?: boolean; readonly stdin?: boolean; readonly stdinEnd?: boolean };
}

/** What came back for one request id, gathered until FCGI_END_REQUEST, the close, or the deadline. */
export interface ResponseObservation {
  readonly requestId: number;
  /** How the wait ended. */
  readonly ending: 'end-request' | 'closed' | 'timeout';
  readonly end?: Lenient<EndRequestBody>;
  readonly closeHow?: CloseKind;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** Whether the empty terminating record of each stream was seen before FCGI_END_REQUEST. */
  readonly stdoutTerminated: boolean;
  readonly stderrTerminated: boolean;
  /** Every record received for this id, in order. */
  readonly records: readonly DecodedRecord[];
  /** The parsed CGI response in stdout, when it has a header block. */
  readonly cgi?: CgiResponse;
  readonly elapsedMs: number;
}

/** A CGI response (§6.1: the application sets status through a `Status:` header). */
export interface CgiResponse {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/** One connection of a scenario. Its traffic goes into the scenario's transcript. */
export interface ScenarioConnection {
  /** The connection number within the scenario (0-based). */
  readonly index: number;
  readonly raw: RawConnection;
  send(bytes: Uint8Array): Promise<void>;
  sendRecord(record: RecordInit, options?: EncodeOptions): Promise<void>;
  /** Sends a whole request (BEGIN_REQUEST, PARAMS, STDIN, DATA) as planned. */
  sendRequest(plan: RequestPlan): Promise<void>;
  /** The encoded bytes `sendRequest` would send for a plan (for scenarios that cut or mix them). */
  encodeRequest(plan: RequestPlan): Uint8Array;
  /**
   * Collects the response of `requestId`. Records of other ids are kept for their own `readResponse`;
   * management records are kept for `nextManagement`.
   */
  readResponse(requestId: number, timeoutMs?: number): Promise<ResponseObservation>;
  /** The next management record (request id 0), or the close or timeout. */
  nextManagement(timeoutMs?: number): Promise<PeerEvent>;
  /** The next event of any kind, bypassing the per-id sorting. */
  nextEvent(timeoutMs?: number): Promise<PeerEvent>;
  /** Waits for the peer to close: `closed` with how, or `open` if it did not within the time. */
  waitClose(timeoutMs?: number): Promise<{ readonly closed: true; readonly how: CloseKind; readonly atMs: number } | { readonly closed: false }>;
  /** Records received and not yet taken by any read, for checks that nothing else arrived. */
  unclaimed(): readonly DecodedRecord[];
  note(text: string): void;
  close(): void;
}

/** Records findings. Verdicts follow the requirement's level: must → fail, should → warn, may/info → info. */
export interface Check {
  /** The target broke `requirement`; the run continues. */
  violation(requirement: RequirementId, expected: string, actual: string): void;
  /** Records `violation` unless `ok`; returns `ok`. */
  that(ok: boolean, requirement: RequirementId, expected: string, actual: string): boolean;
  equal<T>(actual: T, expected: T, requirement: RequirementId, what: string): boolean;
  /** An observation recorded as a value (info), e.g. `observe('FCGI_MAX_REQS', '50')`. */
  observe(key: string, value: string | number | boolean): void;
}

/** Time limits, already multiplied by `--timeout-scale`. */
export interface Timeouts {
  /** How long to wait for an answer the target should give promptly. */
  readonly replyMs: number;
  /** How long to wait for a close the target should make. */
  readonly closeMs: number;
  /** How long to wait to conclude that nothing more comes (quiet period). */
  readonly quietMs: number;
  /** Multiply another duration by the scale. */
  scale(ms: number): number;
}

export interface ScenarioContext {
  readonly profile: Profile;
  /** Base params (`--param`), added to every planned request. */
  readonly baseParams: Readonly<Record<string, string>>;
  readonly timeouts: Timeouts;
  readonly check: Check;
  /** Opens a connection to the target. */
  connect(): Promise<ScenarioConnection>;
  /** Ends the scenario as `skip` with the reason. */
  skip(reason: string): never;
  /** Aborted when the watchdog fires; long waits should stop then. */
  readonly signal: AbortSignal;
  /** Sleeps, noted in the transcript; resolves early when the watchdog fires. */
  sleep(ms: number): Promise<void>;
  /** Seeded random integers in [min, max], for scenarios that pick values. */
  randomInt(min: number, max: number): number;
  /** The application's process, when the harness spawned it (`--spawn`); scenarios that need it declare `needs.spawn`. */
  readonly spawn?: SpawnControl;
}

/** The groups, in the spec's order; the runner prints and reports by group. */
export const scenarioGroups = [
  'record-layer',
  'management',
  'begin-request',
  'params',
  'oversized-params',
  'stdin',
  'output',
  'keep-conn',
  'multiplexing',
  'abort',
  'request-ids',
  'robustness',
  'limits',
  'process',
  'web-server',
] as const;
export type ScenarioGroup = (typeof scenarioGroups)[number];

export interface Scenario {
  /** Stable, hand-written, `group.name[.variant]`; never positional. */
  readonly id: `${string}.${string}`;
  readonly title: string;
  readonly group: ScenarioGroup;
  readonly requirements: readonly [RequirementId, ...RequirementId[]];
  readonly needs?: Needs;
  /** Sends hostile input: the runner checks liveness afterwards. */
  readonly hostile?: boolean;
  /** Watchdog deadline in ms before scaling (default 10 000). */
  readonly timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

/** Identity, for inference and one place to validate. */
export function defineScenario<const S extends Scenario>(scenario: S): S {
  return scenario;
}

/** Thrown by `ctx.skip`. */
export class ScenarioSkip extends Error {
  override readonly name = 'ScenarioSkip';
}
