/**
 * What a web-server scenario is: the harness plays the FastCGI application behind a web server under test,
 * sends HTTP requests through it, records every FastCGI record the server sends, answers as the scenario
 * scripts, and checks the HTTP response that comes back. The parallel of `Scenario` in `suites/define.ts`
 * for the other side of the protocol; it shares `Check`, `Timeouts` and the verdict semantics.
 * @see §5 §6.1 §6.2
 */
import type { NameValuePair } from '../../reference/codec/name-value.ts';
import type { FcgiRequest, FcgiResponse } from '../../reference/responder/types.ts';
import type { Fault } from '../../reference/responder/faults.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import type { Check, Timeouts } from '../define.ts';

/** An HTTP request a scenario sends to the web server; its path is `/fcgispec/<scenario id>/<n>` under the trigger URL. */
export interface HttpRequestPlan {
  /** Default GET. */
  readonly method?: string;
  /** The query string, without `?`. */
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body, sent with Content-Length unless `chunks` is given. */
  readonly body?: Uint8Array;
  /** Send the body with Transfer-Encoding: chunked, in pieces of these sizes (cycled). */
  readonly chunks?: readonly number[];
  /** Announce the whole body but send only this many bytes of it, then close the connection. */
  readonly stopAfter?: number;
  /** How long to wait for the whole response (default `timeouts.replyMs` × 5). */
  readonly timeoutMs?: number;
}

/** An HTTP response, as far as it came. */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** The message arrived whole (its Content-Length, or its last chunk); false when the server cut it short. */
  readonly complete: boolean;
}

/** What came of an HTTP request. Errors and timeouts are values, not rejections. */
export type HttpOutcome =
  | ({ readonly kind: 'response'; readonly elapsedMs: number } & HttpResponse)
  /** The connection failed or closed before a response head (a reset, a refused connection). */
  | { readonly kind: 'error'; readonly message: string; readonly elapsedMs: number }
  /** No (whole) response within the time; `partial` holds what had come. */
  | { readonly kind: 'timeout'; readonly elapsedMs: number; readonly partial?: HttpResponse }
  /** The scenario closed the connection on purpose (`HttpHandle.abort`, `stopAfter`). */
  | { readonly kind: 'aborted'; readonly elapsedMs: number };

/** An HTTP request in flight. */
export interface HttpHandle {
  /** The path sent, with its tag: `/…/fcgispec/<scenario id>/<n>`. */
  readonly path: string;
  /** The tag number `n`: FastCGI requests carrying it belong to this HTTP request. */
  readonly n: number;
  readonly done: Promise<HttpOutcome>;
  /** Resolves with the status once the response head has arrived, or undefined when the request ended without one. */
  readonly head: Promise<number | undefined>;
  /** Closes the HTTP connection now (the HTTP client goes away). */
  abort(): void;
}

/** How a FastCGI request ended, from the application's side. */
export type RequestEnding =
  | { readonly kind: 'end-request'; readonly atMs: number; readonly protocolStatus: number; readonly appStatus: number }
  | { readonly kind: 'abort-request'; readonly atMs: number }
  | { readonly kind: 'closed'; readonly atMs: number; readonly by: 'web-server' | 'backend' };

/**
 * One FastCGI request as the backend received it. Times are milliseconds since the backend started; the
 * object keeps growing while the request is active.
 */
export interface RequestTrace {
  /** Backend connection number (run-wide, from 0). */
  readonly conn: number;
  readonly requestId: number;
  readonly role: number;
  readonly flags: number;
  readonly keepConn: boolean;
  readonly beginAtMs: number;
  /** Requests active on its connection when it began, itself included. */
  readonly activeOnConnection: number;
  /** The params once FCGI_PARAMS ended (undefined before, or when it did not decode). */
  readonly params: readonly NameValuePair[] | undefined;
  readonly paramsError: string | undefined;
  readonly paramsRecords: number;
  readonly paramsBytes: number;
  readonly stdinRecords: number;
  readonly stdinBytes: number;
  /** The FCGI_STDIN bytes, kept up to a bound (`stdinKept` false past it). */
  readonly stdin: Uint8Array;
  readonly stdinKept: boolean;
  readonly stdinEnded: boolean;
  readonly dataRecords: number;
  /** Records of this request, FCGI_BEGIN_REQUEST included, and how many were not 8-byte aligned (§3.3). */
  readonly records: number;
  readonly unalignedRecords: number;
  /** The scenario tag found in REQUEST_URI (or SCRIPT_NAME, DOCUMENT_URI, SCRIPT_FILENAME, PATH_INFO). */
  readonly tag: { readonly scenario: string; readonly n: number } | undefined;
  /** When FCGI_ABORT_REQUEST came, if it did. */
  readonly abortAtMs: number | undefined;
  readonly ending: RequestEnding | undefined;
  /** A param's value as text, the last one of that name. */
  param(name: string): string | undefined;
}

