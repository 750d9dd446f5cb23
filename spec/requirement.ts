/**
 * The shape of one catalog entry. The catalog itself is `spec/requirements.ts`.
 *
 * The FastCGI 1.0 specification (1996) predates RFC 2119, so `level` is this project's reading of its prose.
 */

/** Which peer a requirement binds. */
export type Side = 'application' | 'web-server' | 'both';

/**
 * - `must`: the spec states a rule or a mandatory behaviour; breaking it is a `fail`.
 * - `should`: a recommendation, or a duty implied but not stated; breaking it is a `warn` (`fail` under `--strict`).
 * - `may`: a permitted option; never a failure, observed and recorded.
 * - `info`: a value or behaviour the spec leaves open; recorded as an observation.
 */
export type Level = 'must' | 'should' | 'may' | 'info';

/** How a scenario can check a requirement. */
export type CheckMethod =
  | 'bytes' // decidable on captured bytes alone (the codec validator)
  | 'probe-app' // the harness acts as web server against an application
  | 'probe-web-server' // the harness acts as application behind a web server
  | 'process' // needs control of process spawning (fd 0, argv, environment)
  | 'untestable'; // cannot be observed on the wire; `how` says why

export interface Requirement {
  /** Section number of the FastCGI 1.0 specification, e.g. `3.3` or `A`. */
  readonly section: string;
  readonly side: Side;
  readonly level: Level;
  /** One line on why this level was chosen, where the spec's wording is soft. */
  readonly levelReason?: string;
  /** The specification's sentence(s), quoted verbatim. Copyright (c) 1996 Open Market, Inc. */
  readonly quote: string;
  /** The requirement in our words. */
  readonly summary: string;
  readonly check: CheckMethod;
  /** How a scenario checks it, or why it cannot be checked. */
  readonly how: string;
  /** The id in `shared/reference/requirements.md` this entry corresponds to, when it does. */
  readonly draftIds?: readonly string[];
}
