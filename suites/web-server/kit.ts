/**
 * Shared pieces of the web-server scenarios: describing HTTP outcomes, comparing bodies, checking the CGI
 * variables of a request, and the answers the backend gives.
 */
import type { RequirementId } from '../../spec/requirements.ts';
import type { Check } from '../define.ts';
import { describeMismatch, formatSize, preview } from '../kit.ts';
import type { AnswerExchange, HttpOutcome, HttpResponse, RequestTrace, WebServerContext } from './define.ts';

export { formatSize };

/** The requirement ids the scenarios cite most. */
export const R = {
  begin: 'FCGI-5.1-begin-request-starts',
  params: 'FCGI-6.2-responder-params',
  stdin: 'FCGI-6.2-responder-stdin',
  inputs: 'FCGI-6.1-input-streams-sent',
  noNul: 'FCGI-6.1-params-no-nul',
  streamValue: 'FCGI-3.3-stream-value-web-server',
  padding: 'FCGI-3.3-padding-discarded-web-server',
  status: 'FCGI-6.1-status-honoured',
  rejection: 'FCGI-5.5-rejection-handled',
  abort: 'FCGI-5.4-abort-on-client-close',
  unexpected: 'FCGI-X-unknown-app-type-web-server',
  invalidResponse: 'FCGI-X-invalid-response-web-server',
  stallTimeout: 'FCGI-X-stall-timeout-web-server',
} as const satisfies Record<string, RequirementId>;

/** One line for an HTTP outcome: `HTTP 404, 12 bytes, in 3.1 ms`. */
export function describeHttp(o: HttpOutcome): string {
  switch (o.kind) {
    case 'response':
      return `HTTP ${o.status}${o.complete ? '' : ' (cut short)'}, ${formatSize(o.body.length)}${o.body.length > 0 ? ` ${preview(o.body, 40)}` : ''}, in ${o.elapsedMs} ms`;
    case 'error':
      return `no HTTP response: ${o.message} (after ${o.elapsedMs} ms)`;
    case 'timeout':
      return `no whole HTTP response within ${o.elapsedMs} ms${o.partial ? ` (had HTTP ${o.partial.status}, ${formatSize(o.partial.body.length)})` : ''}`;
    case 'aborted':
      return `the HTTP client closed its connection after ${o.elapsedMs} ms`;
  }
}

/** How the response body was delimited, from its headers: the evidence for "complete". */
export function framingOf(o: HttpOutcome): string {
  const res = o.kind === 'response' ? o : o.kind === 'timeout' ? o.partial : undefined;
  if (!res) return 'no response head';
  const h = res.headers;
  const how = h['transfer-encoding'] ? `Transfer-Encoding: ${h['transfer-encoding']}` : h['content-length'] ? `Content-Length: ${h['content-length']}` : 'no length (delimited by the close)';
  return `${how}${h['connection'] ? `, Connection: ${h['connection']}` : ''}${res.complete ? ', the message complete' : ', the message cut short'}`;
}

/** The response when the outcome is one, else undefined. */
export function responseOf(o: HttpOutcome): HttpResponse | undefined {
  return o.kind === 'response' ? o : undefined;
}

/**
 * Checks that the HTTP response is a whole `status` response with exactly `body`; records a violation of
 * `requirement` otherwise. Returns whether it was.
 */
export function expectResponse(check: Check, o: HttpOutcome, status: number, body: Uint8Array, requirement: RequirementId, what: string): boolean {
  if (o.kind !== 'response') return check.that(false, requirement, `${what}: HTTP ${status} with ${formatSize(body.length)}`, describeHttp(o));
  if (!check.that(o.status === status, requirement, `${what}: HTTP status ${status}`, describeHttp(o))) return false;
  if (!check.that(o.complete, requirement, `${what}: the whole response`, describeHttp(o))) return false;
  const mismatch = describeMismatch(o.body, body);
  return check.that(mismatch === undefined, requirement, `${what}: the body the application wrote on FCGI_STDOUT (${formatSize(body.length)})`, `body ${mismatch ?? ''}`);
}

