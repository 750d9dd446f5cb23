/**
 * Declarative fault injection for the reference responder. Each fault makes the responder deviate in one
 * advertised way, so the suite can prove that a scenario fails against a faulty peer (and that `legal`
 * faults, which only exercise allowed behaviour, pass).
 *
 * `every: N` applies a fault to every Nth event of its scope only: requests (numbered per responder from 1 at
 * each FCGI_BEGIN_REQUEST), or management records for the `management` scope.
 */
import type { RequirementId } from '../../spec/requirements.ts';

/** Where a fault acts. `app` faults are read by the probe app through `request.faults`. */
export type FaultScope = 'request' | 'management' | 'app';

/** One catalog entry. */
export interface FaultInfo {
  readonly description: string;
  /** True when the behaviour is allowed by the spec (the fault only exercises the peer). */
  readonly legal: boolean;
  readonly takesArg: boolean;
  /** Name of the argument in usage text (`MS`, `V`, `BYTES`). */
  readonly argName?: string;
  /** Value used when the argument is left out. */
  readonly defaultArg?: number;
  /** Requirements the fault breaks; empty for a legal fault. */
  readonly breaks: readonly RequirementId[];
  readonly scope: FaultScope;
}

/** Every fault, by name. @see §3.3 §4 §5 §6 for the requirements named in `breaks`. */
export const faultCatalog = {
  'delay': {
    description: 'waits MS milliseconds after FCGI_PARAMS is complete before running the handler',
    legal: true, takesArg: true, argName: 'MS', defaultArg: 1000, breaks: [], scope: 'request',
  },
  'slow-output': {
    description: 'waits MS milliseconds before each output record',
    legal: true, takesArg: true, argName: 'MS', defaultArg: 50, breaks: [], scope: 'request',
  },
  'tiny-writes': {
    description: 'writes each output record in pieces: its first 24 bytes one per write, a tick apart, then the rest',
    legal: true, takesArg: false, breaks: [], scope: 'request',
  },
  'tiny-records': {
    description: 'cuts the first 4 KiB of each output stream into records of N content bytes',
    legal: true, takesArg: true, argName: 'N', defaultArg: 1, breaks: [], scope: 'request',
  },
  'padding-255': {
    description: 'pads every output record with the most padding (248..255 bytes) that keeps 8-byte alignment',
    legal: true, takesArg: false, breaks: [], scope: 'request',
  },
  'stderr-flood': {
    description: 'writes BYTES bytes of FCGI_STDERR before the response',
    legal: true, takesArg: true, argName: 'BYTES', defaultArg: 1024 * 1024, breaks: [], scope: 'request',
  },
  'no-status-header': {
    description: 'the probe app leaves out the CGI Status: line of 200 responses',
    legal: true, takesArg: false, breaks: [], scope: 'app',
  },
  'no-stdout-end': {
    description: 'leaves out the empty FCGI_STDOUT record that ends the stream',
    legal: false, takesArg: false, breaks: ['FCGI-6.1-stdout-sent', 'FCGI-3.3-stream-terminator'], scope: 'request',
  },
  'no-stderr-end': {
    description: 'writes FCGI_STDERR (a line of its own when the app wrote none) and leaves out its empty terminating record',
    legal: false, takesArg: false, breaks: ['FCGI-X-stderr-terminated', 'FCGI-3.3-stream-terminator'], scope: 'request',
  },
  'wrong-request-id': {
    description: 'sends every record of the response on request id + 1',
    legal: false, takesArg: false, breaks: ['FCGI-5.5-end-request-once', 'FCGI-3.3-no-records-after-end'], scope: 'request',
  },
  'wrong-version': {
    description: 'puts version V in the header of every output record',
    legal: false, takesArg: true, argName: 'V', defaultArg: 2, breaks: ['FCGI-3.3-version-1'], scope: 'request',
  },
  'bad-padding': {
    description: 'pads output records so that they are not 8-byte aligned',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-align-8'], scope: 'request',
  },
  'short-padding': {
    description: 'announces one byte more padding than it sends, breaking the record framing',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-records-only'], scope: 'request',
  },
  'nonzero-reserved': {
    description: 'sets the reserved header byte and the reserved bytes of FCGI_END_REQUEST to 0xA5',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-reserved-zero', 'FCGI-5.5-end-reserved-zero'], scope: 'request',
  },
  'duplicate-end-request': {
    description: 'sends FCGI_END_REQUEST twice',
    legal: false, takesArg: false, breaks: ['FCGI-5.5-end-request-once', 'FCGI-3.3-no-records-after-end'], scope: 'request',
  },
  'output-after-end': {
    description: 'sends one more FCGI_STDOUT record after FCGI_END_REQUEST',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-no-records-after-end', 'FCGI-3.3-nothing-after-terminator'], scope: 'request',
  },
  'end-before-stdout': {
    description: 'sends FCGI_END_REQUEST first, then the FCGI_STDOUT and FCGI_STDERR records',
    legal: false, takesArg: false, breaks: ['FCGI-6.2-end-after-output', 'FCGI-3.3-no-records-after-end'], scope: 'request',
  },
  'no-end-request': {
    description: 'never sends FCGI_END_REQUEST (the streams are still terminated)',
    legal: false, takesArg: false, breaks: ['FCGI-5.5-end-request-once'], scope: 'request',
  },
  'wrong-app-status': {
    description: 'reports appStatus + 1 instead of the status the application ended with',
    legal: false, takesArg: false, breaks: ['FCGI-6.2-app-status-exit'], scope: 'request',
  },
  'close-mid-record': {
    description: 'closes the connection after writing half of the first output record',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-records-only', 'FCGI-5.5-end-request-once'], scope: 'request',
  },
  'ignore-abort': {
    description: 'ignores FCGI_ABORT_REQUEST: the request runs to its normal end',
    legal: false, takesArg: false, breaks: ['FCGI-5.4-abort-ends-request'], scope: 'request',
  },
  'reset-on-abort': {
    description: 'answers FCGI_ABORT_REQUEST by resetting the connection',
    legal: false, takesArg: false, breaks: ['FCGI-5.4-abort-ends-request'], scope: 'request',
  },
  'ignore-keep-conn': {
    description: 'closes the connection after the request even when FCGI_KEEP_CONN is set',
    legal: false, takesArg: false, breaks: ['FCGI-5.1-keep-conn-set-stays-open'], scope: 'request',
  },
  'never-close': {
    description: 'keeps the connection open after a request without FCGI_KEEP_CONN',
    legal: false, takesArg: false, breaks: ['FCGI-5.1-keep-conn-clear-closes'], scope: 'request',
  },
  'wrong-unknown-role': {
    description: 'serves a request of an unknown role as a Responder instead of answering FCGI_UNKNOWN_ROLE',
    legal: false, takesArg: false, breaks: ['FCGI-5.1-unknown-role'], scope: 'request',
  },
  'no-cant-mpx': {
    description: 'claims FCGI_MPXS_CONNS=0 yet serves a second concurrent request instead of answering FCGI_CANT_MPX_CONN',
    legal: false, takesArg: false, breaks: ['FCGI-5.5-cant-mpx-conn', 'FCGI-4.1-mpxs-conns'], scope: 'request',
  },
  'lie-mpxs': {
    description: 'claims FCGI_MPXS_CONNS=1 but answers a second concurrent request with FCGI_CANT_MPX_CONN',
    legal: false, takesArg: false, breaks: ['FCGI-4.1-mpxs-conns'], scope: 'request',
  },
  'no-unknown-type': {
    description: 'ignores management records of unknown types instead of answering FCGI_UNKNOWN_TYPE',
    legal: false, takesArg: false, breaks: ['FCGI-4.2-unknown-type-reply'], scope: 'management',
  },
  'no-get-values': {
    description: 'ignores FCGI_GET_VALUES',
    legal: false, takesArg: false, breaks: ['FCGI-4.1-get-values-answered', 'FCGI-4.1-get-values-any-time'], scope: 'management',
  },
  'echo-wrong': {
    description: 'the probe app corrupts one byte of every response body',
    legal: false, takesArg: false, breaks: ['FCGI-3.3-stream-value-app'], scope: 'app',
  },
} as const satisfies Record<string, FaultInfo>;

