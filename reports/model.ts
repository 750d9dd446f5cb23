/**
 * The one report model. The runner classifies outcomes once; `summarize()` rolls them up once; every writer
 * (JSON, JUnit, HTML, Markdown, the matrix) only renders this model and never reads the clock.
 */
import type { RequirementId } from '../spec/requirements.ts';
import type { Level } from '../spec/requirement.ts';

export const REPORT_SCHEMA_VERSION = 1;

/** Verdicts, best first. `warn` is a should-level finding (`--strict` makes it `fail`); `info` records an observation. */
export const verdicts = ['pass', 'info', 'skip', 'warn', 'fail', 'error'] as const;
export type Verdict = (typeof verdicts)[number];

/** Severity order used by rollups: the worst verdict of the scenarios that check a requirement wins (a `skip` only when all skipped). */
export const verdictRank: Readonly<Record<Verdict, number>> = { pass: 0, info: 1, skip: 2, warn: 3, fail: 4, error: 5 };

/** What a scenario found about one requirement. */
export interface Finding {
  readonly requirement: RequirementId;
  readonly verdict: Verdict;
  readonly expected: string;
  readonly actual: string;
}

/** A record in a transcript, decoded for people; `hex` holds its bytes. */
export interface TranscriptRecord {
  readonly type: number;
  readonly typeName: string;
  readonly requestId: number;
  readonly version: number;
  readonly contentLength: number;
  readonly paddingLength: number;
  readonly reserved: number;
  /** A one-line decoding of the body (pairs, role, status, or text). */
  readonly summary: string;
}

/** One line of a transcript: what was sent or received at which time, or the close. */
export interface TranscriptLine {
  readonly atMs: number;
  readonly dir: 'sent' | 'received' | 'closed' | 'note';
  /** Connection number within the scenario (0-based), when a scenario opens several. */
  readonly conn: number;
  /** The bytes, hex, capped at `Transcript.cap.bytesPerLine` per line. */
  readonly hex?: string;
  readonly byteLength?: number;
  readonly records?: readonly TranscriptRecord[];
  readonly text?: string;
}

export interface Transcript {
  readonly lines: readonly TranscriptLine[];
  /** The caps applied, stated so a reader knows what is missing. */
  readonly cap: { readonly bytesPerConnection: number; readonly bytesPerLine: number; readonly lines: number };
  /** Bytes that were exchanged but not kept because of the caps. */
  readonly omittedBytes: number;
}

/** Replay data of a property-based finding. */
export interface Replay {
  readonly seed: number;
  readonly path: string;
  /** Path of the replay file written for it, if any. */
  readonly file?: string;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  readonly requirements: readonly RequirementId[];
  readonly verdict: Verdict;
  /** Why: for fail/warn the broken requirement's expectation, for skip the reason, for error what went wrong. */
  readonly expected: string;
  readonly actual: string;
  readonly findings: readonly Finding[];
  /** Observations recorded as values (e.g. `FCGI_MAX_REQS` → `"50"`, largest params accepted). */
  readonly observations: Readonly<Record<string, string | number | boolean>>;
  readonly durationMs: number;
  readonly transcript?: Transcript;
  readonly replay?: Replay;
}

/**
 * A requirement's verdict in the rollup: a scenario verdict, `untested` when no scenario that checks it ran,
 * `untestable` when the catalog says nothing on the wire can show it (its `how` says why).
 */
export type RollupVerdict = Verdict | 'untested' | 'untestable';

/** Whether a rollup verdict is a scenario verdict (not `untested` or `untestable`). */
export function isVerdict(v: RollupVerdict): v is Verdict {
  return Object.hasOwn(verdictRank, v);
}

/** Rollup verdicts in the order reports list them. */
export const rollupVerdicts: readonly RollupVerdict[] = [...verdicts, 'untested', 'untestable'];

export interface RequirementRollup {
  readonly id: RequirementId;
  readonly section: string;
  readonly level: Level;
  /** Worst verdict among the scenarios that check it; `untested` when none ran, `untestable` when none can. */
  readonly verdict: RollupVerdict;
  readonly scenarios: readonly string[];
}

export type TargetMode = 'app' | 'client';

export interface ReportTarget {
  /** A short name for matrices, e.g. `php-fpm` or `reference`. */
  readonly name: string;
  readonly address: string;
  readonly mode: TargetMode;
  /** The capability profile the run used. */
  readonly profile: Readonly<Record<string, unknown>>;
  readonly params: Readonly<Record<string, string>>;
}

export interface BenchSection {
  readonly requests: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly bytesSentPerSecond: number;
  readonly bytesReceivedPerSecond: number;
  readonly latencyMs: Readonly<Record<'p50' | 'p90' | 'p99' | 'p99.9' | 'max', number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly protocolStatus: Readonly<Record<string, number>>;
  readonly violations: Readonly<Record<string, number>>;
}

export interface ComplianceReport {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly tool: { readonly name: 'fcgispec'; readonly version: string; readonly suiteVersion: string };
  readonly target: ReportTarget;
  /** ISO 8601, set once by the runner. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly seed: number;
  readonly strict: boolean;
  readonly summary: Readonly<Record<Verdict, number>> & { readonly total: number };
  readonly results: readonly ScenarioResult[];
  readonly requirements: readonly RequirementRollup[];
  readonly bench?: BenchSection;
}

/** A pure renderer of the model. The harness does the file I/O. */
export type ReportWriter = (report: ComplianceReport) => string;

/** The worse of two verdicts. */
export function worse(a: Verdict, b: Verdict): Verdict {
  return verdictRank[a] >= verdictRank[b] ? a : b;
}
