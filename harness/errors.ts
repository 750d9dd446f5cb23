/**
 * The harness's one error type. A `Violation` (the target broke a requirement) is not an error: it is a
 * finding recorded through `ctx.check`. A `HarnessError` means we could not run.
 */
export type HarnessErrorCode =
  | 'E_USAGE' // bad command line or configuration → exit 2
  | 'E_CONNECT' // target unreachable before any scenario ran → exit 3
  | 'E_SPAWN' // could not start the spawned target
  | 'E_TIMEOUT' // a deadline passed with no verdict
  | 'E_SCENARIO_CRASH' // a scenario threw something unexpected
  | 'E_REPORT_WRITE'; // a report file could not be written

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  constructor(
    readonly code: HarnessErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Exit codes of every command. */
export const exitCodes = { ok: 0, findings: 1, usage: 2, unreachable: 3 } as const;

/** A usage error: one line on stderr, exit code 2. */
export function usageError(message: string): HarnessError {
  return new HarnessError('E_USAGE', message);
}