export type FaultName = keyof typeof faultCatalog;
export const faultNames = Object.keys(faultCatalog) as FaultName[];

/** A fault to inject. */
export interface Fault {
  readonly name: FaultName;
  /** The fault's argument; its catalog `defaultArg` when left out. */
  readonly arg?: number;
  /** Apply to every Nth event of the fault's scope only (1 = always, the default). */
  readonly every?: number;
}

/** Thrown by `parseFault` and `validateFaults`; the message is one line meant for users. */
export class FaultError extends Error {
  override readonly name = 'FaultError';
}

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(faultCatalog, name);
}

/** Parses `NAME`, `NAME=ARG`, optionally followed by `@N` (every Nth event), e.g. `delay=200@10`. */
export function parseFault(text: string): Fault {
  const m = /^([a-z0-9-]+)(?:=([0-9]+))?(?:@([0-9]+))?$/.exec(text.trim());
  const name = m?.[1];
  if (!m || name === undefined) throw new FaultError(`fault "${text}": expected NAME[=ARG][@N]`);
  if (!isFaultName(name)) throw new FaultError(`unknown fault "${name}"; known: ${faultNames.join(', ')}`);
  const fault: Fault = {
    name,
    ...(m[2] === undefined ? {} : { arg: Number(m[2]) }),
    ...(m[3] === undefined ? {} : { every: Number(m[3]) }),
  };
  validateFaults([fault]);
  return fault;
}

