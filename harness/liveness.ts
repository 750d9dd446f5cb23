/**
 * The known-good sanity request: a fresh connection and a minimal Responder request. It runs before the suite
 * (is the target there at all?) and after hostile or failed scenarios, so that a crash or a wedged worker is
 * pinned on the scenario that caused it. @see §6.2 Responder
 */
import type { Address } from '../reference/address.ts';
import { RawConnection, type TranscriptEntry } from '../reference/client/raw-connection.ts';
import { protocolStatusName, FCGI_REQUEST_COMPLETE } from '../spec/constants.ts';
import { parseCgiResponse } from '../reference/cgi.ts';
import { probe } from '../suites/kit.ts';
import { show, makeTimeouts, HarnessConnection } from './context.ts';
import { HarnessError } from './errors.ts';
import type { Target } from './target.ts';

/** What the sanity request needs to know. */
export interface SanityOptions {
  readonly address: Address;
  /** `--param` values; they override the request's own defaults (e.g. SCRIPT_FILENAME). */
  readonly baseParams: Readonly<Record<string, string>>;
  /** Use the probe contract's echo of FCGI_STDIN and check the body. */
  readonly probe: boolean;
  /** How long the whole request may take once connected. */
  readonly timeoutMs: number;
  readonly connectTimeoutMs?: number;
}

export type SanityResult =
  | { readonly ok: true; readonly elapsedMs: number }
  | {
      readonly ok: false;
      /** `connect`: no connection; `reply`: connected, but no good answer. */
      readonly stage: 'connect' | 'reply';
      readonly reason: string;
      /** The sanity connection's traffic, for the error report. */
      readonly entries: readonly TranscriptEntry[];
    };

/** The bytes the probe echo is asked to return; short, and not valid UTF-8 on purpose (binary-safe bodies). */
export const SANITY_BODY = Uint8Array.from([0x66, 0x63, 0x67, 0x69, 0x73, 0x70, 0x65, 0x63, 0x00, 0xff, 0x0a]);

/** Params of the probe contract's echo of FCGI_STDIN (`probe.echoStdin()` of the scenario kit) for a POST body. */
export function probeEchoParams(bodyLength: number): Record<string, string> {
  return {
    REQUEST_METHOD: 'POST',
    CONTENT_TYPE: 'application/octet-stream',
    CONTENT_LENGTH: String(bodyLength),
    ...Object.fromEntries(probe.echoStdin()),
  };
}

const plainParams: Readonly<Record<string, string>> = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_SOFTWARE: 'fcgispec',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  REMOTE_ADDR: '127.0.0.1',
  REQUEST_METHOD: 'GET',
  SCRIPT_NAME: '/',
  REQUEST_URI: '/',
  QUERY_STRING: '',
  CONTENT_LENGTH: '0',
};

/** Sends one sanity request on a fresh connection; never rejects. */
export async function sanityCheck(options: SanityOptions): Promise<SanityResult> {
  let raw: RawConnection;
  try {
    raw = await RawConnection.connect(options.address, { timeoutMs: options.connectTimeoutMs ?? options.timeoutMs });
  } catch (err) {
    return { ok: false, stage: 'connect', reason: `cannot connect: ${err instanceof Error ? err.message : String(err)}`, entries: [] };
  }
  const conn = new HarnessConnection(raw, { index: 0, baseParams: {}, timeouts: makeTimeouts() });
  try {
    const stdin = options.probe ? SANITY_BODY : new Uint8Array(0);
    const params = { ...plainParams, ...(options.probe ? probeEchoParams(stdin.length) : {}), ...options.baseParams };
    await conn.sendRequest({ requestId: 1, params, baseParams: false, stdin });
    const r = await conn.readResponse(1, options.timeoutMs);
    const fail = (reason: string): SanityResult => ({ ok: false, stage: 'reply', reason, entries: raw.transcript });
    if (r.ending === 'timeout') return fail(`no FCGI_END_REQUEST within ${options.timeoutMs} ms (${r.records.length} records for the request)`);
    if (r.ending === 'closed') return fail(`connection closed (${r.closeHow ?? 'end'}) before FCGI_END_REQUEST`);
    if (r.end && r.end.protocolStatus !== FCGI_REQUEST_COMPLETE) {
      return fail(`FCGI_END_REQUEST with ${protocolStatusName(r.end.protocolStatus)}, expected FCGI_REQUEST_COMPLETE`);
    }
    if (options.probe) {
      const parsed = parseCgiResponse(r.stdout);
      if (parsed.kind === 'error') return fail(`the echo response is not a CGI response (${parsed.error.message}): ${show(r.stdout)}`);
      const body = parsed.response.body;
      if (!equalBytes(body, SANITY_BODY)) return fail(`the echo returned ${show(body)}, expected ${show(SANITY_BODY)}`);
    }
    return { ok: true, elapsedMs: r.elapsedMs };
  } finally {
    raw.destroy();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The outcome of waiting for a target to serve again. */
export interface Recovery {
  readonly ok: boolean;
  /** The first attempt's result. */
  readonly first: SanityResult;
  /** The last attempt's result (the first when there was one). */
  readonly last: SanityResult;
  readonly attempts: number;
  /** Milliseconds from the first attempt to the one that succeeded. */
  readonly afterMs: number;
}

/**
 * Sends sanity requests until one succeeds or `windowMs` passes, `intervalMs` apart: a network target that is
 * busy or restarting gets a few seconds before it is declared down. `giveUp` stops early (a spawned process died).
 */
export async function awaitServing(options: SanityOptions, windowMs: number, intervalMs: number, giveUp: () => boolean = () => false): Promise<Recovery> {
  const started = performance.now();
  const first = await sanityCheck(options);
  let last = first;
  let attempts = 1;
  while (!last.ok && performance.now() - started < windowMs && !giveUp()) {
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await sanityCheck(options);
    attempts++;
  }
  return { ok: last.ok, first, last, attempts, afterMs: Math.round(performance.now() - started) };
}

/** The `E_CONNECT` error of a target that did not serve before a run: why, and how a spawned one ended. */
export function unreachableError(target: Target, r: SanityResult): HarnessError {
  const why = r.ok ? 'no answer' : r.reason;
  const exit = target.exited();
  const tail = target.logTail(600).trim().split('\n').slice(-3).join(' | ');
  const extra = `${exit ? `; the process ${exit}` : ''}${tail ? `; its output ends: ${tail}` : ''}`;
  if (!r.ok && r.stage === 'connect') return new HarnessError('E_CONNECT', `target ${target.description} unreachable: ${why}${extra}`);
  return new HarnessError('E_CONNECT', `target ${target.description} does not serve a minimal Responder request: ${why}${extra}`);
}