/** Text as bytes. */
export function text(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

/** The one request of a scenario, waited for; a violation of `requirement` when none arrived. */
export async function oneRequest(ctx: WebServerContext, requirement: RequirementId, what: string, timeoutMs?: number): Promise<RequestTrace | undefined> {
  const [trace] = await ctx.waitForRequests(1, timeoutMs);
  if (!trace) ctx.check.violation(requirement, `${what}: a FastCGI request for the HTTP request`, 'no FastCGI request with its tag reached the backend');
  return trace;
}

/** The name of the CGI variable for an HTTP header: `X-Fcgispec-Probe` → `HTTP_X_FCGISPEC_PROBE`. */
export function httpVariable(header: string): string {
  return `HTTP_${header.toUpperCase().replace(/-/g, '_')}`;
}

/** Checks the FastCGI framing of a request that the validator cannot judge alone: PARAMS decoded, STDIN ended. */
export function checkInputs(check: Check, trace: RequestTrace, what: string): void {
  check.that(trace.params !== undefined && trace.paramsError === undefined, 'FCGI-5.2-params-pairs', `${what}: FCGI_PARAMS made of whole name-value pairs, ended by an empty record`, trace.paramsError ?? 'no empty FCGI_PARAMS record');
  check.that(trace.stdinEnded, R.inputs, `${what}: an FCGI_STDIN stream ended by its empty record (also for a request without a body)`, `${trace.stdinRecords} FCGI_STDIN record(s), none empty`);
}

/** Checks that no param name or value holds a NUL byte (a C terminator counted in the length is the usual one). @see §6.1 */
export function checkNoNul(check: Check, trace: RequestTrace): void {
  for (const p of trace.params ?? []) {
    const inName = p.name.includes(0);
    if (inName || p.value.includes(0)) {
      check.violation(R.noNul, 'CGI names and values without NUL bytes', `${inName ? 'name' : 'value'} of ${preview(p.name, 40)} holds a NUL byte: ${preview(p.value, 40)}`);
      return;
    }
  }
}

/** Checks a param's value; a long one is described by its length and first difference. */
export function expectParam(check: Check, trace: RequestTrace, name: string, expected: string, requirement: RequirementId = R.params): boolean {
  const actual = trace.param(name);
  if (actual === expected) return true;
  const cut = (v: string): string => (v.length > 120 ? `${JSON.stringify(v.slice(0, 120))}… (${v.length} chars)` : JSON.stringify(v));
  let got = actual === undefined ? `no ${name}` : `${name}=${cut(actual)}`;
  if (actual !== undefined && (actual.length > 120 || expected.length > 120)) {
    let at = 0;
    while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
    got += `; ${actual.length} chars where ${expected.length} were sent, the first difference at offset ${at}${at === actual.length ? ' (cut short there)' : ''}`;
  }
  return check.that(false, requirement, `${name}=${cut(expected)}`, got);
}

/** Checks that the stdin the server sent equals `body`, and that CONTENT_LENGTH says its length. @see §6.2 */
export function expectStdin(check: Check, trace: RequestTrace, body: Uint8Array, what: string): void {
  if (!trace.stdinKept) {
    check.violation(R.stdin, `${what}: ${formatSize(body.length)} on FCGI_STDIN`, `${trace.stdinBytes} bytes, more than the backend keeps`);
    return;
  }
  const mismatch = describeMismatch(trace.stdin, body);
  check.that(mismatch === undefined, R.stdin, `${what}: the HTTP body, ${formatSize(body.length)}, on FCGI_STDIN`, `FCGI_STDIN ${mismatch ?? ''}`);
  if (body.length > 0) expectParam(check, trace, 'CONTENT_LENGTH', String(body.length));
}

/** An answer that reads all of FCGI_STDIN, then writes `answer` (and records whether STDIN ended). */
export function answerAfterStdin(build: (ex: AnswerExchange) => Parameters<AnswerExchange['writeCgi']>[0], stdinWaitMs = 5000): (ex: AnswerExchange) => Promise<void> {
  return async (ex) => {
    await ex.drainStdin(stdinWaitMs);
    await ex.writeCgi(build(ex));
  };
}

/** Header lines of a plain text answer. */
export const textHeaders: readonly (readonly [string, string])[] = [['Content-Type', 'text/plain']];

/** Waits until the outcome is decided or `ms` passed; resolves undefined on timeout. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}