/** The text `parseFault` reads back: `NAME[=ARG][@N]`. */
export function formatFault(fault: Fault): string {
  return `${fault.name}${fault.arg === undefined ? '' : `=${fault.arg}`}${fault.every === undefined || fault.every === 1 ? '' : `@${fault.every}`}`;
}

/** Checks names, arguments and `every`; throws `FaultError` for the first problem. */
export function validateFaults(faults: readonly Fault[]): void {
  for (const f of faults) {
    if (!isFaultName(f.name)) throw new FaultError(`unknown fault "${String(f.name)}"`);
    const info: FaultInfo = faultCatalog[f.name];
    if (f.arg !== undefined) {
      if (!info.takesArg) throw new FaultError(`fault "${f.name}" takes no argument`);
      if (!Number.isSafeInteger(f.arg) || f.arg < 0) throw new FaultError(`fault "${f.name}": argument must be a non-negative integer`);
    }
    if (f.every !== undefined && (!Number.isSafeInteger(f.every) || f.every < 1)) {
      throw new FaultError(`fault "${f.name}": every must be a positive integer`);
    }
  }
}

/** The faults in force for one request (or one management record). */
export class ActiveFaults {
  /** No fault: the fast path checks `any` only. */
  static readonly none = new ActiveFaults(new Map());
  readonly #args: ReadonlyMap<FaultName, number | undefined>;
  readonly any: boolean;

  constructor(args: ReadonlyMap<FaultName, number | undefined>) {
    this.#args = args;
    this.any = args.size > 0;
  }

  has(name: FaultName): boolean {
    return this.any && this.#args.has(name);
  }

  /** The argument of an active fault (its default when none was given), or undefined if the fault is not active. */
  arg(name: FaultName): number | undefined {
    if (!this.has(name)) return undefined;
    const info: FaultInfo = faultCatalog[name];
    return this.#args.get(name) ?? info.defaultArg;
  }

  /** Names of the active faults. */
  names(): FaultName[] {
    return [...this.#args.keys()];
  }
}

/** Draws the faults of each event from the configured list, counting events per scope. */
export class FaultPlan {
  readonly #byScope: ReadonlyMap<FaultScope, readonly Fault[]>;
  readonly #counts = new Map<FaultScope, number>();
  readonly #configured: ReadonlySet<FaultName>;

  constructor(faults: readonly Fault[]) {
    validateFaults(faults);
    const byScope = new Map<FaultScope, Fault[]>();
    for (const f of faults) {
      // App faults are read by the app per request, so they are drawn with the request's.
      const scope = faultCatalog[f.name].scope === 'management' ? 'management' : 'request';
      byScope.set(scope, [...(byScope.get(scope) ?? []), f]);
    }
    this.#byScope = byScope;
    this.#configured = new Set(faults.map((f) => f.name));
  }

  /** Whether a fault is configured at all (regardless of `every`). */
  configured(name: FaultName): boolean {
    return this.#configured.has(name);
  }

  /** The faults of the next event of `scope` (the next request, or the next management record). */
  draw(scope: 'request' | 'management'): ActiveFaults {
    const list = this.#byScope.get(scope);
    if (!list) return ActiveFaults.none;
    const n = (this.#counts.get(scope) ?? 0) + 1;
    this.#counts.set(scope, n);
    const args = new Map<FaultName, number | undefined>();
    for (const f of list) if (n % (f.every ?? 1) === 0) args.set(f.name, f.arg);
    return args.size === 0 ? ActiveFaults.none : new ActiveFaults(args);
  }
}