/** Options of a CGI response written by `AnswerExchange.writeCgi`. */
export interface CgiAnswer {
  /** Adds `Status: <status>`; left out when undefined. */
  readonly status?: string;
  /** Header lines in order (Content-Type is not added for you). */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Uint8Array | string;
  /** Cut the whole output into writes of these sizes (cycled), each its own FCGI_STDOUT record. */
  readonly pieces?: readonly number[];
  readonly appStatus?: number;
}

/** One request a scenario answers: the responder's request and response, plus the wire underneath. */
export interface AnswerExchange {
  readonly trace: RequestTrace;
  readonly request: FcgiRequest;
  readonly response: FcgiResponse;
  /** Aborted on FCGI_ABORT_REQUEST, when the connection closes, or when the scenario ends. */
  readonly signal: AbortSignal;
  /** Reads FCGI_STDIN to its end (bounded by `timeoutMs`): true when the empty FCGI_STDIN record came. */
  drainStdin(timeoutMs?: number): Promise<boolean>;
  /** Writes a CGI response on FCGI_STDOUT and ends the request. */
  writeCgi(answer: CgiAnswer): Promise<void>;
  /** Writes bytes as they are, in order with the responder's output (records built by the scenario). */
  writeRaw(bytes: Uint8Array): void;
  /** From now on, drops whatever the responder itself sends for this request (the scenario writes it all raw). */
  takeOver(): void;
  /** Closes the connection once the output written so far has gone out. */
  close(): void;
}

/** How the backend answers a scenario's requests. */
export type AnswerHandler = (exchange: AnswerExchange) => Promise<void>;

/** What a web-server scenario runs against. */
export interface WebServerContext {
  readonly timeouts: Timeouts;
  readonly check: Check;
  /** Aborted when the watchdog fires. */
  readonly signal: AbortSignal;
  /** Sets how the backend answers this scenario's requests (default: a small 200 response after the whole STDIN). */
  answer(handler: AnswerHandler): void;
  /** Sends an HTTP request through the web server and waits for the outcome. */
  http(plan?: HttpRequestPlan): Promise<HttpOutcome>;
  /** Sends an HTTP request and returns at once. */
  startHttp(plan?: HttpRequestPlan): HttpHandle;
  /** The FastCGI requests this scenario's HTTP requests caused, in the order they began. */
  requests(): readonly RequestTrace[];
  /** Waits until `count` requests of this scenario have their FCGI_PARAMS complete; returns those there are. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RequestTrace[]>;
  /** Waits until the request has ended (FCGI_END_REQUEST sent, FCGI_ABORT_REQUEST, or a close); false at the deadline. */
  waitForEnding(trace: RequestTrace, timeoutMs: number): Promise<boolean>;
  /** Management records the web server sent since the backend started. */
  management(): readonly { readonly type: number; readonly conn: number; readonly atMs: number; readonly names: readonly string[] }[];
  /** Sleeps, noted in the transcript; resolves early when the watchdog fires. */
  sleep(ms: number): Promise<void>;
  /** A line in the transcript. */
  note(text: string): void;
  /** Ends the scenario as `skip`. */
  skip(reason: string): never;
  /** Seeded random integers in [min, max]. */
  randomInt(min: number, max: number): number;
}

/** A scenario of the web-server (client) suite. */
export interface WebServerScenario {
  /** Stable, hand-written, `area.name[.variant]`. */
  readonly id: `${string}.${string}`;
  readonly title: string;
  readonly requirements: readonly [RequirementId, ...RequirementId[]];
  /** Responder faults applied to every FastCGI request that begins while the scenario runs. */
  readonly faults?: readonly Fault[];
  /** Watchdog deadline in ms before scaling (default 15 000). */
  readonly timeoutMs?: number;
  run(ctx: WebServerContext): Promise<void>;
}

/** Identity, for inference and one place to validate. */
export function defineWebServerScenario<const S extends WebServerScenario>(scenario: S): S {
  return scenario;
}

/** The report group of every web-server scenario. */
export const WEB_SERVER_GROUP = 'web-server';
